"""selib.analysis.excitation: the gates it collects are the SE layers' own, per image and per block."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import selib
from selib.analysis import excitation as ex
from selib.layers.squeeze_excite import se_layers


@pytest.fixture(scope="module")
def net():
    keras.utils.set_random_seed(0)
    model = selib.se_resnet((16, 16, 1), 3, depth=(1, 1), filters=(8, 16), ratio=4, style="preact",
                            initial_filters=8, stem_stride=1)
    x = np.random.default_rng(0).uniform(0, 1, (10, 16, 16, 1)).astype("float32")
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    return model, x, y


def _reference_gates(model, x):
    """Each SE layer's excitation of its own input, computed from the layer directly."""
    out = []
    for layer in se_layers(model):
        feats = keras.Model(model.input, layer.input)(x, training=False)
        out.append(np.asarray(keras.ops.convert_to_numpy(layer.excite(feats))))
    return out


def test_collect_gates_are_the_layers_excitation_in_any_batch_size(net):
    model, x, _ = net
    names, gates = ex.collect_gates(model, x, batch_size=3)     # 10 images in batches of 3, 3, 3, 1
    assert names == [layer.name for layer in se_layers(model)] and all(n.endswith("_se") for n in names)
    assert [g.shape for g in gates] == [(10, 8), (10, 16)]
    for g, ref in zip(gates, _reference_gates(model, x)):
        np.testing.assert_allclose(g, ref, rtol=1e-5, atol=1e-6)
        assert ((g > 0) & (g < 1)).all()                        # sigmoid gates
    # the second image's gates differ from the first's: gates depend on the input
    assert not np.allclose(gates[0][0], gates[0][1])


def test_block_io_matches_collect_gates(net):
    model, x, _ = net
    _, gates = ex.collect_gates(model, x)
    name, feats, g = ex.block_io(model, x[:2], block=-1)
    assert name == se_layers(model)[-1].name
    assert feats.shape[0] == 2 and feats.shape[-1] == 16 and g.shape == (2, 16)
    np.testing.assert_allclose(g, gates[-1][:2], rtol=1e-5, atol=1e-6)
    name0, _, g0 = ex.block_io(model, x[:2], block=se_layers(model)[0].name)   # by name too
    assert name0 == se_layers(model)[0].name and g0.shape == (2, 8)


def test_excitation_stats_are_class_means(net):
    model, x, y = net
    stats = ex.excitation_stats(model, x, y, ["a", "b", "c"])
    _, gates = ex.collect_gates(model, x)
    row = stats[(stats["depth"] == 1) & (stats["class"] == "b")].sort_values("channel")
    np.testing.assert_allclose(row["mean"], gates[1][y == 1].mean(axis=0), rtol=1e-6)
    assert set(stats["block"]) == {layer.name for layer in se_layers(model)}
    one_hot = ex.excitation_stats(model, x, keras.utils.to_categorical(y, 3), ["a", "b", "c"])
    np.testing.assert_allclose(one_hot["mean"], stats["mean"])


def test_excitation_table_and_untrained_copy(net):
    model, x, y = net
    table = ex.excitation_table(model, x, y, n_permutations=5)
    assert list(table["block"]) == [layer.name for layer in se_layers(model)]
    assert table["eta2"].between(0, 1).all()
    fresh = ex.untrained_copy(model, seed=1)
    assert [l.name for l in se_layers(fresh)] == [l.name for l in se_layers(model)]
    assert not all(np.allclose(a, b) for a, b in zip(fresh.get_weights(), model.get_weights()))


def test_model_without_se_is_an_error():
    plain = selib.se_resnet((16, 16, 1), 3, depth=(1,), filters=(8,), ratio=None, stem_stride=1)
    with pytest.raises(ValueError, match="no SqueezeExcite"):
        ex.collect_gates(plain, np.zeros((2, 16, 16, 1), "float32"))
