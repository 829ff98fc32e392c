"""Figures for the notebooks and runs (matplotlib + seaborn). Every figure is titled and labelled.

Each function returns the ``matplotlib.figure.Figure`` so a notebook shows it and a script can
``save_figure`` it; none calls ``plt.show()``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns


def save_figure(fig, path: str | os.PathLike, dpi: int = 90) -> Path:
    """Save compactly (PNG, modest dpi) and close, so committed notebooks and docs stay small."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def _show(ax, img: np.ndarray, title: str = "", color: str = "black") -> None:
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=255 if img.dtype == np.uint8 else 1)
    else:
        ax.imshow(img)
    ax.set_title(title, fontsize=8, color=color)
    ax.set_xticks([])
    ax.set_yticks([])


def _image_axes(n: int, cols: int, cell: tuple[float, float]):
    """A figure of ``n`` image panels in rows of ``cols`` (spare panels blanked), and those ``n`` axes."""
    rows = max(1, int(np.ceil(n / cols)))
    # constrained layout keeps each row's captions clear of the row above (tight_layout did not)
    fig, axes = plt.subplots(rows, cols, figsize=(cell[0] * cols, cell[1] * rows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, list(axes.flat[:n])


def sample_grid(images: np.ndarray, labels: np.ndarray, class_names: Sequence[str], per_class: int = 8,
                seed: int = 0, title: str = "Random samples per class"):
    """``per_class`` random images of every class, one row per class."""
    rng = np.random.default_rng(seed)
    n = len(class_names)
    fig, axes = plt.subplots(n, per_class, figsize=(1.4 * per_class, 1.5 * n), squeeze=False)
    for r, name in enumerate(class_names):
        idx = np.flatnonzero(np.asarray(labels) == r)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else []
        for c in range(per_class):
            ax = axes[r, c]
            if c < len(pick):
                _show(ax, images[pick[c]])
            else:
                ax.axis("off")
            if c == 0:
                ax.set_ylabel(name, fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_counts(table: pd.DataFrame, title: str = "Images per class"):
    """Bar chart of loadable images per class (the class balance)."""
    ok = table[table["status"] == "ok"] if "status" in table else table
    counts = ok["class_name"].value_counts().sort_index()
    fig, ax = plt.subplots(figsize=(5, 3))
    sns.barplot(x=counts.index, y=counts.values, ax=ax, color="steelblue")
    for i, v in enumerate(counts.values):
        ax.text(i, v, str(v), ha="center", va="bottom", fontsize=9)
    ax.set(title=title, xlabel="class", ylabel="images")
    fig.tight_layout()
    return fig


def size_histograms(table: pd.DataFrame, title: str = "Image sizes"):
    """Width, height and aspect-ratio distributions per class."""
    ok = (table[table["status"] == "ok"] if "status" in table else table).copy()
    ok["aspect (w/h)"] = ok["width"] / ok["height"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    for ax, col, xlabel in zip(axes, ["width", "height", "aspect (w/h)"],
                               ["width (px)", "height (px)", "width / height"]):
        sns.histplot(data=ok, x=col, hue="class_name", ax=ax, bins=30, element="step", fill=False)
        ax.set(title=f"{col} distribution", xlabel=xlabel, ylabel="images")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def training_curves(history: pd.DataFrame, title: str = "Training curves", lr_schedule=None,
                    steps_per_epoch: int | None = None):
    """Loss and accuracy (train vs validation) per epoch, with the learning rate.

    The learning rate logged at each epoch's end hides a warm-up shorter than an epoch or two; pass the
    Keras ``lr_schedule`` (a schedule object or a constant) and ``steps_per_epoch`` to draw it per step,
    on the same epoch axis, with the logged values on top."""
    h = history
    x = h["epoch"] + 1 if "epoch" in h else np.arange(1, len(h) + 1)
    has_lr = "lr" in h or lr_schedule is not None
    panels = [("loss", "loss"), ("accuracy", "accuracy")] + ([("lr", "learning rate")] if has_lr else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 3.2))
    for ax, (key, label) in zip(axes, panels):
        if key == "lr" and lr_schedule is not None and steps_per_epoch:
            steps = np.arange(0, int(steps_per_epoch) * len(h) + 1)
            values = (np.asarray([float(lr_schedule(int(t))) for t in steps]) if callable(lr_schedule)
                      else np.full(len(steps), float(lr_schedule)))
            ax.plot(steps / steps_per_epoch, values, lw=1.2, label="per step (schedule)")
            if "lr" in h:
                ax.plot(x, h["lr"], "o", ms=3, label="logged at epoch end")
            ax.set_ylim(0, 1.1 * max(values.max(), float(h["lr"].max()) if "lr" in h else 0))
        else:
            ax.plot(x, h[key], marker="o", ms=3, label="train" if key != "lr" else "lr")
            if f"val_{key}" in h:
                ax.plot(x, h[f"val_{key}"], marker="o", ms=3, label="validation")
        if key == "accuracy":
            ax.set_ylim(0, 1.02)
        elif key == "loss":
            ax.set_ylim(0, None)
        ax.set(title=label, xlabel="epoch", ylabel=label)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(evaluation, title: str = "Confusion matrix (test set)"):
    """Counts and row-normalised (% of the true class) side by side."""
    cm = evaluation.confusion
    names = evaluation.class_names
    norm = 100 * cm / np.maximum(1, cm.sum(axis=1, keepdims=True))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    sns.heatmap(cm, annot=True, fmt="d", cmap="Blues", xticklabels=names, yticklabels=names, ax=axes[0],
                cbar_kws={"label": "images"})
    sns.heatmap(norm, annot=True, fmt=".0f", cmap="Blues", xticklabels=names, yticklabels=names,
                ax=axes[1], vmin=0, vmax=100, cbar_kws={"label": "% of true class"})
    axes[0].set(title="counts", xlabel="predicted (ai)", ylabel="true (label)")
    axes[1].set(title="% of the true class", xlabel="predicted (ai)", ylabel="true (label)")
    fig.suptitle(f"{title} — accuracy {100 * evaluation.accuracy:.1f} %")
    fig.tight_layout()
    return fig


def error_gallery(x: np.ndarray, evaluation, n: int = 12, cols: int = 6,
                  title: str = "Misclassified test images"):
    """The report's gallery: each error captioned ``ai = X (x) / label = Y``, most confident first."""
    wrong = evaluation.misclassified()
    fig, axes = _image_axes(min(n, len(wrong)), cols, (2.0, 2.8))
    for k, ax in enumerate(axes):
        r = wrong.iloc[k]
        _show(ax, x[int(r["index"])], f"ai = {r['predicted']} (x)\nlabel = {r['true']}", color="crimson")
        ax.set_xlabel(f"confidence {r['confidence']:.2f}", fontsize=8)
    fig.suptitle(f"{title} ({len(wrong)} errors of {len(evaluation.y_true)})")
    return fig


def prediction_grid(x: np.ndarray, evaluation, n: int = 10, cols: int = 5, seed: int = 0,
                    title: str = "10 test predictions"):
    """The report's grid: random test images captioned ``ai = X (o)`` when right, ``(x)`` when wrong."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(evaluation.y_true), size=min(n, len(evaluation.y_true)), replace=False)
    fig, axes = _image_axes(len(idx), cols, (2.1, 2.2))
    names = evaluation.class_names
    for i, ax in zip(idx, axes):
        ok = evaluation.y_pred[i] == evaluation.y_true[i]
        _show(ax, x[i], f"ai = {names[evaluation.y_pred[i]]} ({'o' if ok else 'x'})\n"
                        f"label = {names[evaluation.y_true[i]]}", color="darkgreen" if ok else "crimson")
    right = int(sum(evaluation.y_pred[idx] == evaluation.y_true[idx]))
    fig.suptitle(f"{title}: {right}/{len(idx)} right (o = right, x = wrong)")
    return fig


def excitation_plot(stats: pd.DataFrame, depths: Sequence[int] | None = None, max_channels: int = 64,
                    cols: int = 3, title: str = "SE excitation per class and depth (cf. the paper's Fig. 6)"):
    """Mean gate per channel, one line per class, one panel per chosen SE block (the paper's Fig. 6).

    ``depths`` defaults to an early, a middle and the last block. Shows the first ``max_channels``
    channels of each block (as the paper's Fig. 6 does) so the per-class lines stay readable; where
    they coincide the block is class-agnostic. The y axis is the gate's whole range, 0 to 1, and the
    legend sits below the panels, off the data."""
    all_depths = sorted(stats["depth"].unique())
    if depths is None:
        depths = sorted({all_depths[0], all_depths[len(all_depths) // 2], all_depths[-1]})
    rows = int(np.ceil(len(depths) / cols))
    ncols = min(cols, len(depths))
    fig, axes = plt.subplots(rows, ncols, figsize=(4.6 * ncols, 2.9 * rows + 0.6), squeeze=False,
                             layout="constrained")
    for ax, d in zip(axes.flat, depths):
        g = stats[(stats["depth"] == d) & (stats["channel"] < max_channels)]
        for name, gc in g.groupby("class", sort=False):
            ax.plot(gc["channel"], gc["mean"], lw=1.0, label=name)
        n_ch = int(stats[stats["depth"] == d]["channel"].max()) + 1
        ax.set(title=f"{g['block'].iloc[0]} (SE block {d + 1} of {len(all_depths)}, "
                     f"{min(n_ch, max_channels)} of {n_ch} ch.)",
               xlabel="channel index", ylabel="mean gate (per class)")
        ax.set_ylim(0, 1.02 if g["mean"].max() <= 1 else None)
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(depths):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig


def gate_depth_figure(table: pd.DataFrame, untrained: pd.DataFrame | None = None, pooled: bool = False,
                      title: str = "SE gates by depth: class-specificity against chance, and saturation"):
    """Two panels from :func:`selib.analysis.gate_stats.depth_table` rows (one per SE block).

    Left: class-specificity of the trained network per block — the mean η² over channels, or with
    ``pooled`` the pooled η² (``eta2_pooled`` against ``pooled_null_*``) — with its permutation null
    band (min to max over label shuffles) and, if given, the same statistic for the untrained network
    (``untrained``'s rows, or with ``pooled`` the table's own ``untrained_eta2_pooled`` column).
    Right: the share of gate values below 0.05 and above 0.95 per block. Both y axes start at 0.
    """
    eta, lo, hi = ("eta2_pooled", "pooled_null_lo", "pooled_null_hi") if pooled else ("eta2", "null_lo", "null_hi")
    base = (untrained[eta] if untrained is not None else
            table["untrained_eta2_pooled"] if pooled and "untrained_eta2_pooled" in table else None)
    x = np.arange(1, len(table) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    ax1.fill_between(x, table[lo], table[hi], color="grey", alpha=0.3, label="permutation null (labels shuffled)")
    ax1.plot(x, table[eta], "o-", color="C0", label="trained network")
    if base is not None:
        ax1.plot(x, base, "s--", color="C1", label="untrained network (same architecture)")
    what = "pooled η² (all channels' variance)" if pooled else "mean η² over channels"
    ax1.set(title="class-specificity (between-class share of gate variance)", xlabel="SE block (shallow → deep)",
            ylabel=what, ylim=(0, 1))
    ax2.plot(x, 100 * table["share_low"], "v-", color="C3", label="gates < 0.05 (channel off)")
    ax2.plot(x, 100 * table["share_high"], "^-", color="C2", label="gates > 0.95 (passed through)")
    ax2.set(title="saturation of the gates", xlabel="SE block (shallow → deep)",
            ylabel="% of gate values (images × channels)", ylim=(0, 100))
    labels = table["se_block"] if "se_block" in table else x
    for ax in (ax1, ax2):
        ax.set_xticks(x, labels, fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(title)
    return fig


def gradcam_overlay(x: np.ndarray, cams: np.ndarray, captions: Sequence[str] | None = None, cols: int = 5,
                    title: str = "Grad-CAM: where the network looks"):
    """Each image with its Grad-CAM heat map on top (red = most evidence for the predicted class).

    Grad-CAM maps have no common unit across images, so each is normalised to its own maximum (1) —
    the colour bar says so; compare where the heat lies, not how hot it is between panels."""
    fig, axes = _image_axes(len(x), cols, (2.2, 2.3))
    im = None
    for k, ax in enumerate(axes):
        _show(ax, x[k], captions[k] if captions else "")
        im = ax.imshow(cams[k], cmap="jet", alpha=0.4, vmin=0, vmax=1)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.7, label="evidence (1 = the image's maximum)")
    fig.suptitle(title)
    return fig


def bar_with_errors(df: pd.DataFrame, x: str, y: str = "mean", err: str = "std", title: str = "",
                    xlabel: str = "", ylabel: str = "test accuracy (%)", ax=None):
    """Bars with ±1 std error bars (the ablation plots)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(df)), 3.2))
    else:
        fig = ax.figure
    ax.bar(df[x].astype(str), df[y], yerr=df[err], capsize=4, color="steelblue", alpha=0.85)
    # bars start at zero: a bar's length is its value, so a cut axis would exaggerate differences
    ax.set_ylim(0, min(100, float((df[y] + df[err].fillna(0)).max()) * 1.08))
    ax.set(title=title, xlabel=xlabel or x, ylabel=ylabel)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
