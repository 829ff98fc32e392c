"""SE-Inception (the paper's Fig. 2): SE wraps any transformation ``F_tr``, not only residual ones.

Layer names follow the ResNets' scheme: the stem ``conv1_conv|bn|relu``, the module of stage
``s`` (numbered from 2) ``conv{s}_inception_…`` with branches ``_b1``, ``_b2a``/``_b2b``,
``_b3a``/``_b3b``/``_b3c``, ``_b4_pool``/``_b4``, the ``_concat`` and the attention slot
``conv{s}_inception_se``; ``pool{s}_pool`` down-samples before stages after the first; the top
is the ResNets' (``avg_pool``, ``predictions``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import keras
from keras import layers

from selib.layers.attention import AttnSpec, attend, attn_options
from selib.models.resnet import classifier_top, finish_model, model_inputs
from selib.models.weights import check_weights


def _conv_bn(x, filters: int, kernel: int, name: str, strides: int = 1):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def se_inception_module(x, filters: int = 64, ratio: int | None = 16, *, attn: AttnSpec = "se",
                        attn_kwargs: Mapping[str, Any] | None = None, name: str = "inception"):
    """An Inception module (1×1, 1×1→3×3, 1×1→3×3→3×3, pool→1×1 branches, concatenated) with
    the attention slot on its whole output.

    Args:
        x: input tensor.
        filters: output channels; each of the four branches has ``filters // 4``.
        ratio, attn, attn_kwargs: what fills the slot, as in
            :func:`selib.models.resnet.se_resnet` (``ratio=None``: the plain module).
        name: module label; the slot is ``{name}_se``.

    Returns:
        Output tensor of the module (``4 * (filters // 4)`` channels).
    """
    factory, kwargs = attn_options(attn, attn_kwargs, ratio=ratio)
    f = max(1, filters // 4)
    b1 = _conv_bn(x, f, 1, f"{name}_b1")
    b2 = _conv_bn(_conv_bn(x, f, 1, f"{name}_b2a"), f, 3, f"{name}_b2b")
    b3 = _conv_bn(_conv_bn(_conv_bn(x, f, 1, f"{name}_b3a"), f, 3, f"{name}_b3b"), f, 3, f"{name}_b3c")
    b4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_b4_pool")(x)
    b4 = _conv_bn(b4, f, 1, f"{name}_b4")
    out = layers.Concatenate(name=f"{name}_concat")([b1, b2, b3, b4])
    return attend(out, factory, kwargs, name=f"{name}_se")


def se_inception_net(
    input_shape: Sequence[int | None] | None = (128, 128, 1),
    num_classes: int = 4,
    *,
    filters: Sequence[int] = (64, 128, 256),
    attn: AttnSpec = "se",
    attn_kwargs: Mapping[str, Any] | None = None,
    ratio: int | None = 16,
    include_top: bool = True,
    pooling: str | None = None,
    input_tensor=None,
    weights: str | None = None,
    name: str = "se_inception",
) -> keras.Model:
    """A small SE-Inception network: a 3×3/2 stem, one SE-Inception module per stage with
    max-pool down-sampling between stages, and the ResNets' top.

    Args:
        filters: output channels of each stage's module.
        attn, attn_kwargs, ratio: the attention slot, as in :func:`selib.models.resnet.se_resnet`.
        input_shape: ``(H, W, C)``; ``None`` is 128×128×1 with ``include_top``, else
            ``(None, None, 1)``.
        num_classes, include_top, pooling, input_tensor, weights, name: as in
            :func:`selib.models.resnet.se_resnet`.

    Returns:
        A ``keras.Model``.
    """
    weights = check_weights(weights)
    image = model_inputs(input_shape, input_tensor, include_top=include_top, default=(128, 128, 1))
    x = _conv_bn(image, 32, 3, "conv1", strides=2)
    for s, f in enumerate(filters, start=2):
        if s > 2:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{s}_pool")(x)
        x = se_inception_module(x, int(f), ratio, attn=attn, attn_kwargs=attn_kwargs,
                                name=f"conv{s}_inception")
    x = classifier_top(x, include_top=include_top, pooling=pooling, num_classes=num_classes)
    return finish_model(image, x, input_tensor=input_tensor, weights=weights, name=name)
