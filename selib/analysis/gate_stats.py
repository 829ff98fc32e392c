"""Statistics of SE gate activations: is a block class-agnostic or class-specific?

The SE paper (Sec. 7.2, Fig. 6) reads the mean excitation per class and says early blocks are
class-agnostic, later ones class-specific. Plots of class means cannot tell a real difference
from sampling noise, so here each channel's gate is split like a one-way ANOVA: the share of its
variance across images that lies *between* classes (η²). Averaged over channels it gives one
number per block, and a permutation null (labels shuffled) says how large that number gets by
chance alone with this many images and classes. Pure numpy/scipy/pandas: nothing from selib.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = ["eta_squared", "pooled_eta_squared", "class_specificity", "between_class_variance",
           "permutation_null", "saturation", "depth_table", "specificity_trend"]

RISE = 0.5  # Spearman ρ at or above which specificity is said to rise with depth (below -RISE: fall)


def _check(gates: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g, y = np.asarray(gates, dtype=float), np.asarray(labels).ravel()
    if g.ndim != 2:
        raise ValueError(f"gates must be (N images, C channels), got shape {g.shape}")
    if y.shape[0] != g.shape[0]:
        raise ValueError(f"{g.shape[0]} images of gates but {y.shape[0]} labels")
    if not np.all(np.isfinite(g)):
        raise ValueError("gates must be finite")
    return g, y


def _sums_of_squares(g: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel: (SS_between, SS_total) of a one-way ANOVA over the images."""
    classes, inv = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError("need images of at least 2 classes to split variance between classes")
    counts = np.bincount(inv).astype(float)
    sums = np.zeros((classes.size, g.shape[1]))
    np.add.at(sums, inv, g)
    grand = g.mean(axis=0)
    ss_between = (counts[:, None] * (sums / counts[:, None] - grand) ** 2).sum(axis=0)
    ss_total = ((g - grand) ** 2).sum(axis=0)
    return ss_between, ss_total


def pooled_eta_squared(gates: np.ndarray, labels: np.ndarray) -> float:
    """Σ SS_between / Σ SS_total over all channels: η² weighted by each channel's variance.

    :func:`class_specificity` averages η² over channels, so a nearly saturated channel whose gate
    moves by 10⁻⁴ counts as much as one that swings from 0 to 1. The pooled value counts each
    channel by how much its gate actually varies; NaN if no channel varies at all.
    """
    g, y = _check(gates, labels)
    ss_between, ss_total = _sums_of_squares(g, y)
    total = ss_total.sum()
    return float(min(1.0, ss_between.sum() / total)) if total > 0 else float("nan")


def eta_squared(gates: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per channel, η² = SS_between / SS_total of the gate across images (one-way ANOVA).

    0 means the class tells nothing about the gate, 1 that the gate is a function of the class.
    A channel whose gate is constant over all images gives NaN: it carries no class information
    and has no variance to split, so neither 0 nor 1 would be true. Returns shape (C,).
    """
    g, y = _check(gates, labels)
    ss_between, ss_total = _sums_of_squares(g, y)
    constant = np.ptp(g, axis=0) == 0  # exact test: float noise must not fake a tiny variance
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = np.minimum(ss_between / ss_total, 1.0)   # rounding can put SS_between a hair above SS_total
    eta[constant] = np.nan
    return eta


def between_class_variance(gates: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per channel, SS_between / N: how far the class means of the gate spread (shape (C,)).

    It is each channel's share of the numerator of :func:`pooled_eta_squared`, so ordering the
    channels by it puts first the channels that carry the block's pooled class signal — the order
    in which a figure of the class means shows what the pooled statistic measures.
    """
    g, y = _check(gates, labels)
    return _sums_of_squares(g, y)[0] / len(y)


def class_specificity(gates: np.ndarray, labels: np.ndarray) -> float:
    """Mean η² over channels, ignoring constant (NaN) channels; NaN if every channel is constant."""
    eta = eta_squared(gates, labels)
    return float(np.nanmean(eta)) if np.any(~np.isnan(eta)) else float("nan")


_STATISTICS = {"mean": class_specificity, "pooled": pooled_eta_squared}


def permutation_null(gates: np.ndarray, labels: np.ndarray, n_permutations: int = 20,
                     seed: int = 0, statistic: str = "mean") -> np.ndarray:
    """:func:`class_specificity` (``statistic="mean"``) or :func:`pooled_eta_squared`
    (``"pooled"``) with the labels shuffled, one value per permutation.

    This is the band expected from chance alone. It is not near 0 with few images per class:
    under the null E[η²] = (k - 1)/(N - 1) for k classes and N images (exact in expectation over
    permutations), e.g. 0.09 for 10 classes × 10 images. A fixed ``seed`` makes it reproducible.
    """
    g, y = _check(gates, labels)
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(_STATISTICS)}, got {statistic!r}")
    stat, rng = _STATISTICS[statistic], np.random.default_rng(seed)
    return np.array([stat(g, rng.permutation(y)) for _ in range(n_permutations)])


