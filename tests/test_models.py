"""The architectures pinned to the seed report, keras.applications and the paper; the attention
slot, its placements and the keras.applications options (top, pooling, input tensor, weights)."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from selib import (EfficientChannelAttention, SqueezeExcite, attention_layers, count_se_params,
                   se_inception_module, se_inception_net, se_param_count, se_resnet, se_resnet18,
                   se_resnet18v2, se_resnet50, se_resnet50v2, seed_model)
from selib.layers.squeeze_excite import se_layers
from selib.models.flops import count_flops
from selib.models.seed import SEED_OPTIONS
from selib.models.weights import load_weights_by_name
from wiring import inputs_of, wiring

R50_STAGES = [(3, 256), (4, 512), (6, 1024), (3, 2048)]
PAPER_TABLE10 = {2: 45.7, 4: 35.7, 8: 30.7, 16: 28.1, 32: 26.9}  # millions of parameters
TINY = dict(input_shape=(32, 32, 3), num_classes=4, depth=(1, 1), filters=(16, 32), ratio=4,
            initial_filters=16)


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def _shapes(model):
    """Layer name -> the shapes of its weights (layers with weights only)."""
    return {l.name: [tuple(w.shape) for w in l.weights] for l in model.layers if l.weights}


# ---------------------------------------------------------------------------------------------
# The seed network.
# ---------------------------------------------------------------------------------------------
def test_seed_model_matches_report_exactly():
    m = seed_model()
    assert m.input_shape == (None, 473, 473, 1)
    assert m.count_params() == 9_777_472
    assert _trainable(m) == 9_771_200
    assert m.count_params() - _trainable(m) == 6_272
    assert len(m.losses) == 2                  # the seed code's L2 on the stem conv and the classifier
    # the loop bug: stages get [2, 1, 1, 2] blocks
    blocks = {l.name.rsplit("_", 1)[0] for l in se_layers(m)}
    assert sorted(blocks) == ["conv2_block1", "conv2_block2", "conv3_block1", "conv4_block1",
                              "conv5_block1", "conv5_block2"]


def test_seed_model_is_the_general_builder_with_the_seeds_options():
    seed = seed_model()
    built = se_resnet((473, 473, 1), 4, depth=(2, 1, 1, 2), style="preact", block="basic", ratio=16)
    assert _shapes(built) == _shapes(seed)
    assert [type(l).__name__ for l in built.layers] == [type(l).__name__ for l in seed.layers]
    assert inputs_of(built) == inputs_of(seed)                    # same wiring, layer by layer
    assert _shapes(se_resnet((473, 473, 1), 4, **SEED_OPTIONS)) == _shapes(seed)


def test_true_se_resnet18_is_bigger_than_seed():
    assert se_resnet18v2((473, 473, 1), 4).count_params() == 11_265_344


# ---------------------------------------------------------------------------------------------
# keras.applications and the paper.
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras_r50():
    return keras.applications.ResNet50(weights=None)


@pytest.mark.slow   # builds two ResNet-50s
def test_default_preset_is_keras_resnet50_layer_by_layer(keras_r50):
    ours = se_resnet50(ratio=None)                  # no style argument: v1, like ResNet50
    assert keras_r50.count_params() == 25_636_712 == ours.count_params()
    assert _shapes(ours) == _shapes(keras_r50)
    # the same layers in the same order, the head included; only the input is named "image"
    assert [l.name for l in ours.layers[1:]] == [l.name for l in keras_r50.layers[1:]]
    head = ours.get_layer("predictions")
    assert isinstance(head, keras.layers.Dense) and head.dtype_policy.compute_dtype == "float32"
    assert ours.input_shape == keras_r50.input_shape == (None, 224, 224, 3)


@pytest.mark.slow   # builds every preset
def test_v2_presets_are_the_preact_family():
    v1, v2 = se_resnet18((64, 64, 3), 4), se_resnet18v2((64, 64, 3), 4)
    assert "conv2_block1_preact_bn" in {l.name for l in v2.layers}
    assert "conv2_block1_preact_bn" not in {l.name for l in v1.layers}
    assert "post_bn" in {l.name for l in v2.layers} and "conv1_bn" in {l.name for l in v1.layers}
    assert se_resnet50v2((64, 64, 3), 4).get_layer("conv5_block3_out").output.shape[-1] == 2048
    assert se_resnet18((64, 64, 3), 4, style="v1").count_params() == v1.count_params()
    with pytest.raises(ValueError, match="v2"):
        se_resnet50(style="preact")


def test_se_resnet50_overhead_equals_formula():
    base = se_resnet50(ratio=None).count_params()
    se = se_resnet50(ratio=16)
    assert se.count_params() - base == 2_514_944
    assert count_se_params(se) == se_param_count(R50_STAGES, 16) == 2_514_944


@pytest.mark.parametrize("ratio", sorted(PAPER_TABLE10))
def test_reduction_ratio_counts_match_paper_table10(ratio, record_property):
    n = se_resnet50(ratio=ratio).count_params()
    record_property("params_M", round(n / 1e6, 2))
    print(f"\nSE-ResNet-50 r={ratio}: selib {n / 1e6:.2f} M  paper {PAPER_TABLE10[ratio]} M")
    assert abs(n / 1e6 - PAPER_TABLE10[ratio]) < 0.1


def test_flops_match_paper():
    base = count_flops(se_resnet50(ratio=None)).macs / 1e9
    se = count_flops(se_resnet50(ratio=16)).macs / 1e9
    assert round(base, 3) == 3.858 and round(se, 3) == 3.872   # the paper's 3.86 → 3.87 GFLOPs
    assert 0 < se / base - 1 < 0.005


def test_min_units_reaches_every_block():
    m = se_resnet(**TINY, attn_kwargs={"min_units": 16})   # C // r = 4 and 8: both widened to 16
    assert [l.units for l in se_layers(m)] == [16, 16]
    assert count_se_params(m) == se_param_count([(1, 16), (1, 32)], 4, min_units=16) == 2 * 16 * 16 + 2 * 32 * 16


def test_plain_resnet_has_no_se():
    for m in (se_resnet((64, 64, 3), 4, ratio=None), se_resnet((64, 64, 3), 4, attn=None)):
        assert count_se_params(m) == 0 and not attention_layers(m)


# ---------------------------------------------------------------------------------------------
# The attention slot.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["preact", "v1"])
@pytest.mark.parametrize("block", ["basic", "bottleneck"])
def test_se_placement_wiring_follows_fig5(style, block):
    """Fig. 5: standard = residual branch before the sum, pre = branch input, post = after the
    sum, identity = on the shortcut — checked on the graph, for both block styles."""
    branch_out = f"_{'2' if block == 'basic' else '3'}_{'conv' if style == 'preact' else 'bn'}"
    projection = "_0_conv" if style == "preact" else "_0_bn"
    block_input = {"conv2_block1": "pool1_pool", "conv3_block1": "conv2_block1_out"}
    models = {p: se_resnet(**TINY, style=style, block=block, se_placement=p)
              for p in ("standard", "pre", "post", "identity")}
    for b, projects in (("conv2_block1", block == "bottleneck"), ("conv3_block1", True)):
        se, out = f"{b}_se", f"{b}_out"
        add = f"{b}_add" if style == "v1" else out           # v1: add then ReLU; preact: the add is _out
        w = {p: wiring(m, [se, add]) for p, m in models.items()}
        src, dst = w["standard"][se]
        assert src == [f"{b}{branch_out}"] and dst == [add]
        shortcut = f"{b}{projection}" if projects else block_input[b]
        assert sorted(w["standard"][add][0]) == sorted([shortcut, se])
        src, dst = w["pre"][se]
        assert src == [f"{b}_preact_relu" if style == "preact" else block_input[b]]
        assert dst == [f"{b}_1_conv"]                                    # the branch only
        src, dst = w["post"][se]
        assert src == [out] and add not in dst
        src, dst = w["identity"][se]
        assert src == [shortcut] and dst == [add]
        assert sorted(w["identity"][add][0]) == sorted([se, f"{b}{branch_out}"])
    # SE-PRE in a stride-2 block sees the input's channels; the standard SE the output's
    widen = 4 if block == "bottleneck" else 1
    assert models["pre"].get_layer("conv3_block1_se").channels == 16 * widen
    assert models["standard"].get_layer("conv3_block1_se").channels == 32 * widen


class TinyGate(keras.layers.Layer):
    """A user's attention, defined here and never registered: ``x * sigmoid(a)`` per channel."""

    def __init__(self, init: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.a = self.add_weight(name="a", shape=(input_shape[-1],),
                                 initializer=keras.initializers.Constant(self.init))

    def call(self, x):
        return x * keras.ops.sigmoid(self.a)

    def get_config(self):
        return {**super().get_config(), "init": self.init}


@pytest.mark.parametrize("style", ["preact", "v1"])
def test_custom_attention_fills_every_block_without_editing_selib(style):
    m = se_resnet(**{**TINY, "depth": (2, 1)}, style=style, attn=TinyGate, attn_kwargs={"init": 2.0})
    gates = [l for l in m.layers if isinstance(l, TinyGate)]
    assert [l.name for l in gates] == ["conv2_block1_se", "conv2_block2_se", "conv3_block1_se"]
    assert all(float(np.asarray(l.a)[0]) == 2.0 for l in gates) and not se_layers(m)
    # a plain factory works too, and SE's ratio is not forced on it
    m = se_resnet(**TINY, style=style, attn=lambda name: TinyGate(init=-1.0, name=name))
    assert sum(isinstance(l, TinyGate) for l in m.layers) == 2


def test_ratio_none_means_no_se_and_never_switches_off_another_attention():
    assert not attention_layers(se_resnet(**{**TINY, "ratio": None}))
    with pytest.raises(ValueError, match="ratio=None means 'no SE'.*attn=None"):
        se_resnet(**{**TINY, "ratio": None}, attn="eca")
    # attn_kwargs are the layer's own arguments; its ratio wins over the builder's shorthand
    m = se_resnet(**TINY, attn_kwargs={"ratio": 2, "gate": "tanh", "squeeze": "max", "use_bias": True})
    assert [(l.ratio, l.gate, l.squeeze, l.use_bias) for l in se_layers(m)] == [(2, "tanh", "max", True)] * 2


def test_eca_in_the_slot():
    m = se_resnet(**TINY, attn="eca", se_placement="identity")
    eca = attention_layers(m)
    assert [type(l) for l in eca] == [EfficientChannelAttention] * 2 and not se_layers(m)
    assert [l.k for l in eca] == [3, 3] and count_se_params(m) == 0
    assert count_flops(m).se == sum(l.multiply_adds(l.input.shape) for l in eca) > 0
    plain = se_resnet(**{**TINY, "ratio": None})
    assert m.count_params() - plain.count_params() == 6                 # 3 weights a block


def test_se_inception_honours_the_se_options():
    inp = keras.Input((8, 8, 32))
    out = se_inception_module(inp, 32, 16, name="m", attn_kwargs=dict(gate="tanh", squeeze="max",
                                                                      use_bias=True, min_units=4))
    se = keras.Model(inp, out).get_layer("m_se")
    assert (se.gate, se.squeeze, se.use_bias, se.units) == ("tanh", "max", True, 4)
    net = se_inception_net((32, 32, 1), 4, filters=(32, 64), ratio=16,
                           attn_kwargs=dict(gate="relu", squeeze="max", use_bias=True, min_units=3))
    ses = se_layers(net)
    assert [(l.gate, l.squeeze, l.use_bias, l.units) for l in ses] == [("relu", "max", True, 3),
                                                                      ("relu", "max", True, 4)]
    assert [l.name for l in ses] == ["conv2_inception_se", "conv3_inception_se"]
    eca = se_inception_net((32, 32, 1), 4, filters=(32, 64), attn="eca")
    assert [type(l) for l in attention_layers(eca)] == [EfficientChannelAttention] * 2


def test_se_inception():
    m = se_inception_net((32, 32, 1), 4, filters=(32, 64))
    assert [l.channels for l in se_layers(m)] == [32, 64]
    assert isinstance(m.get_layer("conv2_inception_se"), SqueezeExcite)
    y = m.predict(np.zeros((2, 32, 32, 1), "float32"), verbose=0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# keras.applications options.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pooling, shape, last", [(None, (None, 2, 2, 512), "conv5_block2_out"),
                                                  ("avg", (None, 512), "avg_pool"),
                                                  ("max", (None, 512), "max_pool")])
