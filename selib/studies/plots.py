"""Charts of a study that show the evidence as it is.

Two honest forms, never a bar chart whose axis starts at 60 %:

* :func:`plot_differences` — the claim itself: each variant's paired difference to the
  reference, one dot per seed, the mean with its 95 % interval, and the zero line. An interval
  that crosses zero is visibly "no resolved effect".
* :func:`plot_accuracy` — the raw accuracies, one dot per run, on the full 0–100 % axis with
  the chance level, so a 1-point gap looks like the 1 point it is.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from selib.studies.study import Study

__all__ = ["paired_table", "plot_differences", "plot_accuracy", "plot_study", "plot_tradeoff"]


def paired_table(results: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Per-seed differences ``variant - reference`` (points): rows = seeds, columns = variants."""
    wide = results.pivot_table(index="seed", columns="label", values="accuracy", aggfunc="first")
    ref = wide[study.reference]
    others = [label for label in study.labels if label != study.reference and label in wide]
    return wide[others].sub(ref, axis=0)


def _axes(ax, size: tuple[float, float]):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=size)
    return ax.figure, ax


def plot_differences(results: pd.DataFrame, comparison: pd.DataFrame, study: Study, ax=None,
                     title: str | None = None):
    """Paired difference to the reference per variant: seeds as dots, mean ± 95 % CI, zero line.

    The mean is red where the difference survives Holm's correction, blue where it does not."""
    diffs = paired_table(results, study)
    fig, ax = _axes(ax, (6.4, 1.6 + 0.55 * max(1, diffs.shape[1])))
    rows = comparison.set_index("label")
    for k, label in enumerate(diffs.columns):
        d = diffs[label].dropna().to_numpy()
        jitter = np.linspace(-0.12, 0.12, len(d)) if len(d) > 1 else np.zeros(len(d))
        ax.scatter(d, k + jitter, s=14, color="0.55", zorder=2, label="one seed" if k == 0 else None)
        r = rows.loc[label]
        if np.isfinite(r["diff_lo"]):
            ax.errorbar(r["diff"], k, xerr=[[r["diff"] - r["diff_lo"]], [r["diff_hi"] - r["diff"]]],
                        fmt="o", color="C3" if r["significant"] else "C0", capsize=4, zorder=3,
                        label="mean, 95 % CI" if k == 0 else None)
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(range(diffs.shape[1]), diffs.columns)
    ax.set_ylim(diffs.shape[1] - 0.4, -0.6)                          # first variant on top
    span = float(np.nanmax(np.abs(np.r_[diffs.to_numpy().ravel(), rows["diff_lo"], rows["diff_hi"]]))) \
        if diffs.size else 1.0
    ax.set_xlim(-1.15 * max(span, 0.5), 1.15 * max(span, 0.5))      # symmetric: 0 in the middle
    n = int(diffs.notna().sum().min()) if diffs.size else 0
    head = f"{study.title}\n" if title is None else title
    ax.set(title=f"{head}paired difference to {study.reference} ({n} seeds)",
           xlabel=f"test accuracy minus {study.reference} (percentage points)", ylabel=study.xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    return fig


def plot_accuracy(results: pd.DataFrame, study: Study, chance: float | None = 25.0, ax=None,
                  title: str | None = None):
    """Test accuracy of every run on the full 0–100 % axis: one dot per seed, the mean as a bar."""
    fig, ax = _axes(ax, (1.6 + 0.9 * len(study.labels), 3.2))
    for k, label in enumerate(study.labels):
        acc = results.loc[results["label"] == label, "accuracy"].dropna().to_numpy()
        if len(acc):
            ax.scatter(np.full(len(acc), k) + np.linspace(-0.15, 0.15, len(acc)), acc, s=12, color="0.45",
                       zorder=2, label="one seed" if k == 0 else None)
            ax.hlines(acc.mean(), k - 0.3, k + 0.3, color="C0", lw=2.5, zorder=3,
                      label="mean" if k == 0 else None)
    if chance is not None:
        ax.axhline(chance, color="0.6", ls="--", lw=1, label=f"chance ({chance:g} %)")
    ax.set_xticks(range(len(study.labels)), study.labels)
    ax.set(ylim=(0, 100), title=f"{study.title}: test accuracy per run" if title is None else title,
           xlabel=study.xlabel,
           ylabel="test accuracy (%)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    return fig


def plot_study(results: pd.DataFrame, comparison: pd.DataFrame, study: Study):
    """Both views side by side: the raw accuracies (left) and the paired differences (right)."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 1.6 + 0.6 * max(3, len(study.labels))),
                                      gridspec_kw={"width_ratios": [1, 1.3]})
    plot_accuracy(results, study, ax=left, title="every run's test accuracy")
    plot_differences(results, comparison, study, ax=right, title="")
    fig.suptitle(study.title)
    fig.tight_layout()
    return fig


def plot_tradeoff(tradeoff: pd.DataFrame, target: float | None = 2.0, budget_min: float | None = None,
                  variant: str = "SE", reference: str = "no SE"):
    """A :func:`~selib.studies.budget.seed_tradeoff` table against training minutes.

    Left: the half-width of the paired difference's 95 % interval after 2, 3, ... seeds, with
    the ``±target`` the study aims for (from 0, so a halving looks like one). Right: both arms'
    mean accuracy on the full 0–100 % axis, so that the reader sees the seeds buy precision, not
    accuracy."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    t = tradeoff
    left.plot(t["minutes"], t["halfwidth"], "o-", color="C0", label=f"{variant} − {reference}: ± of the 95 % CI")
    for _, row in t.iterrows():
        left.annotate(f"{int(row['seeds'])} seeds", (row["minutes"], row["halfwidth"]),
                      textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    if target is not None:
        left.axhline(target, color="0.3", ls=":", label=f"target ±{target:g} points")
    left.set(ylim=(0, 1.15 * max(float(t["halfwidth"].max()), target or 0)),
             ylabel="half-width of the 95 % CI (points)", title="interval width after each pair of seeds")
    right.plot(t["minutes"], t["reference mean"], "o-", color="0.45", label=reference)
    right.plot(t["minutes"], t["variant mean"], "s-", color="C0", label=variant)
    right.axhline(25, color="0.6", ls="--", lw=1, label="chance (25 %)")
    right.set(ylim=(0, 100), ylabel="mean test accuracy (%)", title="mean accuracy over the seeds so far")
    for ax in (left, right):
        if budget_min is not None:
            ax.axvline(budget_min, color="C3", ls="--", lw=1, label=f"{budget_min:g}-min budget")
        ax.set_xlabel("training minutes spent (both arms, cumulative)")
        ax.set_xlim(0, 1.08 * max(float(t["minutes"].max()), budget_min or 0))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8, framealpha=0.8)
    fig.suptitle("What each pair of seeds bought: precision, at a price in minutes")
    fig.tight_layout()
    return fig
