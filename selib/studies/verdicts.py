"""Verdicts read off confidence intervals: each variant against its study's reference.

Every comparison is a *paired* difference over seeds (same seed = same split, batch order and
augmentation in both arms), with a 95 % t-interval; the p-values of one study's comparisons are
Holm-corrected, because with five variants the chance that one of them "wins" by luck is far
above 5 %. The verdict sentence comes from the interval (:func:`selib.analysis.stats.effect_verdict`),
never from the order of the means, and :func:`resolution` says how finely the test set itself
can measure an accuracy at all.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from selib.analysis.stats import (PairedDiff, binomial_se, compare_to_reference, effect_verdict,
                                  paired_difference)
from selib.studies.study import Study

__all__ = ["resolution", "compare", "verdict_lines", "overview"]


def resolution(accuracy_pct: float, n_test: int) -> float:
    """The binomial standard error, in points, of one accuracy measured on ``n_test`` images.

    At 90 % on 2,000 images it is 0.67 points (one image is 0.05): no single run can be read
    more finely than this, whatever the seeds say.
    """
    return 100 * binomial_se(min(max(accuracy_pct / 100, 0.0), 1.0), int(n_test))


def _diff(row) -> PairedDiff:
    """The PairedDiff behind one row of :func:`compare_to_reference` (interval, n, p)."""
    return PairedDiff(mean=row.diff, se=math.nan, lo=row.diff_lo, hi=row.diff_hi, n=int(row.n_pairs),
                      p=row.p, confidence=0.95)


def _sentence(row, study: Study, n_compared: int, res: float | None) -> str:
    if row.label == study.reference:
        return "reference"
    what = f"{row.label} (vs {study.reference})"
    if row.n_pairs == 0:
        return f"{what}: no seed with a finished run in both arms, nothing to compare"
    text = effect_verdict(_diff(row), what=what, resolution=res)
    if text.startswith("no effect"):
        text = f"{what}: {text}"
    elif row.n_pairs >= 2 and not row.significant and n_compared > 1:
        text += f"; not significant after Holm's correction for {n_compared} comparisons"
    return text


def compare(results: pd.DataFrame, study: Study, confidence: float = 0.95,
            no_se: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per variant: paired difference to the reference with CI, Holm p, and a verdict.

    ``results`` is :func:`~selib.studies.study.run_study`'s table (one row per variant × seed).
    Columns: ``label, n_pairs, mean, diff, diff_lo, diff_hi, p, p_holm, significant, verdict``
    (``verdict`` is the one-line sentence) and ``resolution`` (binomial SE of the mean accuracy
    on this test set, points). Rows follow the study's order, reference first.

    ``no_se`` (the no-SE arm's rows, ``seed`` and ``accuracy``, trained on the same seeds) adds
    every arm's paired difference to no SE, the reference's included: ``vs_no_se``,
    ``vs_no_se_lo``, ``vs_no_se_hi`` and the sentence ``verdict_no_se``. A variant that "helps"
    against a reference that itself trails no SE may only be restoring the plain network.
    """
    table = compare_to_reference(results, value="accuracy", label="label", seed="seed",
                                 reference=study.reference, confidence=confidence)
    order = [label for label in study.labels if label in set(table["label"])]
    table = table.set_index("label").loc[order].reset_index()
    n_test = int(results["n_test"].max()) if "n_test" in results and len(results) else 0
    table["resolution"] = [resolution(m, n_test) if n_test and np.isfinite(m) else np.nan
                           for m in table["mean"]]
    n_compared = int(table["p"].notna().sum())
    table["verdict"] = [_sentence(r, study, n_compared, None if np.isnan(r.resolution) else r.resolution)
                        for r in table.itertuples(index=False)]
    if no_se is not None and study.reference != NO_SE:     # the SE study *is* the comparison with no SE
        table = _against_no_se(table, results, no_se, confidence)
    return table


NO_SE = "no SE"


def _against_no_se(table: pd.DataFrame, results: pd.DataFrame, no_se: pd.DataFrame,
                   confidence: float) -> pd.DataFrame:
    """Each arm's paired difference to the no-SE arm (uncorrected 95 % interval) and its verdict."""
    base = no_se[["seed", "accuracy"]].dropna().rename(columns={"accuracy": "base"})
    diffs, lo, hi, text = [], [], [], []
    for label in table["label"]:
        arm = results.loc[results["label"] == label, ["seed", "accuracy"]].dropna()
        both = arm.merge(base, on="seed").sort_values("seed")
        if label == NO_SE or len(both) == 0:
            diffs.append(np.nan), lo.append(np.nan), hi.append(np.nan)
            text.append("" if label == NO_SE else f"{label} vs {NO_SE}: no shared seeds")
            continue
        d = paired_difference(both["accuracy"], both["base"], confidence)
        diffs.append(d.mean), lo.append(d.lo), hi.append(d.hi)
        verdict = effect_verdict(d, what=f"{label} (vs {NO_SE})")
        text.append(verdict if not verdict.startswith("no effect") else f"{label} (vs {NO_SE}): {verdict}")
    return table.assign(vs_no_se=diffs, vs_no_se_lo=lo, vs_no_se_hi=hi, verdict_no_se=text)


def verdict_lines(comparison: pd.DataFrame) -> str:
    """The study's verdicts, one line per variant (the reference left out); with the no-SE
    columns, each arm's reading against no SE below it, the reference's first."""
    lines = []
    extra = "verdict_no_se" in comparison
    for r in comparison.itertuples(index=False):
        if r.verdict != "reference":
            lines.append(f"- {r.verdict}")
        if extra and r.verdict_no_se:
            lines.append(f"    against no SE: {r.verdict_no_se}" if r.verdict != "reference"
                         else f"- the reference, {r.verdict_no_se}")
    return "\n".join(lines)


def overview(comparisons: dict[str, pd.DataFrame], studies: dict[str, Study]) -> pd.DataFrame:
    """All studies at a glance: one row per comparison with its interval and Holm decision."""
    rows = []
    for name, table in comparisons.items():
        for r in table.itertuples(index=False):
            if r.label == studies[name].reference:
                continue
            rows.append({"study": name, "variant": r.label, "reference": studies[name].reference,
                         "pairs": int(r.n_pairs), "diff": r.diff, "ci_lo": r.diff_lo, "ci_hi": r.diff_hi,
                         "p_holm": r.p_holm, "significant": bool(r.significant),
                         "vs no SE": getattr(r, "vs_no_se", np.nan),
                         "vs no SE lo": getattr(r, "vs_no_se_lo", np.nan),
                         "vs no SE hi": getattr(r, "vs_no_se_hi", np.nan)})
    return pd.DataFrame(rows, columns=["study", "variant", "reference", "pairs", "diff", "ci_lo",
                                       "ci_hi", "p_holm", "significant", "vs no SE", "vs no SE lo",
                                       "vs no SE hi"])
