"""The paper's Fig. 6, drawn so that it shows what its statistic measures.

The paper plots the mean gate per class over the first channels of a block, in index order. In a
trained block most channels are pinned (the same gate for every image), and the few that carry the
class signal are lost among them. :func:`class_means_figure` orders each block's channels by their
between-class variance — the numerator of the pooled η² — so the class-specific channels come first
and the pinned ones last. :func:`depth_figure` plots the pooled η² against depth over several
trained models with their permutation-null band.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["class_means_figure", "depth_figure"]


def _panel(ax, g: np.ndarray, y: np.ndarray, class_names: Sequence[str], title: str) -> None:
    """One block: class-mean gates with channels ordered by between-class variance (rank 1 first)."""
    from selib.analysis.gate_stats import between_class_variance, pooled_eta_squared

    bcv = between_class_variance(g, y)
    order = np.argsort(-bcv, kind="stable")
    ranks = np.arange(1, g.shape[1] + 1)
    for k, name in enumerate(class_names):
        if np.any(y == k):
            ax.plot(ranks, g[y == k][:, order].mean(axis=0), lw=1.0, label=name)
    share = np.cumsum(bcv[order]) / bcv.sum() if bcv.sum() > 0 else np.zeros(len(order))
    top = int(np.searchsorted(share, 0.8) + 1) if bcv.sum() > 0 else 0
    if top:
        ax.axvspan(0.5, top + 0.5, color="grey", alpha=0.15, lw=0)
        ax.text(top + 0.5, 1.0, f" {top} ch.: 80 % of the\n between-class variance", fontsize=7, va="top")
    eta = pooled_eta_squared(g, y)
    ax.set(title=f"{title} · pooled η² {eta:.2f}", xlabel="channel, ordered by between-class variance",
           ylabel="mean gate (per class)", ylim=(0, 1.02), xlim=(0.5, g.shape[1] + 0.5))
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)


def class_means_figure(gates: Sequence[np.ndarray], labels: np.ndarray, block_titles: Sequence[str],
                       class_names: Sequence[str], cols: int = 3,
                       title: str = "Mean SE gate per class, channels ordered by between-class variance"):
    """One panel per block: the class-mean gate of every channel, channels ranked by the spread of
    their class means (the between-class variance that the pooled η² sums), so the class-specific
    channels sit on the left and channels pinned at one value for every image on the right. The
    shaded span holds the fewest channels that carry 80 % of the block's between-class variance."""
    y = np.asarray(labels)
    y = y.argmax(axis=1) if y.ndim == 2 else y.astype(int)
    n = len(gates)
    ncols = min(cols, n)
    rows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(rows, ncols, figsize=(4.6 * ncols, 3.0 * rows + 0.6), squeeze=False,
                             layout="constrained")
    for ax, g, t in zip(axes.flat, gates, block_titles):
        _panel(ax, np.asarray(g, float), y, class_names, t)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig


def depth_figure(table: pd.DataFrame, live: pd.DataFrame | None = None, live_label: str = "this notebook's model",
                 title: str = "Pooled class-specificity of the SE gates by depth, over trained models"):
    """Pooled η² per SE block (x: the blocks in depth order, named SE_stage_block).

    ``table`` has one row per (model, block) — :attr:`selib.analysis.fig6.Fig6.table` — with columns
    ``seed``, ``depth``, ``se_block``, ``eta2_pooled``, ``pooled_null_lo``/``_hi`` and
    ``untrained_eta2_pooled``. Each model is a thin line, their mean a thick one, the grey band spans
    every model's permutation null (lowest low to highest high), the dashed line is the untrained
    networks' mean. ``live`` (a :func:`selib.analysis.fig6.model_table` of another network, which
    may have other blocks) is drawn on its own axis beside it. The y axis is η²'s whole range, 0–1.
    """
    from selib.analysis.fig6 import fig6_summary

    s = fig6_summary(table)
    panels = 2 if live is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.6 * panels, 3.8), squeeze=False, layout="constrained")
    ax = axes[0, 0]
    x = np.arange(1, len(s) + 1)
    ax.fill_between(x, s["null_lo"], s["null_hi"], color="grey", alpha=0.3, label="permutation null (all models)")
    for seed, t in table.sort_values("depth").groupby("seed"):
        ax.plot(x[: len(t)], t["eta2_pooled"], "-", color="C0", lw=0.8, alpha=0.6)
    ax.plot([], [], "-", color="C0", lw=0.8, alpha=0.6, label="one trained model (seed)")
    n = int(s["models"].max())
    ax.plot(x, s["eta2_mean"], "o-", color="C0", lw=2.2, label=f"mean of {n} model{'s' if n != 1 else ''}")
    if s["untrained_mean"].notna().any():
        ax.plot(x, s["untrained_mean"], "s--", color="C1", label="untrained networks (mean)")
    ax.set(xticks=x, xticklabels=s["se_block"], ylim=(0, 1), xlabel="SE block (shallow → deep)",
           ylabel="pooled η² (between-class share)", title="recorded models")
    if live is not None:
        lx = np.arange(1, len(live) + 1)
        bx = axes[0, 1]
        bx.fill_between(lx, live["pooled_null_lo"], live["pooled_null_hi"], color="grey", alpha=0.3,
                        label="permutation null")
        bx.plot(lx, live["eta2_pooled"], "o-", color="C2", label=live_label)
        if "untrained_eta2_pooled" in live and live["untrained_eta2_pooled"].notna().any():
            bx.plot(lx, live["untrained_eta2_pooled"], "s--", color="C1", label="untrained copy")
        bx.set(xticks=lx, xticklabels=live["se_block"], ylim=(0, 1), xlabel="SE block (shallow → deep)",
               ylabel="pooled η² (between-class share)", title=live_label)
        bx.tick_params(axis="x", labelsize=8, rotation=45)
    for a in axes.flat:
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="upper left")
    fig.suptitle(title)
    return fig
