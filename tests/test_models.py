"""Parameter counts that pin the architectures to the seed report, keras.applications and the paper."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from selib import (SqueezeExcite, count_se_params, se_inception_net, se_param_count, se_resnet,
                   se_resnet18, se_resnet50, seed_model)
from selib.models.flops import count_flops
from selib.layers.squeeze_excite import se_layers

R50_STAGES = [(3, 256), (4, 512), (6, 1024), (3, 2048)]
PAPER_TABLE10 = {2: 45.7, 4: 35.7, 8: 30.7, 16: 28.1, 32: 26.9}  # millions of parameters


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def test_seed_model_matches_report_exactly():
    m = seed_model()
    assert m.input_shape == (None, 473, 473, 1)
    assert m.count_params() == 9_777_472
    assert _trainable(m) == 9_771_200
    assert m.count_params() - _trainable(m) == 6_272
    # the loop bug: stages get [2, 1, 1, 2] blocks
    blocks = {l.name.split("_")[0] + "_" + l.name.split("_")[1] for l in se_layers(m)}
    assert sorted(blocks) == ["stage1_block1", "stage1_block2", "stage2_block1", "stage3_block1",
                              "stage4_block1", "stage4_block2"]


def test_true_se_resnet18_is_bigger_than_seed():
    assert se_resnet18((473, 473, 1), 4).count_params() == 11_265_344


def test_v1_without_se_is_keras_resnet50():
    ours = se_resnet50(style="v1", ratio=None)
    ref = keras.applications.ResNet50(weights=None)
    assert ref.count_params() == 25_636_712
    assert ours.count_params() == ref.count_params()
    # same network, not just the same total: identical multiset of weight shapes and layer kinds
    assert sorted(tuple(w.shape) for w in ours.weights) == sorted(tuple(w.shape) for w in ref.weights)
    kinds = lambda m: sorted(type(l).__name__ for l in m.layers if type(l).__name__ in
                             ("Conv2D", "BatchNormalization", "Add", "MaxPooling2D", "Dense"))
    assert kinds(ours) == kinds(ref)


def test_se_resnet50_overhead_equals_formula():
    base = se_resnet50(style="v1", ratio=None).count_params()
    se = se_resnet50(style="v1", ratio=16)
    assert se.count_params() - base == 2_514_944
    assert count_se_params(se) == se_param_count(R50_STAGES, 16) == 2_514_944


@pytest.mark.parametrize("ratio", sorted(PAPER_TABLE10))
def test_reduction_ratio_counts_match_paper_table10(ratio, record_property):
    n = se_resnet50(style="v1", ratio=ratio).count_params()
    record_property("params_M", round(n / 1e6, 2))
    print(f"\nSE-ResNet-50 r={ratio}: selib {n / 1e6:.2f} M  paper {PAPER_TABLE10[ratio]} M")
    assert abs(n / 1e6 - PAPER_TABLE10[ratio]) < 0.1


def test_flops_match_paper():
    base = count_flops(se_resnet50(style="v1", ratio=None)).macs / 1e9
    se = count_flops(se_resnet50(style="v1", ratio=16)).macs / 1e9
    assert round(base, 2) == 3.86 and round(se, 2) == 3.87  # the paper's GFLOPs (multiply-adds)
    assert 0 < se / base - 1 < 0.005


def test_plain_resnet_has_no_se():
    m = se_resnet((64, 64, 3), 4, ratio=None)
    assert count_se_params(m) == 0 and not se_layers(m)


def _se_edges(model):
    """For every SE layer: names of the layers feeding it and of the layers it feeds."""
    out = {}
    for layer in se_layers(model):
        node = layer._inbound_nodes[0]
        src = [t._keras_history.operation.name for t in node.input_tensors]
        dst = [l.name for l in model.layers
               if any(layer.name == t._keras_history.operation.name
                      for n in l._inbound_nodes for t in n.input_tensors)]
        out[layer.name] = (src, dst)
    return out


@pytest.mark.parametrize("style", ["preact", "v1"])
def test_se_placement_connectivity(style):
    kw = dict(input_shape=(32, 32, 3), num_classes=4, depth=(1, 1), filters=(16, 32), style=style,
              ratio=4, initial_filters=16)
    std = _se_edges(se_resnet(se_placement="standard", **kw))
    pre = _se_edges(se_resnet(se_placement="pre", **kw))
    post = _se_edges(se_resnet(se_placement="post", **kw))
    ident = _se_edges(se_resnet(se_placement="identity", **kw))
    for block in ("stage1_block1", "stage2_block1"):
        name = f"{block}_se"
        src, dst = std[name]
        assert dst == [f"{block}_add"] and src[0].endswith(("_2_conv", "_2_bn"))   # residual branch
        src, dst = pre[name]
        assert dst == [f"{block}_1_conv"]                                         # feeds the branch
        src, dst = post[name]
        assert src[0] in (f"{block}_add", f"{block}_out")                         # after the sum
        src, dst = ident[name]
        assert dst == [f"{block}_add"] and not src[0].endswith(("_2_conv", "_2_bn"))  # shortcut
    # SE on the shortcut of stage 2 sees the projected channels; SE-PRE sees the input channels
    m = se_resnet(se_placement="pre", **kw)
    assert m.get_layer("stage2_block1_se").channels == 16


def test_width_and_small_stem():
    m = se_resnet((32, 32, 1), 3, depth=(1, 1), filters=(16, 32), width=2, stem_stride=1,
                  stem_pool=False, initial_filters=8)
    assert m.get_layer("stage2_block1_se").channels == 64
    assert m.output_shape == (None, 3)


def test_se_inception():
    m = se_inception_net((32, 32, 1), 4, filters=(32, 64))
    se = se_layers(m)
    assert [l.channels for l in se] == [32, 64]
    assert isinstance(m.get_layer("stage1_inception_se"), SqueezeExcite)
    y = m.predict(np.zeros((2, 32, 32, 1), "float32"), verbose=0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="equal length"):
        se_resnet(depth=(1, 1), filters=(8,))
    with pytest.raises(ValueError, match="se_placement"):
        se_resnet((32, 32, 3), 2, depth=(1,), filters=(8,), se_placement="middle")


def test_model_roundtrip_safe_mode(tmp_path):
    m = se_resnet((32, 32, 1), 4, depth=(1, 1), filters=(8, 16), initial_filters=8, ratio=4)
    x = np.random.default_rng(0).random((2, 32, 32, 1)).astype("float32")
    path = tmp_path / "m.keras"
    m.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), m.predict(x, verbose=0), atol=1e-6)
    assert count_se_params(loaded) == count_se_params(m) > 0
