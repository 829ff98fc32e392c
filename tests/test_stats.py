"""selib.analysis.stats against hand-computed values and constructed data a wrong method fails on."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from selib.analysis.stats import (PairedDiff, binomial_se, compare_to_reference, effect_verdict, holm,
                                  paired_difference)


def test_binomial_se_is_the_resolution_of_a_test_set():
    assert binomial_se(0.9, 2000) == pytest.approx(math.sqrt(0.9 * 0.1 / 2000))   # 0.0067
    assert 100 * binomial_se(0.5, 2000) == pytest.approx(1.118, abs=1e-3)        # worst case
    assert binomial_se(1.0, 50) == 0.0
    with pytest.raises(ValueError, match="fraction"):
        binomial_se(90.0, 2000)                        # percent instead of a fraction
    with pytest.raises(ValueError, match="at least 1"):
        binomial_se(0.5, 0)


def test_paired_t_interval_and_p_by_hand():
    # d = 1, 2, 3: mean 2, sd 1, se 1/sqrt(3), t(0.975, 2) = 4.302653
    d = paired_difference([11, 12, 13], [10, 10, 10])
    half = 4.302653 / math.sqrt(3)
    assert (d.mean, d.n, d.se) == (pytest.approx(2.0), 3, pytest.approx(1 / math.sqrt(3)))
    assert (d.lo, d.hi) == (pytest.approx(2 - half, abs=1e-5), pytest.approx(2 + half, abs=1e-5))
    assert d.halfwidth == pytest.approx(half, abs=1e-5)
    # t = 2 sqrt(3) on 2 df; the t(2) cdf is 1/2 + t / (2 sqrt(2 + t^2)) in closed form
    t = 2 * math.sqrt(3)
    assert d.p == pytest.approx(2 * (0.5 - t / (2 * math.sqrt(2 + t * t))), rel=1e-6)   # 0.0742


def test_pairing_by_seed_is_what_makes_the_interval_narrow():
    # seeds differ by up to 20 points, but the variant is always 1 point (+-0.1) better than the
    # reference of the same seed: paired, that is resolved; unpaired (or mis-paired), it is not
    rng = np.random.default_rng(0)
    seed_level = rng.uniform(60, 80, size=8)
    ref = seed_level
    var = seed_level + 1 + rng.normal(0, 0.1, size=8)
    paired = paired_difference(var, ref)
    assert paired.lo > 0.8 and paired.hi < 1.2
    mispaired = paired_difference(var, ref[::-1])
    assert mispaired.lo < 0 < mispaired.hi                         # the mean is the same ...
    assert mispaired.mean == pytest.approx(paired.mean)
    assert paired.halfwidth < 0.05 * mispaired.halfwidth           # ... the uncertainty is not


def test_degenerate_pairs():
    one = paired_difference([3.0], [1.0])
    assert one.mean == 2 and one.n == 1 and math.isnan(one.lo) and math.isnan(one.p)
    same = paired_difference([2, 3, 4], [1, 2, 3])                # every seed exactly +1
    assert (same.lo, same.hi, same.p) == (1, 1, 0.0)
    none = paired_difference([1, 2], [1, 2])
    assert none.p == 1.0 and none.mean == 0
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        paired_difference([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="confidence"):
        paired_difference([1, 2], [0, 0], confidence=95)


def test_bootstrap_keeps_the_pairing_and_is_reproducible():
    a, b = [71, 74, 69, 80, 77, 72], [70, 72, 69, 78, 75, 71]
    boot = paired_difference(a, b, method="bootstrap")
    assert boot == paired_difference(a, b, method="bootstrap")     # fixed resampling seed
    d = np.subtract(a, b)
    assert d.min() <= boot.lo < boot.mean < boot.hi <= d.max()
    assert boot.se == pytest.approx(d.std(ddof=1) / math.sqrt(len(d)))


def test_holm_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    # NaN (a comparison that could not be made) neither counts toward m nor changes
    out = holm([0.02, np.nan, 0.04])
    assert math.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.04, 0.04])
    np.testing.assert_allclose(holm([0.6, 0.7]), [1.0, 1.0])        # capped
    np.testing.assert_allclose(holm([0.03]), [0.03])                # one test: unchanged
    with pytest.raises(ValueError):
        holm([1.5])


def _diff(lo, hi, n=8, mean=None):
    return PairedDiff(mean=(lo + hi) / 2 if mean is None else mean, se=0.1, lo=lo, hi=hi, n=n, p=0.01,
                      confidence=0.95)


def test_verdict_reads_the_interval():
    assert effect_verdict(_diff(1.0, 3.0)).startswith("SE helps by 2.0 ± 1.0 points (95 % CI 1.0 to 3.0")
    assert effect_verdict(_diff(-3.0, -1.0)).startswith("SE hurts by 2.0 ± 1.0 points")
    # a positive mean whose interval reaches below zero is *not* a help: it is a bound
    text = effect_verdict(_diff(-0.4, 1.2, mean=0.4))
    assert text.startswith("no effect larger than ±1.2 points at this scale")
    assert "helps" not in text
    assert "one seed cannot" in effect_verdict(_diff(2.0, 2.0, n=1))
    below = effect_verdict(_diff(0.1, 0.5), resolution=0.67)
    assert "below the measurement resolution of ±0.7 points" in below
    assert effect_verdict(_diff(1, 2), what="max squeeze").startswith("max squeeze helps")


def _long(rows):
    return pd.DataFrame(rows, columns=["label", "seed", "accuracy"])


def test_compare_to_reference_pairs_by_seed_not_by_row_order():
    ref = {s: 70 + 5 * s for s in range(6)}
    rows = [("ref", s, a) for s, a in ref.items()] + [("up", s, ref[s] + 1 + 0.01 * s) for s in range(6)]
    table = compare_to_reference(_long(rows[::-1]), reference="ref").set_index("label")   # shuffled rows
    assert table.loc["up", "diff"] == pytest.approx(1.025)
    assert table.loc["up", "diff_lo"] > 0.9 and bool(table.loc["up", "significant"])
    assert table.loc["up", "verdict"] == "better" and table.loc["ref", "verdict"] == "reference"
    assert table.loc["ref", "n_pairs"] == 6 and table.loc["ref", "diff"] == 0


def test_compare_to_reference_holm_and_missing_runs():
    rng = np.random.default_rng(1)
    ref = 70 + 5 * np.arange(8)
    rows = [("ref", s, ref[s]) for s in range(8)]
    rows += [("big", s, ref[s] + 2 + rng.normal(0, 0.2)) for s in range(8)]
    rows += [("small", s, ref[s] + rng.normal(0.3, 0.5)) for s in range(8)]
    rows += [("failed", s, np.nan if s == 3 else ref[s] + 2 + rng.normal(0, 0.2)) for s in range(7)]
    table = compare_to_reference(_long(rows), reference="ref").set_index("label")
    assert table.loc["failed", "n_pairs"] == 6          # seed 7 missing, seed 3 failed: 2 pairs dropped
    p = table.loc[["big", "small", "failed"], "p"].to_numpy()
    np.testing.assert_allclose(table.loc[["big", "small", "failed"], "p_holm"], holm(p))
    assert (table["p_holm"].dropna() >= table["p"].dropna()).all()
    assert bool(table.loc["big", "significant"])
    with pytest.raises(ValueError, match="occur once"):
        compare_to_reference(_long(rows + [("ref", 0, 1.0)]), reference="ref")
    with pytest.raises(ValueError, match="not among"):
        compare_to_reference(_long(rows), reference="nope")
