"""Statistics for comparing training runs honestly: paired seeds, intervals, many comparisons.

Two runs that differ only in one switch (SE on/off) and share a seed share the data order, the
augmentation draws and most of the initial weights, so their accuracies are correlated. The
difference *within* a seed is therefore far less noisy than the difference of two unpaired
means — which is why everything here pairs by seed. With a handful of seeds the sampling
distribution of the mean difference is a t with n-1 degrees of freedom, not a normal, and when
several variants are compared with one reference the chance of one false "win" grows with
their number, hence Holm's correction. Pure numpy/scipy/pandas: nothing from selib is imported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = ["PairedDiff", "binomial_se", "paired_difference", "holm", "effect_verdict",
           "compare_to_reference"]

_BOOTSTRAP_SEED = 0  # fixed, so a bootstrap interval is the same on every rerun


@dataclass(frozen=True)
class PairedDiff:
    """The mean of per-seed differences a - b with its uncertainty.

    ``se`` is always the analytic sd/sqrt(n) of the differences, so the two ``method`` s differ
    only in the interval ``lo``..``hi``. ``p`` is the two-sided paired t-test in both methods.
    """

    mean: float
    se: float
    lo: float
    hi: float
    n: int
    p: float
    confidence: float
    method: str = "t"

    @property
    def halfwidth(self) -> float:
        """Half the interval's width: the "±" of "mean ± halfwidth"."""
        return (self.hi - self.lo) / 2


