"""selib.analysis.gate_stats: η² per channel, its permutation null, saturation and the depth verdict.

Each statistic is checked on gates built so that the right answer is known in closed form, and
against scipy's one-way ANOVA, so a wrong formula (within-class instead of between-class share,
a missing class weight, a biased null) fails here. gate_stats imports numpy/scipy/pandas only;
it is loaded from its file so these tests do not import TensorFlow.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

_PATH = Path(__file__).resolve().parents[1] / "selib" / "analysis" / "gate_stats.py"
_SPEC = importlib.util.spec_from_file_location("_selib_gate_stats_under_test", _PATH)
gs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(gs)


def _eta_from_anova(g: np.ndarray, y: np.ndarray) -> float:
    """η² from scipy's F statistic: η² = F·df_b / (F·df_b + df_w)."""
    groups = [g[y == k] for k in np.unique(y)]
    f = st.f_oneway(*groups).statistic
    df_b, df_w = len(groups) - 1, len(g) - len(groups)
    return f * df_b / (f * df_b + df_w)


def _blocks(n_per_class: int = 30, k: int = 4, c: int = 16, effects=(0.0, 0.5, 2.0), seed: int = 0):
    """Gates of len(effects) blocks; block b's class means are spread by effects[b] noise-sds."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per_class)
    blocks = []
    for e in effects:
        means = rng.normal(size=(k, c)) * e
        blocks.append(1 / (1 + np.exp(-(means[y] + rng.normal(size=(len(y), c))))))
    return blocks, y


# --------------------------------------------------------------------------- eta_squared
def test_eta_squared_closed_form_two_classes():
    # class A: a±σ, class B: b±σ  ->  SS_between/SS_total = δ² / (δ² + σ²) with δ = (a-b)/2
    a, b, sigma = 0.8, 0.2, 0.1
    g = np.array([[a - sigma], [a + sigma], [b - sigma], [b + sigma]])
    eta = gs.eta_squared(g, ["A", "A", "B", "B"])
    delta = (a - b) / 2
    np.testing.assert_allclose(eta, [delta ** 2 / (delta ** 2 + sigma ** 2)])


def test_eta_squared_extremes():
    y = np.repeat([0, 1, 2], 5)
    class_only = np.stack([np.array([0.1, 0.5, 0.9])[y], np.array([0.9, 0.9, 0.2])[y]], axis=1)
    np.testing.assert_allclose(gs.eta_squared(class_only, y), [1.0, 1.0])   # gate = f(class)
    # every class has the same values: the class explains nothing
    same = np.tile(np.array([0.2, 0.4, 0.6, 0.8, 1.0]), 3)[:, None]
    np.testing.assert_allclose(gs.eta_squared(same, y), [0.0], atol=1e-12)


def test_eta_squared_matches_scipy_anova_with_unequal_classes():
    rng = np.random.default_rng(3)
    y = np.array([0] * 7 + [1] * 19 + [2] * 11)               # unbalanced: the class weights matter
    g = rng.uniform(size=(len(y), 5)) + 0.3 * y[:, None] * np.arange(5)
    expected = [_eta_from_anova(g[:, j], y) for j in range(5)]
    np.testing.assert_allclose(gs.eta_squared(g, y), expected, rtol=1e-10)


def test_eta_squared_constant_channel_is_nan_and_ignored_by_class_specificity():
    y = np.repeat([0, 1], 4)
    g = np.stack([np.where(y == 0, 0.1, 0.9), np.full(8, 1.0)], axis=1)   # informative, constant
    eta = gs.eta_squared(g, y)
    assert eta[0] == pytest.approx(1.0) and np.isnan(eta[1])
    assert gs.class_specificity(g, y) == pytest.approx(1.0)               # mean over the others
    assert np.isnan(gs.class_specificity(np.ones((8, 3)), y))


def test_eta_squared_does_not_depend_on_label_names_or_order():
    blocks, y = _blocks(effects=(1.0,))
    names = np.array(["sofa", "bench", "chair", "office_chair"])[y]
    np.testing.assert_allclose(gs.eta_squared(blocks[0], names), gs.eta_squared(blocks[0], 3 - y))


@pytest.mark.parametrize("gates, labels", [
    (np.zeros(6), np.zeros(6)),                          # not (N, C)
    (np.zeros((6, 2)), np.zeros(5)),                     # N mismatch
    (np.full((4, 2), np.nan), [0, 0, 1, 1]),             # not finite
    (np.zeros((4, 2)) + np.arange(4)[:, None], [1, 1, 1, 1]),   # a single class
])
def test_eta_squared_rejects_bad_input(gates, labels):
    with pytest.raises(ValueError):
        gs.eta_squared(gates, labels)


def test_pooled_eta_squared_weights_channels_by_their_variance():
    y = np.repeat([0, 1], 4)
    swing = np.where(y == 0, 0.1, 0.9)                        # class-specific, variance 0.16
    rng = np.random.default_rng(0)
    flicker = 1 - 1e-4 * rng.uniform(size=8)                  # saturated at 1, noise unrelated to class
    g = np.stack([swing, flicker], axis=1)
    eta = gs.eta_squared(g, y)
    assert gs.class_specificity(g, y) == pytest.approx(eta.mean())   # the flicker counts fully here
    assert gs.pooled_eta_squared(g, y) == pytest.approx(1.0, abs=1e-6)   # and hardly at all here
    ss_b = sum(e * ((g[:, j] - g[:, j].mean()) ** 2).sum() for j, e in enumerate(eta))
    assert gs.pooled_eta_squared(g, y) == pytest.approx(ss_b / ((g - g.mean(axis=0)) ** 2).sum())
    assert np.isnan(gs.pooled_eta_squared(np.ones((8, 2)), y))


# --------------------------------------------------------------------------- permutation null
def test_permutation_null_expectation_and_reproducibility():
    k, n_per, c = 4, 10, 64
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(k), n_per)
    g = rng.uniform(size=(len(y), c))
    null = gs.permutation_null(g, y, n_permutations=40, seed=5)
    assert null.shape == (40,)
    # E[η²] under label permutation is (k - 1)/(N - 1), here 3/39: far from 0 with few images
    assert null.mean() == pytest.approx((k - 1) / (len(y) - 1), rel=0.1)
    np.testing.assert_array_equal(null, gs.permutation_null(g, y, n_permutations=40, seed=5))
    assert not np.array_equal(null, gs.permutation_null(g, y, n_permutations=40, seed=6))
    with pytest.raises(ValueError):
        gs.permutation_null(g, y, n_permutations=0)


def test_a_real_class_effect_is_above_the_null_and_noise_is_not():
    (noise, strong), y = _blocks(effects=(0.0, 1.0))
    assert gs.class_specificity(strong, y) > gs.permutation_null(strong, y, 20).max()
    null = gs.permutation_null(noise, y, 20)
    assert null.min() <= gs.class_specificity(noise, y) + 0.02    # indistinguishable from chance


# --------------------------------------------------------------------------- saturation
def test_saturation_shares_by_hand():
    g = np.array([[0.01, 0.50, 0.99, 0.02],
                  [0.03, 0.96, 0.97, 0.60]])
    s = gs.saturation(g)
    assert s["share_low"] == pytest.approx(3 / 8)      # 0.01, 0.03, 0.02
    assert s["share_high"] == pytest.approx(3 / 8)     # 0.96, 0.99, 0.97
    assert s["off_channels"] == pytest.approx(1 / 4)   # channel 0: mean 0.02
    assert s["on_channels"] == pytest.approx(1 / 4)    # channel 2: mean 0.98 (channel 1: 0.73)
    loose = gs.saturation(g, low=0.4, high=0.7)          # the thresholds are honoured
    assert loose["off_channels"] == pytest.approx(2 / 4)   # + channel 3 (mean 0.31)
    assert loose["on_channels"] == pytest.approx(2 / 4)    # + channel 1 (mean 0.73)
    with pytest.raises(ValueError):
        gs.saturation(g, low=0.9, high=0.1)


# --------------------------------------------------------------------------- depth_table, verdict
def test_depth_table_rows_and_null_band():
    blocks, y = _blocks(effects=(0.0, 0.5, 2.0))
    t = gs.depth_table(blocks, y, names=["early", "middle", "late"], n_permutations=20)
    assert list(t["block"]) == ["early", "middle", "late"] and list(t["depth"]) == [0, 1, 2]
    assert list(t["channels"]) == [16, 16, 16]
    assert (t["null_lo"] <= t["null_mean"]).all() and (t["null_mean"] <= t["null_hi"]).all()
    assert t["eta2"].is_monotonic_increasing
    assert list(t["above_null"]) == [False, True, True]
    for col in ("share_low", "share_high", "off_channels", "on_channels"):
        assert t[col].between(0, 1).all(), col
    np.testing.assert_allclose(t["eta2"], [gs.class_specificity(b, y) for b in blocks])
    np.testing.assert_allclose(t["eta2_pooled"], [gs.pooled_eta_squared(b, y) for b in blocks])


def test_depth_table_tests_every_block_against_the_same_shuffles():
    blocks, y = _blocks(effects=(1.0,))
    t = gs.depth_table([blocks[0], blocks[0].copy()], y)
    assert t.loc[0, ["eta2", "null_lo", "null_hi"]].tolist() == t.loc[1, ["eta2", "null_lo", "null_hi"]].tolist()
    with pytest.raises(ValueError):
        gs.depth_table(blocks, y, names=["a", "b"])


def test_specificity_trend_as_in_the_paper():
    blocks, y = _blocks(effects=(0.0, 0.0, 0.7, 2.0))
    verdict = gs.specificity_trend(gs.depth_table(blocks, y))
    assert "rises with depth" in verdict and "as the paper's Fig. 6 describes" in verdict
    assert "blocks 2–3 are above the permutation null" in verdict


def test_specificity_trend_falling_and_absent():
    blocks, y = _blocks(effects=(2.0, 0.7, 0.3, 0.0))
    verdict = gs.specificity_trend(gs.depth_table(blocks, y))
    assert "falls with depth" in verdict and "unlike the paper's Fig. 6" in verdict
    noise, y = _blocks(effects=(0.0, 0.0, 0.0), seed=4)
    verdict = gs.specificity_trend(gs.depth_table(noise, y))
    assert "no block is above the permutation null" in verdict
    assert "as the paper's Fig. 6 describes" not in verdict


def test_specificity_trend_all_above_is_only_partly_the_paper():
    blocks, y = _blocks(effects=(0.6, 1.2, 2.5))
    verdict = gs.specificity_trend(gs.depth_table(blocks, y))
    assert "all blocks are above the permutation null" in verdict
    assert "only partly" in verdict and "not class-agnostic" in verdict


def test_specificity_trend_too_few_blocks_and_unrankable():
    blocks, y = _blocks(effects=(0.0, 2.0))
    assert gs.specificity_trend(gs.depth_table(blocks, y)).startswith("Too few blocks (2)")
    table = pd.DataFrame({"depth": [0, 1, 2], "eta2": [0.1, np.nan, 0.3], "null_mean": [0.1] * 3,
                          "above_null": [False, False, True]})
    verdict = gs.specificity_trend(table)
    assert "cannot be ranked" in verdict and "cannot be tested" in verdict
    assert "unlike" not in verdict and "describes" not in verdict   # no trend, so no claim either way


def test_pooled_null_and_pooled_verdict():
    (noise, strong), y = _blocks(effects=(0.0, 1.0))
    null = gs.permutation_null(noise, y, n_permutations=40, seed=3, statistic="pooled")
    assert null.mean() == pytest.approx((4 - 1) / (len(y) - 1), rel=0.2)    # chance level, as for the mean
    assert gs.pooled_eta_squared(strong, y) > gs.permutation_null(strong, y, 20, statistic="pooled").max()
    with pytest.raises(ValueError):
        gs.permutation_null(noise, y, statistic="median")
    blocks, y = _blocks(effects=(0.0, 0.0, 0.7, 2.0))
    t = gs.depth_table(blocks, y)
    np.testing.assert_allclose(t["pooled_null_hi"], [gs.permutation_null(b, y, 20, statistic="pooled").max()
                                                     for b in blocks])
    assert list(t["pooled_above_null"]) == list(t["eta2_pooled"] > t["pooled_null_hi"])
    assert "as the paper's Fig. 6 describes" in gs.specificity_trend(t, statistic="pooled")
    # the pooled verdict reads the pooled columns: blank them and it cannot rank the blocks
    assert "cannot be ranked" in gs.specificity_trend(t.assign(eta2_pooled=np.nan), statistic="pooled")


def test_between_class_variance_is_the_pooled_numerator():
    blocks, y = _blocks(effects=(1.0,))
    g = blocks[0]
    bcv = gs.between_class_variance(g, y)
    assert gs.pooled_eta_squared(g, y) == pytest.approx(bcv.sum() / g.var(axis=0).sum())
