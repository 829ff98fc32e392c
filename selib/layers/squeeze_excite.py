"""The Squeeze-and-Excitation block (Hu, Shen, Sun, *Squeeze-and-Excitation Networks*).

An SE block recalibrates the channels of a feature map ``U`` (H×W×C) in three steps:

1. **squeeze**   ``z_c = 1/(H·W) · Σ_i Σ_j u_c(i, j)`` — one number per channel (global context);
2. **excitation** ``s = σ(W2 · δ(W1 · z))`` with ``W1 ∈ R^{C/r × C}``, ``W2 ∈ R^{C × C/r}``,
   ``δ`` = ReLU and ``σ`` = sigmoid — a bottleneck MLP that models channel inter-dependencies;
3. **scale**     ``x̃_c = s_c · u_c`` — each channel multiplied by its gate.

The plain functions :func:`squeeze`, :func:`excitation` and :func:`scale` exist for teaching (the
notebooks compute each step by hand and compare with the layer); models use
:class:`SqueezeExcite`.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

import keras
import numpy as np
from keras import ops

_GATES = ("sigmoid", "relu", "tanh")
_SQUEEZES = ("avg", "max", "none")


# --------------------------------------------------------------------------------------------
# The three steps as plain NumPy functions (for teaching and as a reference implementation).
# --------------------------------------------------------------------------------------------
def squeeze(u: np.ndarray, mode: str = "avg") -> np.ndarray:
    """Global pooling over H×W: (N, H, W, C) -> (N, C).

    ``avg`` is the paper's choice; ``max`` is its ablation (Table 11). ``none`` (the journal's
    *NoSqueeze*, Table 16) keeps every position: (N, H, W, C) -> (N, H, W, C), and the
    excitation then runs on each position separately (a 1×1 convolution)."""
    u = np.asarray(u, dtype=np.float64)
    if mode == "avg":
        return u.mean(axis=(1, 2))
    if mode == "max":
        return u.max(axis=(1, 2))
    if mode == "none":
        return u
    raise ValueError(f"squeeze mode must be one of {_SQUEEZES}, got {mode!r}")


def _gate(x: np.ndarray, gate: str) -> np.ndarray:
    if gate == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if gate == "relu":
        return np.maximum(x, 0.0)
    if gate == "tanh":
        return np.tanh(x)
    raise ValueError(f"gate must be one of {_GATES}, got {gate!r}")


def excitation(
    z: np.ndarray,
    w1: np.ndarray,
    w2: np.ndarray,
    b1: np.ndarray | None = None,
    b2: np.ndarray | None = None,
    gate: str = "sigmoid",
) -> np.ndarray:
    """``s = gate(W2 · ReLU(W1 · z))`` with weights stored Keras-style (in, out): (N, C) -> (N, C)
    (or (N, H, W, C) -> (N, H, W, C) for an unsqueezed ``z``: the same weights at every position)."""
    h = np.asarray(z, dtype=np.float64) @ w1
    if b1 is not None:
        h = h + b1
    h = np.maximum(h, 0.0)
    a = h @ w2
    if b2 is not None:
        a = a + b2
    return _gate(a, gate)


def scale(u: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Channel-wise rescaling ``x̃_c = s_c · u_c``: (N, H, W, C) × (N, C) -> (N, H, W, C)
    (gates of shape (N, H, W, C), from an unsqueezed excitation, multiply element-wise)."""
    s = np.asarray(s)
    return np.asarray(u) * (s if s.ndim == 4 else s[:, None, None, :])