def binomial_se(accuracy: float, n: int) -> float:
    """Standard error sqrt(p(1-p)/n) of an accuracy measured on ``n`` independent test images.

    ``accuracy`` is a fraction in 0..1 and the result is a fraction too (multiply by 100 for
    percentage points). It is the noise of *one* test-set measurement — the floor below which no
    difference between two models can be resolved on this test set, whatever the seeds say.
    """
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in 0..1, got {accuracy!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1 test image, got {n!r}")
    return float(np.sqrt(accuracy * (1.0 - accuracy) / n))


def _differences(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.size} and {b.size}")
    if a.size < 1:
        raise ValueError("need at least 1 pair of values")
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        raise ValueError("paired values must be finite (drop failed runs before pairing)")
    return a - b


def _interval(d: np.ndarray, confidence: float, method: str) -> tuple[float, float]:
    if method == "t":
        half = _st.t.ppf((1 + confidence) / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
        return d.mean() - half, d.mean() + half
    # Percentile bootstrap of the mean of the *differences*: resampling d resamples whole seeds,
    # which keeps the pairing. With very few seeds it is too narrow (it cannot see beyond the
    # values it has), which is why "t" is the default.
    res = _st.bootstrap((d,), np.mean, confidence_level=confidence, method="percentile",
                        rng=np.random.default_rng(_BOOTSTRAP_SEED))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95,
                      method: str = "t") -> PairedDiff:
    """Mean difference a - b over paired seeds (same index = same seed), with CI and p-value.

    n = 1 gives se, interval and p of NaN: one pair says nothing about the spread. When all
    differences are equal the spread is 0, the interval collapses to the mean and the t-test is
    undefined; p is then set to 1.0 if the mean is 0 (nothing differs) and 0.0 otherwise (every
    seed differs by exactly the same amount) — the limit of the t-test as the spread goes to 0.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    if method not in ("t", "bootstrap"):
        raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")
    d = _differences(a, b)
    mean, n = float(d.mean()), int(d.size)
    if n == 1:
        return PairedDiff(mean, np.nan, np.nan, np.nan, n, np.nan, confidence, method)
    if np.ptp(d) == 0:
        return PairedDiff(mean, 0.0, mean, mean, n, 1.0 if mean == 0 else 0.0, confidence, method)
    lo, hi = _interval(d, confidence, method)
    p = float(_st.ttest_1samp(d, 0.0).pvalue)
    return PairedDiff(mean, float(d.std(ddof=1) / np.sqrt(n)), float(lo), float(hi), n, p,
                      confidence, method)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values, in the original order.

    Step-down: the i-th smallest of m p-values is multiplied by (m - i), i = 0.., then a running
    maximum keeps the adjusted values monotone, and they are capped at 1. It controls the chance
    of any false positive as Bonferroni does, but rejects more. NaN p-values (comparisons that
    could not be made) stay NaN and do not count toward m.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError("p-values must lie in 0..1")
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(ok)[np.argsort(p[ok], kind="stable")]
    m = idx.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[idx])
    out[idx] = np.minimum(adjusted, 1.0)
    return out


def _level(confidence: float) -> str:
    return f"{confidence * 100:g} %"


def effect_verdict(diff: PairedDiff, what: str = "SE", unit: str = "points",
                   resolution: float | None = None) -> str:
    """A one-line verdict read off the confidence interval, never off the mean alone.

    An interval that excludes 0 is a help or a hurt; one that straddles 0 is reported as an upper
    bound on the effect, which is what such an experiment can honestly claim. ``resolution``
    (optional, in ``unit``) is the smallest difference the measurement can resolve — e.g.
    100 * :func:`binomial_se` of the test set; a significant mean below it gets a caveat.
    """
    if diff.n < 2:
        return (f"{what}: one seed cannot give an interval (difference {diff.mean:.1f} {unit}, "
                f"n = {diff.n}); run more paired seeds")
    ci = f"{_level(diff.confidence)} CI {diff.lo:.1f} to {diff.hi:.1f}, n = {diff.n} paired seeds"
    if diff.lo > 0 or diff.hi < 0:
        verb = "helps" if diff.lo > 0 else "hurts"
        text = f"{what} {verb} by {abs(diff.mean):.1f} ± {diff.halfwidth:.1f} {unit} ({ci})"
        if resolution is not None and abs(diff.mean) < resolution:
            text += f" — but below the measurement resolution of ±{resolution:.1f} {unit}"
        return text
    bound = max(abs(diff.lo), abs(diff.hi))
    return f"no effect larger than ±{bound:.1f} {unit} at this scale ({ci})"


def _check_columns(df: pd.DataFrame, *cols: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"the table has no column(s) {missing}; it has {list(df.columns)}")
    if df.duplicated([cols[1], cols[2]]).any():
        raise ValueError(f"each ({cols[1]}, {cols[2]}) must occur once; pairing would be ambiguous")


def _pair(df: pd.DataFrame, value: str, label: str, seed: str, variant, reference,
          confidence: float) -> PairedDiff | None:
    # a failed run (NaN) drops its pair instead of failing the whole comparison
    arm = lambda lab: df.loc[df[label] == lab, [seed, value]].dropna()  # noqa: E731
    both = arm(variant).merge(arm(reference), on=seed, suffixes=("_v", "_r")).sort_values(seed)
    if both.empty:
        return None
    return paired_difference(both[f"{value}_v"], both[f"{value}_r"], confidence)


def compare_to_reference(df: pd.DataFrame, value: str = "accuracy", label: str = "label",
                         seed: str = "seed", reference: str | None = None,
                         confidence: float = 0.95) -> pd.DataFrame:
    """Every variant against the reference, paired on shared seeds, Holm-corrected across variants.

    ``df`` is long: one row per variant × seed. ``reference`` defaults to the first label in the
    table. A variant is paired with the reference only on the seeds both have (inner join), so a
    missing or failed run drops one pair rather than shifting the pairing. ``value`` is taken as
    higher-is-better ("better" = larger); negate a loss first. ``mean`` is the variant's mean over
    all its runs. The reference row has diff 0, NaN interval and p, and verdict "reference";
    a variant with no shared seed gets verdict "no shared seeds".
    """
    _check_columns(df, value, label, seed)
    labels = list(pd.unique(df[label]))
    reference = labels[0] if reference is None else reference
    if reference not in labels:
        raise ValueError(f"reference {reference!r} is not among the labels {labels}")
    means = df.groupby(label, sort=False)[value].mean()
    rows = []
    for lab in labels:
        d = None if lab == reference else _pair(df, value, label, seed, lab, reference, confidence)
        n = int((df[label] == reference).sum()) if lab == reference else (d.n if d else 0)
        rows.append({"label": lab, "n_pairs": n, "mean": float(means[lab]),
                     "diff": 0.0 if lab == reference else (d.mean if d else np.nan),
                     "diff_lo": d.lo if d else np.nan, "diff_hi": d.hi if d else np.nan,
                     "p": d.p if d else np.nan})
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p"].to_numpy())
    out["significant"] = out["p_holm"] < 1 - confidence
    out["verdict"] = [_short_verdict(r, reference) for r in out.itertuples(index=False)]
    return out


def _short_verdict(row, reference) -> str:
    if row.label == reference:
        return "reference"
    if row.n_pairs == 0:
        return "no shared seeds"
    if row.significant:
        return "better" if row.diff > 0 else "worse"
    return "no clear difference"
