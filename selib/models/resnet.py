"""The SE-ResNet family (and an SE-Inception), built functionally from Keras layers only.

One builder, :func:`se_resnet`, makes every variant; the presets are thin wrappers, in the
style of ``keras/applications/resnet.py``. Only Keras layers are used (no ``Lambda`` and no
``tf.*`` calls in the graph), so saved ``.keras`` files reload with ``safe_mode=True``.

Two block styles:

* ``style="preact"`` — the seed report's code (itself from the popular Keras SE-ResNet
  implementation): pre-activation blocks (BN-ReLU before each conv), SE on the residual branch
  before the addition, a 1×1 projection shortcut when the shape changes, a 7×7/2 stem conv
  without BN, a 3×3/2 max-pool, and a BN-ReLU-GAP-Dense(no bias) head.
* ``style="v1"`` — the paper's SE-ResNet (post-activation, stride on the first 1×1 of the
  bottleneck, projection shortcut with BN, SE before the sum). With ``ratio=None`` it is the
  same network as ``keras.applications.ResNet50(weights=None)``.
"""
from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

from selib.layers.squeeze_excite import SqueezeExcite

PLACEMENTS = ("standard", "pre", "post", "identity")
_BN_EPS_V1 = 1.001e-5  # keras.applications' value, so v1 matches ResNet50 exactly


class _Ctx:
    """Options shared by every block of one network (keeps the block signatures short)."""

    def __init__(self, ratio, se_placement, se_gate, se_squeeze, se_use_bias, weight_decay):
        if se_placement not in PLACEMENTS:
            raise ValueError(f"se_placement must be one of {PLACEMENTS}, got {se_placement!r}")
        self.ratio = ratio
        self.placement = se_placement
        self.gate = se_gate
        self.squeeze = se_squeeze
        self.use_bias = se_use_bias
        self.reg = keras.regularizers.L2(weight_decay) if weight_decay else None

    def se(self, x, name: str):
        if self.ratio is None:
            return x
        return SqueezeExcite(self.ratio, use_bias=self.use_bias, gate=self.gate,
                             squeeze=self.squeeze, name=name)(x)

    def at(self, where: str) -> bool:
        return self.ratio is not None and self.placement == where


def _channels(x) -> int:
    return int(x.shape[-1])


# --------------------------------------------------------------------------------------------
# Pre-activation blocks (seed report style).
# --------------------------------------------------------------------------------------------
def _preact_block(x, filters: int, strides: int, bottleneck: bool, ctx: _Ctx, name: str):
    out_ch = filters * 4 if bottleneck else filters
    shortcut = x
    pre = layers.BatchNormalization(name=f"{name}_preact_bn")(x)
    pre = layers.Activation("relu", name=f"{name}_preact_relu")(pre)
    if strides != 1 or _channels(x) != out_ch:
        shortcut = layers.Conv2D(out_ch, 1, strides=strides, padding="same", use_bias=False,
                                 kernel_initializer="he_normal", name=f"{name}_proj")(pre)
    branch = ctx.se(pre, f"{name}_se") if ctx.at("pre") else pre
    conv = dict(padding="same", use_bias=False, kernel_initializer="he_normal")
    if bottleneck:
        r = layers.Conv2D(filters, 1, name=f"{name}_1_conv", **conv)(branch)
        r = layers.BatchNormalization(name=f"{name}_1_bn")(r)
        r = layers.Activation("relu", name=f"{name}_1_relu")(r)
        r = layers.Conv2D(filters, 3, strides=strides, name=f"{name}_2_conv", **conv)(r)
        r = layers.BatchNormalization(name=f"{name}_2_bn")(r)
        r = layers.Activation("relu", name=f"{name}_2_relu")(r)
        r = layers.Conv2D(out_ch, 1, name=f"{name}_3_conv", **conv)(r)
    else:
        r = layers.Conv2D(filters, 3, strides=strides, name=f"{name}_1_conv", **conv)(branch)
        r = layers.BatchNormalization(name=f"{name}_1_bn")(r)
        r = layers.Activation("relu", name=f"{name}_1_relu")(r)
        r = layers.Conv2D(filters, 3, name=f"{name}_2_conv", **conv)(r)
    if ctx.at("standard"):
        r = ctx.se(r, f"{name}_se")
    if ctx.at("identity"):
        shortcut = ctx.se(shortcut, f"{name}_se")
    out = layers.Add(name=f"{name}_add")([r, shortcut])
    if ctx.at("post"):
        out = ctx.se(out, f"{name}_se")
    return out