def test_include_top_false_and_pooling(pooling, shape, last):
    m = se_resnet18((64, 64, 3), include_top=False, pooling=pooling)
    assert m.output_shape == shape and m.layers[-1].name == last
    assert "predictions" not in {l.name for l in m.layers}
    v2 = se_resnet18v2((64, 64, 3), include_top=False, pooling=pooling)
    assert v2.output_shape == shape
    i = se_inception_net((32, 32, 1), include_top=False, pooling=pooling)
    assert i.output_shape[-1] == 256


def test_input_tensor_builds_on_a_preprocessing_layer():
    raw = keras.Input((32, 32, 3), dtype="uint8", name="raw")
    x = keras.layers.Rescaling(1 / 255, name="rescale")(raw)
    m = se_resnet(**{**TINY, "input_shape": None}, input_tensor=x)
    assert m.inputs[0].name == raw.name and m.input.dtype == "uint8"
    assert inputs_of(m)["conv1_pad"] == ["rescale"]
    y = m.predict(np.full((2, 32, 32, 3), 255, "uint8"), verbose=0)
    assert y.shape == (2, 4)


def test_input_shape_none_resolves_as_keras_applications():
    assert se_resnet18().input_shape == (None, 224, 224, 3)                     # with the top
    m = se_resnet18(include_top=False, pooling="avg")                           # any size without
    assert m.input_shape == (None, None, None, 3) and m.output_shape == (None, 512)
    assert m.predict(np.zeros((1, 40, 56, 3), "float32"), verbose=0).shape == (1, 512)
    assert se_inception_net(None, include_top=False).input_shape == (None, None, None, 1)
    with pytest.raises(ValueError, match="height, width, channels"):
        se_resnet18((32, 32))