# --------------------------------------------------------------------------------------------
# The Keras layer.
# --------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="selib")
class SqueezeExcite(keras.layers.Layer):
    """Squeeze-and-Excitation as one Keras layer: ``x * gate(W2 · ReLU(W1 · pool(x)))``.

    Args:
        ratio: reduction ratio ``r``; the bottleneck has ``max(min_units, C // r)`` units
            (:func:`se_units`). The paper's default (and the seed report's) is 16.
        min_units: the narrowest bottleneck allowed, so thin layers never get a 1- or 2-unit
            excitation (timm's ``rd_divisor`` serves the same purpose). The default 1 keeps the
            paper's ``C // r`` everywhere it is at least 1, so every count in the paper holds.
        use_bias: the seed code and the paper's parameter formula ``(2/r)·Σ N_s·C_s²`` have no
            biases in the two fully connected layers, hence ``False`` by default.
        gate: excitation non-linearity — ``sigmoid`` (paper), or ``relu``/``tanh`` (Table 12).
        squeeze: ``avg`` (paper) or ``max`` global pooling (Table 11), or ``none`` — the
            journal's *NoSqueeze* (Table 16): no pooling, the two fully connected layers become
            1×1 convolutions with the same weights, so every position gets its own gates from
            its own C values and no global context at all. It isolates what the squeeze buys.

    The number of channels ``C`` is read from ``input_shape[-1]`` in :meth:`build`. The seed
    report's code read it from ``init._keras_shape``, a private Keras 2 attribute that no longer
    exists in Keras 3; reading the build shape is the public, serialisable way.

    It is a single layer (not ``Lambda`` + ``Reshape`` + ``multiply``), so a model saved to
    ``.keras`` reloads with ``safe_mode=True`` and the excitation can be probed per block.
    """

    def __init__(
        self,
        ratio: int = 16,
        use_bias: bool = False,
        gate: str = "sigmoid",
        squeeze: str = "avg",
        kernel_initializer: str = "he_normal",
        min_units: int = 1,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if int(ratio) < 1:
            raise ValueError(f"ratio must be >= 1, got {ratio}")
        if int(min_units) < 1:
            raise ValueError(f"min_units must be >= 1, got {min_units}")
        if gate not in _GATES:
            raise ValueError(f"gate must be one of {_GATES}, got {gate!r}")
        if squeeze not in _SQUEEZES:
            raise ValueError(f"squeeze must be one of {_SQUEEZES}, got {squeeze!r}")
        self.ratio = int(ratio)
        self.use_bias = bool(use_bias)
        self.gate = gate
        self.squeeze = squeeze
        self.min_units = int(min_units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape: Sequence[int | None]) -> None:
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("SqueezeExcite needs a known channel dimension (input_shape[-1]).")
        self.channels = int(channels)
        self.units = se_units(self.channels, self.ratio, self.min_units)
        self.w1 = self.add_weight(name="w1", shape=(self.channels, self.units),
                                  initializer=self.kernel_initializer)
        self.w2 = self.add_weight(name="w2", shape=(self.units, self.channels),
                                  initializer=self.kernel_initializer)
        if self.use_bias:
            self.b1 = self.add_weight(name="b1", shape=(self.units,), initializer="zeros")
            self.b2 = self.add_weight(name="b2", shape=(self.channels,), initializer="zeros")
        else:
            self.b1 = self.b2 = None

    def excite(self, inputs):
        """The channel gates ``s`` (N, C) — what the paper's Fig. 6 plots per class. With
        ``squeeze="none"`` they are per position, (N, H, W, C)."""
        if self.squeeze == "avg":
            z = ops.mean(inputs, axis=(1, 2))
        elif self.squeeze == "max":
            z = ops.max(inputs, axis=(1, 2))
        else:
            z = inputs                      # matmul on the last axis = a 1×1 convolution
        h = ops.matmul(z, self.w1)
        if self.b1 is not None:
            h = h + self.b1
        h = ops.relu(h)
        a = ops.matmul(h, self.w2)
        if self.b2 is not None:
            a = a + self.b2
        if self.gate == "sigmoid":
            return ops.sigmoid(a)
        if self.gate == "relu":
            return ops.relu(a)
        return ops.tanh(a)

    def call(self, inputs):
        s = self.excite(inputs)
        return inputs * (s if self.squeeze == "none" else s[:, None, None, :])

    def compute_output_shape(self, input_shape):
        return input_shape

    def multiply_adds(self, input_shape: Sequence[int | None]) -> int:
        """Multiply-adds per image for an input of ``input_shape`` (what ``count_flops`` adds)."""
        h, w, c = (int(d) if d is not None else 1 for d in tuple(input_shape)[-3:])
        return se_cost(c, self.ratio, min_units=self.min_units, use_bias=self.use_bias,
                       height=h, width=w, squeeze=self.squeeze).macs

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            ratio=self.ratio,
            use_bias=self.use_bias,
            gate=self.gate,
            squeeze=self.squeeze,
            min_units=self.min_units,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


# --------------------------------------------------------------------------------------------
# The cost of an SE block: the one place the formula lives (the layer, se_param_count,
# selib.models.flops and selib.models.tables all call these).
# --------------------------------------------------------------------------------------------
def se_units(channels: int, ratio: int, min_units: int = 1) -> int:
    """Bottleneck width of an SE block: ``max(min_units, C // r)``.

    ``C // r`` is the paper's ``C/r``; ``min_units`` keeps thin layers from a degenerate 1- or
    2-unit excitation (the default 1 only guards against 0)."""
    return max(int(min_units), int(channels) // int(ratio))


class SECost(NamedTuple):
    """Parameters and multiply-adds (per image) of one SE block."""

    params: int
    macs: int


def se_cost(channels: int, ratio: int, *, min_units: int = 1, use_bias: bool = False,
            height: int = 1, width: int = 1, squeeze: str = "avg") -> SECost:
    """Parameters and multiply-adds of one SE block on an ``height × width × channels`` map.

    Parameters: the two fully connected layers, ``2 · C · C/r`` (plus ``C/r + C`` biases with
    ``use_bias``). Multiply-adds: the same two layers, plus ``H·W·C`` adds for the pooling and
    ``H·W·C`` multiplies for the scaling — the paper's +0.26 % for SE-ResNet-50 includes them all.
    Without a squeeze (``squeeze="none"``) the same parameters run at all ``H·W`` positions and
    there is no pooling: ``H·W·(2·C·C/r + C)``, which is why the paper calls the squeeze cheap.
    """
    c, hw = int(channels), int(height) * int(width)
    units = se_units(c, ratio, min_units)
    fc = 2 * c * units
    macs = hw * (fc + c) if squeeze == "none" else fc + 2 * hw * c
    return SECost(params=fc + ((units + c) if use_bias else 0), macs=macs)


def se_param_count(stages: Iterable[tuple[int, int]], ratio: int = 16, use_bias: bool = False,
                   min_units: int = 1) -> int:
    """The paper's extra-parameter formula ``(2/r) · Σ_s N_s · C_s²`` (Sec. 4, model and computational complexity).

    ``stages`` is ``[(N_1, C_1), (N_2, C_2), …]``: blocks per stage and the channels each SE
    block sees. Computed with the bottleneck width :func:`se_units` that the layer actually
    uses, so it is exact (it equals the formula when ``r`` divides ``C`` and ``C/r ≥ min_units``).
    ``use_bias`` adds ``C/r + C`` per block, which the formula leaves out.
    """
    return sum(int(n_blocks) * se_cost(channels, ratio, min_units=min_units, use_bias=use_bias).params
               for n_blocks, channels in stages)


def _walk_layers(layer: keras.layers.Layer):
    yield layer
    for sub in getattr(layer, "layers", []) or []:
        yield from _walk_layers(sub)


def se_layers(model: keras.Model) -> list[SqueezeExcite]:
    """All :class:`SqueezeExcite` layers of a model (nested models included), in graph order."""
    return [layer for layer in _walk_layers(model) if isinstance(layer, SqueezeExcite)]


def count_se_params(model: keras.Model) -> int:
    """Parameters that sit in the SE blocks of a built model — to check against the formula."""
    return int(sum(layer.count_params() for layer in se_layers(model)))