def saturation(gates: np.ndarray, low: float = 0.05, high: float = 0.95) -> dict[str, float]:
    """How saturated the gates are (values assumed in 0..1, as a sigmoid gives).

    ``share_low`` / ``share_high``: share of all gate values (images × channels) below ``low`` /
    above ``high``. ``off_channels`` / ``on_channels``: share of channels whose *mean* gate is
    below ``low`` (switched off) / above ``high`` (passed through unchanged, as the paper finds
    for the last blocks).
    """
    g = np.asarray(gates, dtype=float)
    if g.ndim != 2:
        raise ValueError(f"gates must be (N images, C channels), got shape {g.shape}")
    if not 0 <= low < high <= 1:
        raise ValueError(f"need 0 <= low < high <= 1, got low={low}, high={high}")
    m = g.mean(axis=0)
    return {"share_low": float(np.mean(g < low)), "share_high": float(np.mean(g > high)),
            "off_channels": float(np.mean(m < low)), "on_channels": float(np.mean(m > high))}


def depth_table(gates_per_block: Sequence[np.ndarray], labels: np.ndarray,
                names: Sequence[str] | None = None, n_permutations: int = 20,
                seed: int = 0) -> pd.DataFrame:
    """One row per SE block, in order: class-specificity against its permutation null, saturation.

    ``eta2`` is :func:`class_specificity` (mean η² over channels, the statistic the null is for);
    ``eta2_pooled`` is :func:`pooled_eta_squared`, which discounts channels whose gate barely moves,
    with its own null band ``pooled_null_*`` and test ``pooled_above_null`` (same shuffles).

    ``null_lo`` / ``null_hi`` are the min / max of the permutation null (not percentiles: 20
    permutations have no meaningful 2.5 % tail). ``above_null`` = eta2 > null_hi, a one-sided
    permutation test at level 1/(n_permutations + 1), about 0.05 for 20. Every block uses the
    same ``seed``, so all blocks are tested against the same label shuffles.
    """
    names = [f"block{i}" for i in range(len(gates_per_block))] if names is None else list(names)
    if len(names) != len(gates_per_block):
        raise ValueError(f"{len(names)} names for {len(gates_per_block)} blocks")
    rows = []
    for depth, (name, g) in enumerate(zip(names, gates_per_block)):
        eta, null = class_specificity(g, labels), permutation_null(g, labels, n_permutations, seed)
        pooled = pooled_eta_squared(g, labels)
        pnull = permutation_null(g, labels, n_permutations, seed, statistic="pooled")
        sat = saturation(g)
        rows.append({"block": name, "depth": depth, "channels": int(np.shape(g)[1]), "eta2": eta,
                     "eta2_pooled": pooled,
                     "null_mean": float(null.mean()), "null_lo": float(null.min()),
                     "null_hi": float(null.max()), "above_null": bool(eta > null.max()),
                     "pooled_null_mean": float(pnull.mean()), "pooled_null_lo": float(pnull.min()),
                     "pooled_null_hi": float(pnull.max()), "pooled_above_null": bool(pooled > pnull.max()),
                     "share_low": sat["share_low"], "share_high": sat["share_high"],
                     "off_channels": sat["off_channels"], "on_channels": sat["on_channels"]})
    return pd.DataFrame(rows)


