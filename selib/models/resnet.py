"""The SE-ResNet family, built functionally from Keras layers only, in the mould of
``keras/src/applications/resnet.py``.

One builder, :func:`se_resnet`, makes every variant from small named parts —
:func:`residual_block_v1`, :func:`residual_block_v2`, :func:`stack_residual_blocks` and
:func:`residual_join` — and the presets only pass a stack spec. Only Keras layers are used (no
``Lambda``, no ``tf.*`` calls in the graph), so saved ``.keras`` files reload with
``safe_mode=True`` and the models run on TensorFlow or JAX.

Two block styles:

* ``style="v1"`` (default; :func:`se_resnet50` …) — the paper's SE-ResNet: post-activation,
  stride on the first 1×1 of the bottleneck, projection shortcut with BN. With ``ratio=None``
  it *is* ``keras.applications.ResNet50(weights=None)``: the same layers under the same names,
  the classifier included, so the same weights give the same outputs.
* ``style="preact"`` (:func:`se_resnet50v2` …, and :func:`~selib.models.seed.seed_model`) — the
  seed report's code (itself from the popular Keras SE-ResNet implementation): pre-activation
  blocks (BN-ReLU before each conv, convs without bias), a 1×1 projection shortcut from the
  pre-activation when the shape changes, a 7×7/2 ``same`` stem conv without BN, a 3×3/2 max-pool,
  and a BN-ReLU-GAP-Dense(no bias) head. It is *not* keras' ``ResNet50V2`` (which strides the
  last block of a stage and keeps conv biases); the layers that correspond carry its names.

Layer names follow keras.applications (stages are numbered from 2; the stem is 1):

* stem: ``conv1_pad``, ``conv1_conv``, ``conv1_bn``, ``conv1_relu``, ``pool1_pad``,
  ``pool1_pool`` (preact: ``conv1_conv`` and ``pool1_pool`` only, both with ``same`` padding);
* residual branch: ``conv{s}_block{b}_{k}_conv|bn|relu`` with ``k`` = 1, 2 (, 3 in bottlenecks);
* projection shortcut: ``conv{s}_block{b}_0_conv`` and ``_0_bn`` (preact: ``_0_conv`` only);
* pre-activation (preact): ``conv{s}_block{b}_preact_bn``, ``_preact_relu``;
* the sum: v1 ``conv{s}_block{b}_add`` then its ReLU ``_out``; preact: the sum is ``_out``;
* the attention slot: ``conv{s}_block{b}_se``, whatever fills it (SE, ECA or your own layer);
* head: preact ``post_bn``, ``post_relu``; then ``avg_pool`` (``max_pool`` with
  ``include_top=False, pooling="max"``) and the classifier ``predictions``: one Dense with the
  softmax inside, as keras', so a keras.applications weights file loads its head by name. It
  computes in float32 under a mixed-precision policy, so the probabilities stay in float32.

Like keras.applications, a network adds no regularisation loss unless asked: weight decay belongs
to the optimiser (AdamW), or to the explicit ``l2`` argument (the seed code's L2 on the stem conv
and the classifier, off by default).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import keras
from keras import layers

from selib.layers.attention import AttnSpec, attend, attn_options, get_attn
from selib.models.weights import check_weights, load_weights_by_name

PLACEMENTS = ("standard", "pre", "post", "identity")
STYLES = ("v1", "preact")
POOLINGS = (None, "avg", "max")
_BN_EPS_V1 = 1.001e-5  # keras.applications' value, so v1 matches ResNet50 exactly
# preact convs: the seed code's settings (no bias, he_normal, 'same' padding everywhere)
_PREACT_CONV = dict(padding="same", use_bias=False, kernel_initializer="he_normal")


# --------------------------------------------------------------------------------------------
# The attention slot inside a residual block: the paper's Fig. 5, for both block styles.
# --------------------------------------------------------------------------------------------
def residual_join(shortcut, branch_in, residual: Callable, *, attn: AttnSpec = None,
                  attn_kwargs: Mapping[str, Any] | None = None, placement: str = "standard",
                  activation: str | None = None, name: str):
    """Run a block's residual branch and add its shortcut, with the attention slot placed as
    in the paper's Fig. 5 — the one place the four placements are written.

    Args:
        shortcut: the shortcut tensor (identity or projection).
        branch_in: the residual branch's input.
        residual: ``residual(t)`` builds the branch on ``t`` and returns its output.
        attn, attn_kwargs: the attention (see :func:`selib.layers.attention.get_attn`);
            ``None`` builds a plain block. Its layer is named ``{name}_se``.
        placement: ``"standard"`` (on the branch output, before the sum), ``"pre"`` (on the
            branch input), ``"post"`` (after the sum, and after ``activation``) or
            ``"identity"`` (on the shortcut).
        activation: applied after the sum as ``{name}_out`` (v1's ReLU); the sum is then
            ``{name}_add``. Without it the sum itself is ``{name}_out`` (keras' v2 naming).
        name: the block's name.

    Returns:
        The block's output tensor.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"se_placement must be one of {PLACEMENTS}, got {placement!r}")
    where = placement if get_attn(attn) is not None else None

    def slot(t):
        return attend(t, attn, attn_kwargs, name=f"{name}_se")

    if where == "pre":
        branch_in = slot(branch_in)
    r = residual(branch_in)
    if where == "standard":
        r = slot(r)
    if where == "identity":
        shortcut = slot(shortcut)
    if activation is None:
        out = layers.Add(name=f"{name}_out")([shortcut, r])
    else:
        out = layers.Add(name=f"{name}_add")([shortcut, r])
        out = layers.Activation(activation, name=f"{name}_out")(out)
    return slot(out) if where == "post" else out


def _needs_projection(x, out_channels: int, stride: int, conv_shortcut: bool | None) -> bool:
    if conv_shortcut is not None:
        return bool(conv_shortcut)
    return stride != 1 or int(x.shape[-1]) != out_channels


# --------------------------------------------------------------------------------------------
# Blocks and stacks.
# --------------------------------------------------------------------------------------------
def residual_block_v1(x, filters: int, *, kernel_size: int = 3, stride: int = 1,
                      bottleneck: bool = True, conv_shortcut: bool | None = None,
                      attn: AttnSpec = None, attn_kwargs: Mapping[str, Any] | None = None,
                      placement: str = "standard", name: str):
    """A post-activation residual block (the paper's SE-ResNet; keras' ``residual_block_v1``).

    Args:
        x: input tensor.
        filters: filters of the branch convs; a bottleneck block outputs ``4 * filters``.
        kernel_size: of the 3×3 conv(s).
        stride: on the first conv of the branch and on the projection.
        bottleneck: 1×1-3×3-1×1 (ResNet-50 and deeper) or two 3×3 convs (ResNet-18/34).
        conv_shortcut: projection (1×1 conv + BN) or identity shortcut; ``None`` projects
            exactly when the stride or the channels change.
        attn, attn_kwargs, placement: the attention slot (see :func:`residual_join`).
        name: block label, e.g. ``"conv2_block1"``.

    Returns:
        Output tensor for the block.
    """
    out_ch = 4 * filters if bottleneck else filters
    bn = dict(epsilon=_BN_EPS_V1)
    shortcut = x
    if _needs_projection(x, out_ch, stride, conv_shortcut):
        shortcut = layers.Conv2D(out_ch, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_0_bn", **bn)(shortcut)

    def branch(t):
        if bottleneck:
            convs = [(filters, 1, stride), (filters, kernel_size, 1), (out_ch, 1, 1)]
        else:
            convs = [(filters, kernel_size, stride), (filters, kernel_size, 1)]
        for k, (f, size, s) in enumerate(convs, start=1):
            t = layers.Conv2D(f, size, strides=s, padding="valid" if size == 1 else "same",
                              name=f"{name}_{k}_conv")(t)
            t = layers.BatchNormalization(name=f"{name}_{k}_bn", **bn)(t)
            if k < len(convs):
                t = layers.Activation("relu", name=f"{name}_{k}_relu")(t)
        return t

    return residual_join(shortcut, x, branch, attn=attn, attn_kwargs=attn_kwargs,
                         placement=placement, activation="relu", name=name)


def residual_block_v2(x, filters: int, *, kernel_size: int = 3, stride: int = 1,
                      bottleneck: bool = True, conv_shortcut: bool | None = None,
                      attn: AttnSpec = None, attn_kwargs: Mapping[str, Any] | None = None,
                      placement: str = "standard", name: str):
    """A pre-activation residual block (the seed report's; named like keras' ``residual_block_v2``).

    BN-ReLU (``_preact_bn``, ``_preact_relu``) first; the projection shortcut (``_0_conv``, no
    BN) and the branch both start from it; the sum is the output (``_out``). All convs have no
    bias and ``he_normal`` weights, as in the seed code.

    Args:
        x: input tensor.
        filters: filters of the branch convs; a bottleneck block outputs ``4 * filters``.
        kernel_size: of the 3×3 conv(s).
        stride: on the 3×3 conv of the branch (the first one in a basic block) and the projection.
        bottleneck: 1×1-3×3-1×1 or two 3×3 convs.
        conv_shortcut: projection or identity shortcut; ``None`` projects exactly when the
            stride or the channels change.
        attn, attn_kwargs, placement: the attention slot (see :func:`residual_join`); ``"pre"``
            recalibrates the pre-activated input of the branch (not of the shortcut).
        name: block label, e.g. ``"conv2_block1"``.

    Returns:
        Output tensor for the block.
    """
    out_ch = 4 * filters if bottleneck else filters
    pre = layers.BatchNormalization(name=f"{name}_preact_bn")(x)
    pre = layers.Activation("relu", name=f"{name}_preact_relu")(pre)
    shortcut = x
    if _needs_projection(x, out_ch, stride, conv_shortcut):
        shortcut = layers.Conv2D(out_ch, 1, strides=stride, name=f"{name}_0_conv", **_PREACT_CONV)(pre)

    def branch(t):
        if bottleneck:
            convs = [(filters, 1, 1), (filters, kernel_size, stride), (out_ch, 1, 1)]
        else:
            convs = [(filters, kernel_size, stride), (filters, kernel_size, 1)]
        for k, (f, size, s) in enumerate(convs, start=1):
            t = layers.Conv2D(f, size, strides=s, name=f"{name}_{k}_conv", **_PREACT_CONV)(t)
            if k < len(convs):
                t = layers.BatchNormalization(name=f"{name}_{k}_bn")(t)
                t = layers.Activation("relu", name=f"{name}_{k}_relu")(t)
        return t

    return residual_join(shortcut, pre, branch, attn=attn, attn_kwargs=attn_kwargs,
                         placement=placement, activation=None, name=name)


def stack_residual_blocks(x, filters: int, blocks: int, *, stride1: int = 2, style: str = "v1",
                          **block_kwargs):
    """A stage: ``blocks`` residual blocks, the first with stride ``stride1``.

    Args:
        x: input tensor.
        filters: filters of the blocks' branch convs.
        blocks: number of blocks (at least 1).
        stride1: stride of the first block (keras: 1 for ``conv2``, 2 afterwards).
        style: ``"v1"`` (:func:`residual_block_v1`) or ``"preact"`` (:func:`residual_block_v2`).
        **block_kwargs: passed to every block — ``bottleneck``, ``attn``, ``attn_kwargs``,
            ``placement``, ``kernel_size``; ``name`` is the stage label (``"conv2"``).

    Returns:
        Output tensor for the stacked blocks.
    """
    name = block_kwargs.pop("name")
    block = residual_block_v1 if style == "v1" else residual_block_v2
    x = block(x, filters, stride=stride1, name=f"{name}_block1", **block_kwargs)
    for i in range(2, int(blocks) + 1):
        x = block(x, filters, name=f"{name}_block{i}", **block_kwargs)
    return x


# --------------------------------------------------------------------------------------------
# Stem, inputs and top (shared with selib.models.inception).
# --------------------------------------------------------------------------------------------
def _stem(x, style: str, filters: int, stride: int, pool: bool, reg):
    if style == "preact":
        x = layers.Conv2D(filters, 7, strides=stride, kernel_regularizer=reg, name="conv1_conv",
                          **_PREACT_CONV)(x)
        if pool:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_pool")(x)
        return x
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(filters, 7, strides=stride, kernel_regularizer=reg, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPS_V1, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    if pool:
        x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    return x


def default_input_shape(input_shape: Sequence[int | None] | None, *, include_top: bool,
                        default: Sequence[int] = (224, 224, 3)) -> tuple:
    """The input shape, with ``None`` resolved as keras.applications does (``obtain_input_shape``):
    ``default`` (224×224×3) with ``include_top``, else ``(None, None, channels)``, any size.

    A given shape must be ``(H, W, C)`` (``H`` and ``W`` may be ``None``: the head pools
    globally, so unlike keras no static size is needed even with ``include_top``)."""
    if input_shape is None:
        return tuple(default) if include_top else (None, None, int(default[-1]))
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] is None:
        raise ValueError(f"input_shape must be (height, width, channels) with known channels, "
                         f"got {input_shape!r}")
    return shape


def model_inputs(input_shape: Sequence[int | None] | None, input_tensor=None, *,
                 include_top: bool = True, default: Sequence[int] = (224, 224, 3)):
    """The image input: a new ``keras.Input`` named ``image`` (shape from
    :func:`default_input_shape`), or ``input_tensor`` (a Keras tensor — e.g. the output of a
    ``Rescaling`` layer — or a backend tensor to wrap)."""
    if input_tensor is None:
        shape = default_input_shape(input_shape, include_top=include_top, default=default)
        return keras.Input(shape=shape, name="image")
    if keras.backend.is_keras_tensor(input_tensor):
        return input_tensor
    return keras.Input(tensor=input_tensor, name="image")


def classifier_top(x, *, include_top: bool, pooling: str | None, num_classes: int,
                   use_bias: bool = True, kernel_initializer: str = "glorot_uniform",
                   kernel_regularizer=None, classifier_activation: str | None = "softmax"):
    """keras.applications' top: with ``include_top``, ``avg_pool`` → Dense ``predictions``
    (``classifier_activation`` inside, computed in float32); without it, ``pooling`` ``"avg"``
    (``avg_pool``), ``"max"`` (``max_pool``) or ``None`` (the 4-D feature map)."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if not include_top:
        if pooling == "avg":
            return layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if pooling == "max":
            return layers.GlobalMaxPooling2D(name="max_pool")(x)
        return x
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    # float32: mixed-precision training keeps the probabilities (and the loss) in float32;
    # Grad-CAM reads the logits from this layer's kernel (selib.analysis.gradcam.split_at)
    return layers.Dense(num_classes, activation=classifier_activation, use_bias=use_bias,
                        kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer,
                        dtype="float32", name="predictions")(x)


def finish_model(image, outputs, *, input_tensor, weights: str | None, name: str) -> keras.Model:
    """The ``keras.Model`` from the image input (or ``input_tensor``'s source inputs, as
    keras.applications does) to ``outputs``, with ``weights`` loaded by layer name."""
    inputs = image
    if input_tensor is not None:
        sources = keras.utils.get_source_inputs(input_tensor)
        inputs = sources[0] if len(sources) == 1 else sources
    model = keras.Model(inputs, outputs, name=name)
    if weights is not None:
        load_weights_by_name(model, weights)
    return model


# --------------------------------------------------------------------------------------------
# The builder.
# --------------------------------------------------------------------------------------------
def _check(depth, filters, block: str, style: str, placement: str, se_stages=None) -> None:
    if se_stages is not None and not set(int(v) for v in se_stages) <= set(range(2, len(depth) + 2)):
        raise ValueError(f"se_stages {tuple(se_stages)} must name stages of this network: "
                         f"{list(range(2, len(depth) + 2))} (keras numbering, conv2 first)")
    if len(depth) != len(filters):
        raise ValueError(f"depth {tuple(depth)} and filters {tuple(filters)} must have equal length")
    if not depth or min(int(d) for d in depth) < 1:
        raise ValueError(f"depth needs at least one stage of at least one block, got {tuple(depth)}")
    if block not in ("basic", "bottleneck"):
        raise ValueError(f"block must be 'basic' or 'bottleneck', got {block!r}")
    if style not in STYLES:
        raise ValueError(f"style must be 'v1' or 'preact', got {style!r}")
    if placement not in PLACEMENTS:
        raise ValueError(f"se_placement must be one of {PLACEMENTS}, got {placement!r}")


def se_resnet(
    input_shape: Sequence[int | None] | None = None,
    num_classes: int = 1000,
    *,
    depth: Sequence[int] = (2, 2, 2, 2),
    filters: Sequence[int] = (64, 128, 256, 512),
    block: str = "basic",
    style: str = "v1",
    attn: AttnSpec = "se",
    attn_kwargs: Mapping[str, Any] | None = None,
    ratio: int | None = 16,
    se_placement: str = "standard",
    se_stages: Sequence[int] | None = None,
    width: float = 1,
    initial_filters: int = 64,
    l2: float = 0.0,
    stem_stride: int = 2,
    stem_pool: bool = True,
    include_top: bool = True,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    input_tensor=None,
    weights: str | None = None,
    name: str | None = None,
) -> keras.Model:
    """Build an (SE-)ResNet.

    Args:
        input_shape: ``(H, W, C)``; ``None`` (default) as keras.applications: 224×224×3 with
            ``include_top``, else ``(None, None, 3)``. Ignored when ``input_tensor`` is given.
        num_classes: outputs of the classifier (with ``include_top``); keras' ``classes``.
        depth: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18, ``(3, 4, 6, 3)`` for 50.
        filters: base filters per stage (bottleneck blocks output 4× this).
        block: ``"basic"`` (two 3×3 convs) or ``"bottleneck"`` (1×1-3×3-1×1).
        style: ``"v1"`` (the paper / keras ``ResNet50``) or ``"preact"`` (the seed report's code).
        attn: what fills the attention slot: ``"se"``, ``"eca"``, a registered name, a Layer
            subclass or a factory (:func:`selib.layers.attention.get_attn`); ``None`` for none.
        attn_kwargs: the attention layer's own options, by its argument names — for SE
            ``min_units``, ``gate``, ``squeeze``, ``use_bias`` (and ``ratio``); for ECA
            ``kernel_size``, ``gamma``, ``beta``.
        ratio: SE's reduction ratio ``r`` (the paper's 16), given to SE layers unless
            ``attn_kwargs`` names one. ``ratio=None`` means *no SE*: the plain ResNet (with any
            other attention it is an error — pass ``attn=None`` for no attention).
        se_placement: ``standard`` (residual branch, before the sum), ``pre`` (on the branch
            input), ``post`` (after the sum), ``identity`` (on the shortcut) — the paper's Fig. 5.
            It places any attention, not only SE.
        se_stages: the stages whose blocks get the attention, numbered as the layer names
            (``2`` = ``conv2``, the first); ``None`` (default) = every stage. ``(4,)`` is the
            journal's "SE in one stage only" ablation (TPAMI Table 13).
        width: multiplies every stage's filters (wide or slim variants).
        initial_filters: filters of the stem conv.
        l2: an L2 penalty on the stem conv's and the classifier's kernels, added to
            ``model.losses`` (the seed code used 1e-4); ``0`` (default) adds none, as keras.
        stem_stride, stem_pool: shrink the stem for small images (``1, False`` keeps 32² inputs
            from collapsing to 1×1); the presets keep the standard ``2, True``.
        include_top, pooling, classifier_activation: as in keras.applications (see
            :func:`classifier_top`).
        input_tensor: build on this Keras tensor (e.g. a ``Rescaling`` layer's output); the
            model's inputs are then its source inputs.
        weights: ``None`` or the path of a local weights file, loaded by layer name
            (:func:`selib.models.weights.load_weights_by_name`). Nothing is downloaded.
        name: the model's name (default: from style, depth and block).

    Returns:
        A ``keras.Model``.
    """
    _check(depth, filters, block, style, se_placement, se_stages)
    weights = check_weights(weights)
    factory, kwargs = attn_options(attn, attn_kwargs, ratio=ratio)
    reg = keras.regularizers.L2(l2) if l2 else None
    image = model_inputs(input_shape, input_tensor, include_top=include_top)
    x = _stem(image, style, int(initial_filters), stem_stride, stem_pool, reg)
    for s, (n_blocks, f) in enumerate(zip(depth, filters), start=2):
        here = se_stages is None or s in {int(v) for v in se_stages}
        x = stack_residual_blocks(x, max(1, int(round(f * width))), int(n_blocks),
                                  stride1=1 if s == 2 else 2, style=style,
                                  bottleneck=block == "bottleneck", attn=factory if here else None,
                                  attn_kwargs=kwargs, placement=se_placement, name=f"conv{s}")
    if style == "preact":
        x = layers.BatchNormalization(name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = classifier_top(x, include_top=include_top, pooling=pooling, num_classes=num_classes,
                       use_bias=style == "v1", kernel_regularizer=reg,
                       classifier_activation=classifier_activation,
                       kernel_initializer="glorot_uniform" if style == "v1" else "he_normal")
    if name is None:
        kind = "se_resnet" if factory is not None else "resnet"
        name = f"{kind}_{style}_{'-'.join(str(int(d)) for d in depth)}_{block}"
    return finish_model(image, x, input_tensor=input_tensor, weights=weights, name=name)


# --------------------------------------------------------------------------------------------
# Presets: keras' names — v1 as ResNet50, the pre-activation family with a v2 suffix.
# --------------------------------------------------------------------------------------------
def _preset(style: str, depth, block: str, input_shape, num_classes, kwargs) -> keras.Model:
    given = kwargs.pop("style", style)
    if given != style:
        other = "the pre-activation presets end in v2 (se_resnet50v2)" if style == "v1" else \
            "the v1 presets have no suffix (se_resnet50)"
        raise ValueError(f"this preset is style={style!r}; {other}, or call se_resnet(style=...)")
    return se_resnet(input_shape, num_classes, depth=depth, block=block, style=style, **kwargs)


def se_resnet18(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-18, v1 (basic blocks 2-2-2-2); options as :func:`se_resnet`."""
    return _preset("v1", (2, 2, 2, 2), "basic", input_shape, num_classes, kwargs)


def se_resnet34(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-34, v1 (basic blocks 3-4-6-3)."""
    return _preset("v1", (3, 4, 6, 3), "basic", input_shape, num_classes, kwargs)


def se_resnet50(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-50, v1 (bottleneck blocks 3-4-6-3) — the paper's main model; keras ``ResNet50`` with SE."""
    return _preset("v1", (3, 4, 6, 3), "bottleneck", input_shape, num_classes, kwargs)


def se_resnet101(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-101, v1 (bottleneck blocks 3-4-23-3)."""
    return _preset("v1", (3, 4, 23, 3), "bottleneck", input_shape, num_classes, kwargs)


def se_resnet152(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-152, v1 (bottleneck blocks 3-8-36-3)."""
    return _preset("v1", (3, 8, 36, 3), "bottleneck", input_shape, num_classes, kwargs)


def se_resnet18v2(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-18, pre-activation (the seed report's blocks, 2-2-2-2)."""
    return _preset("preact", (2, 2, 2, 2), "basic", input_shape, num_classes, kwargs)


def se_resnet34v2(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-34, pre-activation (basic blocks 3-4-6-3)."""
    return _preset("preact", (3, 4, 6, 3), "basic", input_shape, num_classes, kwargs)


def se_resnet50v2(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-50, pre-activation (bottleneck blocks 3-4-6-3)."""
    return _preset("preact", (3, 4, 6, 3), "bottleneck", input_shape, num_classes, kwargs)


def se_resnet101v2(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-101, pre-activation (bottleneck blocks 3-4-23-3)."""
    return _preset("preact", (3, 4, 23, 3), "bottleneck", input_shape, num_classes, kwargs)


def se_resnet152v2(input_shape=None, num_classes=1000, **kwargs) -> keras.Model:
    """SE-ResNet-152, pre-activation (bottleneck blocks 3-8-36-3)."""
    return _preset("preact", (3, 8, 36, 3), "bottleneck", input_shape, num_classes, kwargs)