def test_no_regularisation_loss_unless_asked():
    assert se_resnet(**TINY).losses == []                                       # as keras.applications
    assert len(se_resnet(**TINY, l2=1e-4).losses) == 2                          # stem conv, classifier


def test_classifier_weights_of_older_files_named_logits_load(tmp_path):
    old = keras.Sequential([keras.Input((32,)), keras.layers.Dense(4, name="logits")])
    path = str(tmp_path / "old.weights.h5")
    old.save_weights(path)
    m = se_resnet(**TINY)
    assert load_weights_by_name(m, path).loaded == ["predictions"]
    np.testing.assert_array_equal(np.asarray(m.get_layer("predictions").kernel), np.asarray(old.layers[0].kernel))


def test_imagenet_is_refused_and_missing_files_are_clear(tmp_path):
    with pytest.raises(ValueError, match="never downloads"):
        se_resnet50(weights="imagenet")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        se_resnet(**TINY, weights=tmp_path / "nope.weights.h5")


@pytest.mark.slow   # builds and saves two ResNet-50s
def test_keras_resnet50_weights_load_by_name(tmp_path, keras_r50):
    rng = np.random.default_rng(0)
    keras_r50.set_weights([rng.standard_normal(w.shape).astype("float32") for w in keras_r50.weights])
    path = tmp_path / "r50.weights.h5"
    keras_r50.save_weights(path)
    keras.utils.set_random_seed(7)
    loaded = se_resnet50(weights=str(path))
    keras.utils.set_random_seed(7)
    fresh = se_resnet50()
    for layer in keras_r50.layers:
        if layer.weights:
            ours = loaded.get_layer(layer.name)           # the classifier too: "predictions"
            for a, b in zip(layer.weights, ours.weights):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert len(se_layers(loaded)) == 16
    for se in se_layers(loaded):          # attention keeps its initial values
        for a, b in zip(se.weights, fresh.get_layer(se.name).weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    report = load_weights_by_name(fresh, str(path))
    assert sorted(report.skipped) == sorted(l.name for l in se_layers(fresh))
    assert len(report.loaded) == sum(1 for l in keras_r50.layers if l.weights) and not report.unused


@pytest.mark.parametrize("fmt", ["weights.h5", "keras", "h5"])
def test_weights_formats_and_shape_mismatch(tmp_path, fmt):
    keras.utils.set_random_seed(1)
    plain = se_resnet(**{**TINY, "ratio": None, "num_classes": 3})
    path = str(tmp_path / f"plain.{fmt}")
    plain.save_weights(path) if fmt == "weights.h5" else plain.save(path)
    m = se_resnet(**TINY)                            # 4 classes: the classifier cannot load
    report = load_weights_by_name(m, path)
    assert "not in the file" in report.skipped["conv2_block1_se"]
    assert "shapes" in report.skipped["predictions"]
    np.testing.assert_array_equal(np.asarray(m.get_layer("conv3_block1_2_conv").kernel),
                                  np.asarray(plain.get_layer("conv3_block1_2_conv").kernel))
    assert len(report.loaded) == sum(1 for l in plain.layers if l.weights) - 1


# ---------------------------------------------------------------------------------------------
# Arguments and serialisation.
# ---------------------------------------------------------------------------------------------
def test_width_and_small_stem():
    m = se_resnet((32, 32, 1), 3, depth=(1, 1), filters=(16, 32), width=2, stem_stride=1,
                  stem_pool=False, initial_filters=8)
    assert m.get_layer("conv3_block1_se").channels == 64
    assert m.output_shape == (None, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="equal length"):
        se_resnet(depth=(1, 1), filters=(8,))
    with pytest.raises(ValueError, match="se_placement"):
        se_resnet((32, 32, 3), 2, depth=(1,), filters=(8,), se_placement="middle")
    with pytest.raises(ValueError, match="style"):
        se_resnet((32, 32, 3), 2, depth=(1,), filters=(8,), style="v3")
    with pytest.raises(ValueError, match="pooling"):
        se_resnet((32, 32, 3), 2, depth=(1,), filters=(8,), include_top=False, pooling="sum")
    with pytest.raises(ValueError, match="unknown attention"):
        se_resnet((32, 32, 3), 2, depth=(1,), filters=(8,), attn="cbam")
    with pytest.raises(TypeError):
        se_resnet((32, 32, 3), 2, (1,))                # keyword-only after input_shape, num_classes


@pytest.mark.parametrize("attn", ["se", "eca"])
@pytest.mark.parametrize("style", ["preact", "v1"])
def test_model_roundtrip_safe_mode(tmp_path, attn, style):
    m = se_resnet((32, 32, 1), 4, depth=(1, 1), filters=(8, 16), initial_filters=8, ratio=4,
                  attn=attn, style=style, attn_kwargs={"min_units": 3} if attn == "se" else None)
    x = np.random.default_rng(0).random((2, 32, 32, 1)).astype("float32")
    path = tmp_path / "m.keras"
    m.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), m.predict(x, verbose=0), atol=1e-6)
    assert [type(l) for l in attention_layers(loaded)] == [type(l) for l in attention_layers(m)]
    if attn == "se":
        assert [l.units for l in se_layers(loaded)] == [3, 4]


def test_se_stages_puts_se_in_the_named_stages_only():
    """The journal's "SE in one stage only" (Table 13): stage numbers as in the layer names."""
    kw = dict(depth=(1, 2, 1), filters=(16, 32, 64), ratio=4, initial_filters=16)
    every = {layer.name for layer in se_layers(se_resnet((32, 32, 3), 4, **kw))}
    assert every == {"conv2_block1_se", "conv3_block1_se", "conv3_block2_se", "conv4_block1_se"}
    only3 = se_resnet((32, 32, 3), 4, se_stages=[3], **kw)
    assert {layer.name for layer in se_layers(only3)} == {"conv3_block1_se", "conv3_block2_se"}
    plain = se_resnet((32, 32, 3), 4, **dict(kw, ratio=None))
    assert only3.count_params() - plain.count_params() == 2 * (2 * 32 * 8)
    with pytest.raises(ValueError, match=r"se_stages \(5,\) must name stages of this network: \[2, 3, 4\]"):
        se_resnet((32, 32, 3), 4, se_stages=(5,), **kw)
