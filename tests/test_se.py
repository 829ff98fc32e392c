"""The SE block against a NumPy reference, its options, and its serialisation."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from selib import SqueezeExcite, count_se_params, excitation, scale, se_param_count, squeeze



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