# --------------------------------------------------------------------------------------------
# Post-activation blocks (paper / keras.applications style).
# --------------------------------------------------------------------------------------------
def _v1_block(x, filters: int, strides: int, bottleneck: bool, ctx: _Ctx, name: str):
    out_ch = filters * 4 if bottleneck else filters
    bn = dict(epsilon=_BN_EPS_V1)
    if strides != 1 or _channels(x) != out_ch:
        shortcut = layers.Conv2D(out_ch, 1, strides=strides, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_0_bn", **bn)(shortcut)
    else:
        shortcut = x
    branch = ctx.se(x, f"{name}_se") if ctx.at("pre") else x
    if bottleneck:
        r = layers.Conv2D(filters, 1, strides=strides, name=f"{name}_1_conv")(branch)
        r = layers.BatchNormalization(name=f"{name}_1_bn", **bn)(r)
        r = layers.Activation("relu", name=f"{name}_1_relu")(r)
        r = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(r)
        r = layers.BatchNormalization(name=f"{name}_2_bn", **bn)(r)
        r = layers.Activation("relu", name=f"{name}_2_relu")(r)
        r = layers.Conv2D(out_ch, 1, name=f"{name}_3_conv")(r)
        r = layers.BatchNormalization(name=f"{name}_3_bn", **bn)(r)
    else:
        r = layers.Conv2D(filters, 3, strides=strides, padding="same", name=f"{name}_1_conv")(branch)
        r = layers.BatchNormalization(name=f"{name}_1_bn", **bn)(r)
        r = layers.Activation("relu", name=f"{name}_1_relu")(r)
        r = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(r)
        r = layers.BatchNormalization(name=f"{name}_2_bn", **bn)(r)
    if ctx.at("standard"):
        r = ctx.se(r, f"{name}_se")
    if ctx.at("identity"):
        shortcut = ctx.se(shortcut, f"{name}_se")
    out = layers.Add(name=f"{name}_add")([r, shortcut])
    out = layers.Activation("relu", name=f"{name}_out")(out)
    if ctx.at("post"):
        out = ctx.se(out, f"{name}_se")
    return out


# --------------------------------------------------------------------------------------------
# The builder.
# --------------------------------------------------------------------------------------------
def se_resnet(
    input_shape: Sequence[int] = (224, 224, 3),
    num_classes: int = 1000,
    depth: Sequence[int] = (2, 2, 2, 2),
    filters: Sequence[int] = (64, 128, 256, 512),
    block: str = "basic",
    style: str = "preact",
    ratio: int | None = 16,
    width: float = 1,
    initial_filters: int = 64,
    weight_decay: float = 1e-4,
    se_placement: str = "standard",
    se_gate: str = "sigmoid",
    se_squeeze: str = "avg",
    se_use_bias: bool = False,
    stem_stride: int = 2,
    stem_pool: bool = True,
    name: str | None = None,
) -> keras.Model:
    """Build an (SE-)ResNet.

    Args:
        depth: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18, ``(3, 4, 6, 3)`` for 50.
        filters: base filters per stage (bottleneck blocks output 4× this).
        block: ``"basic"`` (two 3×3 convs) or ``"bottleneck"`` (1×1-3×3-1×1).
        style: ``"preact"`` (the seed report's code) or ``"v1"`` (the paper / keras.applications).
        ratio: SE reduction ratio ``r``; ``None`` builds the plain ResNet.
        width: multiplies every stage's filters (wide or slim variants).
        weight_decay: L2 on the stem conv and the classifier, as in the seed code.
        se_placement: ``standard`` (residual branch, before the sum), ``pre`` (on the branch
            input), ``post`` (after the sum), ``identity`` (on the shortcut) — the paper's Fig. 5.
        stem_stride, stem_pool: shrink the stem for small images (``1, False`` keeps 32² inputs
            from collapsing to 1×1); the presets keep the standard ``2, True``.

    The classifier ends in a separate float32 softmax so mixed-precision training keeps its
    output in float32 and Grad-CAM can reach the logits.
    """
    if len(depth) != len(filters):
        raise ValueError(f"depth {tuple(depth)} and filters {tuple(filters)} must have equal length")
    if block not in ("basic", "bottleneck"):
        raise ValueError(f"block must be 'basic' or 'bottleneck', got {block!r}")
    if style not in ("preact", "v1"):
        raise ValueError(f"style must be 'preact' or 'v1', got {style!r}")
    ctx = _Ctx(ratio, se_placement, se_gate, se_squeeze, se_use_bias, weight_decay)
    bottleneck = block == "bottleneck"
    stage_filters = [max(1, int(round(f * width))) for f in filters]

    inputs = keras.Input(shape=tuple(input_shape), name="image")
    if style == "preact":
        x = layers.Conv2D(int(initial_filters), 7, strides=stem_stride, padding="same", use_bias=False,
                          kernel_initializer="he_normal", kernel_regularizer=ctx.reg,
                          name="stem_conv")(inputs)
        if stem_pool:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
        make_block = _preact_block
    else:
        x = layers.ZeroPadding2D(3, name="stem_pad")(inputs)
        x = layers.Conv2D(int(initial_filters), 7, strides=stem_stride, kernel_regularizer=ctx.reg,
                          name="stem_conv")(x)
        x = layers.BatchNormalization(epsilon=_BN_EPS_V1, name="stem_bn")(x)
        x = layers.Activation("relu", name="stem_relu")(x)
        if stem_pool:
            x = layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
            x = layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
        make_block = _v1_block

    for s, (n_blocks, f) in enumerate(zip(depth, stage_filters), start=1):
        for b in range(1, int(n_blocks) + 1):
            strides = 2 if (s > 1 and b == 1) else 1
            x = make_block(x, f, strides, bottleneck, ctx, name=f"stage{s}_block{b}")

    if style == "preact":
        x = layers.BatchNormalization(name="head_bn")(x)
        x = layers.Activation("relu", name="head_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dense(num_classes, use_bias=(style == "v1"), kernel_regularizer=ctx.reg,
                     kernel_initializer="he_normal" if style == "preact" else "glorot_uniform",
                     name="logits")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="predictions")(x)
    if name is None:
        kind = "se_resnet" if ratio is not None else "resnet"
        name = f"{kind}_{style}_{'-'.join(str(int(d)) for d in depth)}_{block}"
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------------------------
# Presets.
# --------------------------------------------------------------------------------------------
def se_resnet18(input_shape=(224, 224, 3), num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-18: basic blocks (2, 2, 2, 2)."""
    return se_resnet(input_shape, num_classes, depth=(2, 2, 2, 2), block="basic", **kwargs)


def se_resnet34(input_shape=(224, 224, 3), num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-34: basic blocks (3, 4, 6, 3)."""
    return se_resnet(input_shape, num_classes, depth=(3, 4, 6, 3), block="basic", **kwargs)


def se_resnet50(input_shape=(224, 224, 3), num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-50: bottleneck blocks (3, 4, 6, 3) — the paper's main model."""
    return se_resnet(input_shape, num_classes, depth=(3, 4, 6, 3), block="bottleneck", **kwargs)


def se_resnet101(input_shape=(224, 224, 3), num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-101: bottleneck blocks (3, 4, 23, 3)."""
    return se_resnet(input_shape, num_classes, depth=(3, 4, 23, 3), block="bottleneck", **kwargs)


def se_resnet152(input_shape=(224, 224, 3), num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-152: bottleneck blocks (3, 8, 36, 3)."""
    return se_resnet(input_shape, num_classes, depth=(3, 8, 36, 3), block="bottleneck", **kwargs)


SEED_DEPTH = (2, 1, 1, 2)


def seed_model(input_shape=(473, 473, 1), num_classes: int = 4, **kwargs) -> keras.Model:
    """The seed report's network, reproduced exactly (9,777,472 parameters at 473×473×1).

    The report called it SE-ResNet-18, but its model summary (9,777,472 parameters: 9,771,200
    trainable, 6,272 non-trainable) is reproduced only by blocks per stage ``[2, 1, 1, 2]``. Its
    code has the ``for i in range(N[k] - 1)`` loop dedented out of the ``for k in …`` stage
    loop, so stages 2 and 3 get one block each and the leftover loop, run once with the last
    ``k``, appends one more 512-filter block to stage 4. A correct SE-ResNet-18 at the same
    input (:func:`se_resnet18` with ``style="preact"``) has 11,265,344 parameters.
    """
    kwargs.setdefault("name", "seed_se_resnet")
    return se_resnet(input_shape, num_classes, depth=SEED_DEPTH, block="basic", style="preact",
                     ratio=16, **kwargs)


# --------------------------------------------------------------------------------------------
# SE-Inception (the paper's Fig. 2).
# --------------------------------------------------------------------------------------------
def _conv_bn(x, filters: int, kernel: int, name: str, strides: int = 1):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def se_inception_module(x, filters: int = 64, ratio: int | None = 16, name: str = "inception"):
    """An Inception block (1×1, 1×1→3×3, 1×1→3×3→3×3, pool→1×1 branches, concatenated) with SE
    applied to its whole output — SE wraps any transformation F_tr, not only residual ones."""
    f = max(1, filters // 4)
    b1 = _conv_bn(x, f, 1, f"{name}_b1")
    b2 = _conv_bn(_conv_bn(x, f, 1, f"{name}_b2a"), f, 3, f"{name}_b2b")
    b3 = _conv_bn(_conv_bn(_conv_bn(x, f, 1, f"{name}_b3a"), f, 3, f"{name}_b3b"), f, 3, f"{name}_b3c")
    b4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_b4_pool")(x)
    b4 = _conv_bn(b4, f, 1, f"{name}_b4")
    out = layers.Concatenate(name=f"{name}_concat")([b1, b2, b3, b4])
    if ratio is not None:
        out = SqueezeExcite(ratio, name=f"{name}_se")(out)
    return out


def se_inception_net(input_shape=(128, 128, 1), num_classes: int = 4, filters: Sequence[int] = (64, 128, 256),
                     ratio: int | None = 16, name: str = "se_inception") -> keras.Model:
    """A small SE-Inception network: stem, one SE-Inception module per stage with max-pool
    down-sampling between stages, GAP and a softmax classifier."""
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = _conv_bn(inputs, 32, 3, "stem", strides=2)
    for i, f in enumerate(filters, start=1):
        if i > 1:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"stage{i}_pool")(x)
        x = se_inception_module(x, f, ratio, name=f"stage{i}_inception")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
