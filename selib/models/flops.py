"""Analytic FLOP counting for the models selib builds.

Why analytic: TensorFlow's profiler counts depend on graph rewrites and op fusion; the paper
(and most papers) quote multiply-accumulates of the convolutions and fully connected layers.
We count multiply-accumulates (MACs) layer by layer from the built shapes — 1 MAC = 2 FLOPs —
so ``macs`` is comparable with the paper's "GFLOPs" column (ResNet-50: 3.86, SE-ResNet-50: 3.87).
"""
from __future__ import annotations

from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class FlopCount:
    """Multiply-accumulates per forward pass of one image."""

    conv: int
    dense: int
    se: int  # the attention layers (SE, ECA, …)

    @property
    def macs(self) -> int:
        return self.conv + self.dense + self.se

    @property
    def flops(self) -> int:
        """2 × MACs: one multiply and one add."""
        return 2 * self.macs


def _shape(t) -> tuple:
    return tuple(int(d) if d is not None else 1 for d in t.shape)


def count_flops(model: keras.Model) -> FlopCount:
    """Count MACs of Conv2D, DepthwiseConv2D, Dense and attention layers for one image.

    An attention layer counts what its ``multiply_adds(input_shape)`` says: for
    :class:`~selib.layers.squeeze_excite.SqueezeExcite` that is
    :func:`~selib.layers.squeeze_excite.se_cost` — its two FC layers plus the pooling (H·W·C
    adds) and the scaling (H·W·C multiplies); the paper's +0.26 % for SE-ResNet-50 includes all
    of them. ECA counts its 1-D conv, pooling and scaling. (A custom attention layer without
    ``multiply_adds`` counts 0.) The total is reported in ``se``.
    """
    conv = dense = se = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            sub = count_flops(layer)
            conv, dense, se = conv + sub.conv, dense + sub.dense, se + sub.se
            continue
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            _, h, w, c = _shape(layer.output)
            kh, kw = layer.kernel_size
            conv += h * w * c * kh * kw
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = _shape(layer.output)
            c_in = _shape(layer.input)[-1]
            kh, kw = layer.kernel_size
            conv += h * w * c_out * kh * kw * c_in // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            dense += _shape(layer.input)[-1] * layer.units
        elif callable(getattr(layer, "multiply_adds", None)):
            se += int(layer.multiply_adds(_shape(layer.input)))
    return FlopCount(conv=conv, dense=dense, se=se)