def _ranges(depths: Sequence[int]) -> str:
    """[0, 1, 2, 5] -> "0–2, 5": consecutive depths written as a range."""
    parts, start = [], None
    for i, d in enumerate(depths):
        start = d if start is None else start
        if i + 1 == len(depths) or depths[i + 1] != d + 1:
            parts.append(str(d) if d == start else f"{start}–{d}")
            start = None
    return ", ".join(parts)


def _null_phrase(above: list[int], below: list[int]) -> str:
    if not above:
        return "no block is above the permutation null"
    if not below:
        return "all blocks are above the permutation null"
    word = lambda xs: "block" if len(xs) == 1 else "blocks"  # noqa: E731
    return (f"{word(above)} {_ranges(above)} {'is' if len(above) == 1 else 'are'} above the "
            f"permutation null, {word(below)} {_ranges(below)} {'is' if len(below) == 1 else 'are'} not")


def _paper_phrase(rises: bool, above: list[int], depths: list[int]) -> str:
    if not rises:
        return "unlike the paper's Fig. 6"
    if not above:
        return "but no block exceeds chance, so this does not support the paper's Fig. 6"
    if depths[0] not in above and depths[-1] in above:
        return "as the paper's Fig. 6 describes"
    if len(above) == len(depths):
        return "only partly as the paper's Fig. 6 describes (the early blocks are not class-agnostic)"
    return "only partly as the paper's Fig. 6 describes"


def _trend(depths: list[int], excess: np.ndarray) -> tuple[str, float]:
    """The trend phrase and Spearman ρ (NaN when the excess cannot be ranked)."""
    if np.any(np.isnan(excess)):
        return "cannot be ranked with depth (a block has only constant gates)", float("nan")
    if np.ptp(excess) == 0:
        return "does not change with depth (Spearman ρ undefined)", float("nan")
    rho = float(_st.spearmanr(depths, excess).statistic)
    word = "rises" if rho >= RISE else "falls" if rho <= -RISE else "does not rise"
    return f"{word} with depth (Spearman ρ = {rho:.2f})", rho


_COLUMNS = {"mean": ("eta2", "null_mean", "above_null"),
            "pooled": ("eta2_pooled", "pooled_null_mean", "pooled_above_null")}


def specificity_trend(table: pd.DataFrame, statistic: str = "mean") -> str:
    """A verdict sentence on the paper's claim, computed from a :func:`depth_table`.

    The trend is the Spearman ρ of (eta2 - null_mean) with depth — excess over chance, so a
    change in the null cannot pose as a trend; "rises" needs ρ >= RISE (0.5). With few blocks ρ
    is coarse (3 blocks allow only ±1 and ±0.5), so the sentence also names which blocks beat
    their null band, and claims agreement with Fig. 6 only if the first block does not and the
    last does. Fewer than 3 blocks: too few to judge. ``statistic="pooled"`` reads the pooled
    η² columns (``eta2_pooled`` against ``pooled_null_*``) instead.
    """
    if statistic not in _COLUMNS:
        raise ValueError(f"statistic must be one of {sorted(_COLUMNS)}, got {statistic!r}")
    eta_col, null_col, above_col = _COLUMNS[statistic]
    if len(table) < 3:
        return f"Too few blocks ({len(table)}) to judge a trend of class-specificity with depth."
    depths = [int(d) for d in table["depth"]]
    excess = (table[eta_col] - table[null_col]).to_numpy(dtype=float)
    above = [d for d, a in zip(depths, table[above_col]) if a]
    below = [d for d in depths if d not in above]
    trend, rho = _trend(depths, excess)
    if np.any(np.isnan(excess)):  # no trend was measured: neither agreement nor disagreement
        return (f"Class-specificity {trend}: {_null_phrase(above, below)} — so the paper's Fig. 6 "
                "cannot be tested on these gates.")
    rises = rho >= RISE
    return (f"Class-specificity {trend}: {_null_phrase(above, below)} — "
            f"{_paper_phrase(rises, above, depths)}.")
