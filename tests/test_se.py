"""The SE block (and ECA) against NumPy references, their options, serialisation, and the attention registry."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from selib import (EfficientChannelAttention, SqueezeExcite, attention_layers, count_se_params, excitation,
                   get_attn, register_attn, scale, se_param_count, se_units, squeeze)
from selib.layers.attention import _REGISTRY, eca_kernel_size
from selib.layers.squeeze_excite import se_cost, se_layers


def _weights(layer):
    # map by name so the reference never depends on weight ordering
    return {v.path.split("/")[-1]: np.asarray(v) for v in layer.weights}


@pytest.mark.parametrize("gate", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("use_bias", [False, True])
def test_layer_matches_numpy_reference(gate, mode, use_bias):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 7, 32)).astype("float32")
    layer = SqueezeExcite(ratio=4, gate=gate, squeeze=mode, use_bias=use_bias)
    layer.build(x.shape)
    if use_bias:  # non-zero biases so a layer that ignores them fails
        layer.b1.assign(rng.normal(size=layer.b1.shape).astype("float32"))
        layer.b2.assign(rng.normal(size=layer.b2.shape).astype("float32"))
    got = np.asarray(layer(x))
    w = _weights(layer)
    z = x.mean(axis=(1, 2)) if mode == "avg" else x.max(axis=(1, 2))
    h = np.maximum(z @ w["w1"] + (w["b1"] if use_bias else 0), 0)
    a = h @ w["w2"] + (w["b2"] if use_bias else 0)
    s = {"sigmoid": 1 / (1 + np.exp(-a)), "relu": np.maximum(a, 0), "tanh": np.tanh(a)}[gate]
    want = x * s[:, None, None, :]
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    # the teaching functions give the same answer
    s2 = excitation(squeeze(x, mode), w["w1"], w["w2"], w.get("b1"), w.get("b2"), gate=gate)
    np.testing.assert_allclose(scale(x, s2), want, atol=1e-5, rtol=1e-5)


def test_bottleneck_width_and_param_count():
    layer = SqueezeExcite(ratio=16)
    layer.build((None, 8, 8, 256))
    assert layer.units == 16
    assert layer.count_params() == 2 * 256 * 16
    with_bias = SqueezeExcite(ratio=16, use_bias=True)
    with_bias.build((None, 8, 8, 256))
    assert with_bias.count_params() == 2 * 256 * 16 + 16 + 256


def test_squeeze_is_mean_over_spatial_axes():
    u = np.arange(2 * 2 * 3 * 2, dtype=float).reshape(2, 2, 3, 2)
    np.testing.assert_allclose(squeeze(u)[0], [u[0, ..., 0].mean(), u[0, ..., 1].mean()])
    np.testing.assert_allclose(squeeze(u, "max")[1], [u[1, ..., 0].max(), u[1, ..., 1].max()])


def test_invalid_options_are_clear():
    with pytest.raises(ValueError, match="gate"):
        SqueezeExcite(gate="softmax")
    with pytest.raises(ValueError, match="squeeze"):
        SqueezeExcite(squeeze="median")
    with pytest.raises(ValueError, match="ratio"):
        SqueezeExcite(ratio=0)


def test_formula():
    # (2/r) * sum N_s C_s^2 for SE-ResNet-50, r = 16
    stages = [(3, 256), (4, 512), (6, 1024), (3, 2048)]
    assert se_param_count(stages, 16) == 2 * (3 * 256**2 + 4 * 512**2 + 6 * 1024**2 + 3 * 2048**2) // 16
    assert se_param_count(stages, 16) == 2_514_944
    assert se_param_count(stages, 8) == 2 * se_param_count(stages, 16)


def test_config_roundtrip_and_safe_mode_save(tmp_path):
    inp = keras.Input((6, 6, 16))
    out = SqueezeExcite(ratio=4, gate="tanh", squeeze="max", use_bias=True, name="se")(inp)
    model = keras.Model(inp, out)
    assert count_se_params(model) == 2 * 16 * 4 + 4 + 16
    path = tmp_path / "se.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    layer = loaded.get_layer("se")
    assert isinstance(layer, SqueezeExcite)
    assert (layer.ratio, layer.gate, layer.squeeze, layer.use_bias) == (4, "tanh", "max", True)
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 16)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


# ---------------------------------------------------------------------------------------------
# min_units and the one cost formula.
# ---------------------------------------------------------------------------------------------
def test_min_units_widens_thin_bottlenecks_only():
    assert se_units(64, 16) == 4 and se_units(8, 16) == 1          # the paper's C // r (at least 1)
    assert se_units(64, 16, min_units=8) == 8 and se_units(512, 16, min_units=8) == 32
    thin = SqueezeExcite(ratio=16, min_units=8)
    thin.build((None, 4, 4, 64))
    assert thin.units == 8 and tuple(thin.w1.shape) == (64, 8)
    assert thin.count_params() == 2 * 64 * 8 == se_param_count([(1, 64)], 16, min_units=8)
    assert se_param_count([(1, 64)], 16) == 2 * 64 * 4           # the default keeps the paper's count
    # the SE-ResNet-50 stages are wide enough that min_units=8 changes nothing
    assert se_param_count([(3, 256), (4, 512), (6, 1024), (3, 2048)], 16, min_units=8) == 2_514_944
    with pytest.raises(ValueError, match="min_units"):
        SqueezeExcite(min_units=0)


def test_se_cost_is_what_the_layer_has_and_counts():
    cost = se_cost(256, 16, use_bias=True, height=7, width=5)
    layer = SqueezeExcite(ratio=16, use_bias=True)
    layer.build((None, 7, 5, 256))
    assert cost.params == layer.count_params() == 2 * 256 * 16 + 16 + 256
    assert cost.macs == layer.multiply_adds((None, 7, 5, 256)) == 2 * 256 * 16 + 2 * 7 * 5 * 256


# ---------------------------------------------------------------------------------------------
# ECA-Net and the attention registry.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels, k", [(4, 1), (16, 3), (64, 3), (128, 5), (256, 5), (512, 5),
                                         (1024, 5), (2048, 7)])
def test_eca_kernel_size_is_the_papers_formula(channels, k):
    # k = |(log2 C + 1) / 2|_odd  (ECA-Net, Eq. 12, gamma = 2, b = 1)
    assert eca_kernel_size(channels) == k
    layer = EfficientChannelAttention()
    layer.build((None, 3, 3, channels))
    assert layer.k == k and layer.count_params() == k
    fixed = EfficientChannelAttention(kernel_size=9)
    fixed.build((None, 3, 3, channels))
    assert fixed.k == 9
    with pytest.raises(ValueError, match="odd"):
        EfficientChannelAttention(kernel_size=4)


def test_eca_matches_numpy_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 3, 32)).astype("float32")
    layer = EfficientChannelAttention(kernel_size=5)
    layer.build(x.shape)
    w = rng.normal(size=(5, 1, 1)).astype("float32")
    layer.kernel.assign(w)
    z = np.pad(x.mean(axis=(1, 2)), ((0, 0), (2, 2)))                  # zero 'same' padding
    a = np.stack([z[:, i:i + 5] @ w[:, 0, 0] for i in range(32)], axis=1)  # cross-correlation
    want = x / (1 + np.exp(-a))[:, None, None, :]
    np.testing.assert_allclose(np.asarray(layer(x)), want, rtol=1e-5, atol=1e-5)


def test_eca_config_roundtrip_and_safe_mode_save(tmp_path):
    inp = keras.Input((6, 6, 16))
    out = EfficientChannelAttention(kernel_size=3, gamma=3, beta=2, name="eca")(inp)
    model = keras.Model(inp, out)
    model.save(tmp_path / "eca.keras")
    layer = keras.saving.load_model(tmp_path / "eca.keras", safe_mode=True).get_layer("eca")
    assert (type(layer), layer.kernel_size, layer.gamma, layer.beta) == (EfficientChannelAttention, 3, 3.0, 2.0)
    np.testing.assert_allclose(np.asarray(layer.kernel), np.asarray(model.get_layer("eca").kernel))


def test_min_units_is_in_the_config():
    layer = SqueezeExcite(ratio=8, min_units=6, name="se")
    clone = SqueezeExcite.from_config(layer.get_config())
    assert (clone.ratio, clone.min_units) == (8, 6)


class _Gate(keras.layers.Layer):
    def call(self, x):
        return x


def test_get_attn_resolves_names_classes_and_callables():
    assert get_attn("se") is SqueezeExcite and get_attn("SE") is SqueezeExcite
    assert get_attn("eca") is EfficientChannelAttention
    assert get_attn(None) is None and get_attn("none") is None
    factory = lambda name: _Gate(name=name)  # noqa: E731
    assert get_attn(_Gate) is _Gate and get_attn(factory) is factory
    with pytest.raises(ValueError, match="unknown attention"):
        get_attn("cbam")
    with pytest.raises(TypeError, match="not a layer instance"):
        get_attn(_Gate())


def test_register_attn_adds_a_kind_in_one_place():
    try:
        assert register_attn("test_gate", _Gate) is _Gate
        assert get_attn("test_gate") is _Gate
        with pytest.raises(ValueError, match="already registered"):
            register_attn("test_gate", lambda name: _Gate(name=name))
        with pytest.raises(ValueError, match="reserved"):
            register_attn("none", _Gate)
        inp = keras.Input((4, 4, 8))
        model = keras.Model(inp, _Gate(name="g")(SqueezeExcite(2, name="se")(inp)))
        assert [l.name for l in attention_layers(model)] == ["se", "g"]   # any registered class
        assert [l.name for l in se_layers(model)] == ["se"]                # only SqueezeExcite
    finally:
        _REGISTRY.pop("test_gate", None)


@pytest.mark.parametrize("use_bias", [False, True])
def test_no_squeeze_gates_every_position_with_the_same_weights(use_bias):
    """The journal's NoSqueeze (Table 16): no pooling, the FC layers applied at each position
    (a 1×1 conv). A layer that still pooled, or gated per channel only, fails this."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 5, 16)).astype("float32")
    layer = SqueezeExcite(ratio=4, squeeze="none", use_bias=use_bias)
    layer.build(x.shape)
    for v in layer.weights:               # fixed, non-zero weights: no draw can make it pass by luck
        v.assign(rng.normal(size=v.shape).astype("float32"))
    w = _weights(layer)
    a = np.maximum(x @ w["w1"] + (w["b1"] if use_bias else 0), 0) @ w["w2"] + (w["b2"] if use_bias else 0)
    want = x / (1 + np.exp(-a))
    np.testing.assert_allclose(np.asarray(layer(x)), want, atol=1e-5, rtol=1e-5)
    gates = np.asarray(layer.excite(x))
    assert gates.shape == x.shape and gates[:, 0, 0].std() > 0 and np.abs(gates[:, 0, 0] - gates[:, 1, 1]).max() > 1e-3
    # the teaching functions, unsqueezed
    s = excitation(squeeze(x, "none"), w["w1"], w["w2"], w.get("b1"), w.get("b2"))
    np.testing.assert_allclose(scale(x, s), want, atol=1e-5, rtol=1e-5)
    # same parameters as SE; the FC cost is paid at every position and there is no pooling
    se = SqueezeExcite(ratio=4, use_bias=use_bias)
    se.build(x.shape)
    assert layer.count_params() == se.count_params()
    assert layer.multiply_adds(x.shape) == 4 * 5 * (2 * 16 * 4 + 16)
    assert se.multiply_adds(x.shape) == 2 * 16 * 4 + 2 * 4 * 5 * 16


def test_no_squeeze_saves_and_its_gates_reduce_per_channel(tmp_path):
    from selib.analysis.excitation import block_io, collect_gates

    inp = keras.Input((6, 6, 8))
    conv = keras.layers.Conv2D(16, 3, padding="same", name="conv")
    model = keras.Model(inp, SqueezeExcite(ratio=2, squeeze="none", name="se")(conv(inp)))
    path = tmp_path / "m.keras"
    model.save(path)
    back = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).normal(size=(3, 6, 6, 8)).astype("float32")
    np.testing.assert_allclose(np.asarray(back(x)), np.asarray(model(x)), atol=1e-6)
    assert back.get_layer("se").squeeze == "none"
    names, gates = collect_gates(model, x)
    full = np.asarray(model.get_layer("se").excite(conv(x)))
    assert names == ["se"] and gates[0].shape == (3, 16)
    np.testing.assert_allclose(gates[0], full.mean(axis=(1, 2)), atol=1e-6)
    assert block_io(model, x)[2].shape == (3, 16)
