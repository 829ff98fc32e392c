"""The attention slot: one registry of channel-attention layers that every selib block can hold.

In the spirit of timm's ``get_attn`` (``timm/layers/create_attn.py``): a block takes *one*
attention argument and the network code never names a concrete attention class. So a new kind
of attention is added in one place — :func:`register_attn` — or simply passed in, without
editing any model code::

    selib.se_resnet50(attn="eca")                       # a registered name
    selib.se_resnet50(attn=MyGate, attn_kwargs={...})   # any Layer subclass
    selib.se_resnet50(attn=lambda name: MyGate(3, name=name))   # any callable returning a layer
    selib.se_resnet50(ratio=8, attn_kwargs={"min_units": 8, "gate": "tanh"})   # SE's options

``attn_kwargs`` are the layer's own keyword arguments, under the layer's own names, and they reach
it untouched: the network code knows no option of any attention. The one exception is SE's
reduction ratio, which every builder takes as ``ratio`` (see :func:`attn_options`).

The contract of a factory: ``factory(name=..., **attn_kwargs)`` returns a Keras layer that maps
a 4-D ``(N, H, W, C)`` tensor to one of the same shape (it reads ``C`` in ``build``, so unlike
timm's modules it needs no ``channels`` argument). A layer may also define
``multiply_adds(input_shape)``, which :func:`selib.models.flops.count_flops` then adds.

Built in:

* ``"se"`` — :class:`~selib.layers.squeeze_excite.SqueezeExcite` (the paper);
* ``"eca"`` — :class:`EfficientChannelAttention` (Wang et al., *ECA-Net*, CVPR 2020): no
  bottleneck MLP, one 1-D convolution across the pooled channels;
* ``None`` / ``"none"`` — no attention (the plain ResNet).
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Mapping, Sequence, Union

import keras
from keras import ops

from selib.layers.squeeze_excite import SqueezeExcite, _walk_layers

AttnFactory = Callable[..., keras.layers.Layer]
AttnSpec = Union[str, AttnFactory, None]


# --------------------------------------------------------------------------------------------
# ECA-Net.
# --------------------------------------------------------------------------------------------
def eca_kernel_size(channels: int, gamma: float = 2, beta: float = 1) -> int:
    """ECA's adaptive kernel size ``k = |(log2 C + b) / γ|_odd`` (the paper's Eq. 12, γ=2, b=1).

    ``|t|_odd`` is the odd number nearest above ``int(t)``: 64 channels -> 3, 256 -> 5,
    2048 -> 7. This is the paper's own code; timm additionally clamps ``k`` to at least 3,
    which matters only below 8 channels (4 channels -> 1 here)."""
    t = int(abs((math.log2(int(channels)) + beta) / gamma))
    return t if t % 2 else t + 1


@keras.saving.register_keras_serializable(package="selib")
class EfficientChannelAttention(keras.layers.Layer):
    """ECA: ``x * sigmoid(conv1d_k(pool(x)))`` — channel attention without dimensionality reduction.

    The squeeze is the same global average pool as SE; the excitation replaces SE's two fully
    connected layers (``2·C²/r`` weights) by one 1-D convolution of size ``k`` sliding over the
    channel axis (``k`` weights), so each channel's gate looks at its ``k`` neighbours.

    Args:
        kernel_size: the convolution's size; ``None`` (default) picks it from the channels with
            :func:`eca_kernel_size`. Must be odd.
        gamma, beta: the constants of the adaptive formula (2 and 1 in the paper).
        kernel_initializer: for the ``k`` weights (Keras' ``Conv1D`` default).
    """

    def __init__(self, kernel_size: int | None = None, gamma: float = 2, beta: float = 1,
                 kernel_initializer: Any = "glorot_uniform", **kwargs) -> None:
        super().__init__(**kwargs)
        if kernel_size is not None and (int(kernel_size) < 1 or int(kernel_size) % 2 == 0):
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        self.kernel_size = None if kernel_size is None else int(kernel_size)
        self.gamma = float(gamma)
        self.beta = float(beta)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape: Sequence[int | None]) -> None:
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("EfficientChannelAttention needs a known channel dimension.")
        self.channels = int(channels)
        self.k = self.kernel_size or eca_kernel_size(self.channels, self.gamma, self.beta)
        self.kernel = self.add_weight(name="kernel", shape=(self.k, 1, 1),
                                      initializer=self.kernel_initializer)

    def excite(self, inputs):
        """The channel gates ``s`` (N, C), as :meth:`SqueezeExcite.excite`."""
        z = ops.mean(inputs, axis=(1, 2))[:, :, None]          # (N, C, 1): channels as a sequence
        a = ops.conv(z, ops.cast(self.kernel, z.dtype), strides=1, padding="same")
        return ops.sigmoid(a[:, :, 0])

    def call(self, inputs):
        return inputs * self.excite(inputs)[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def multiply_adds(self, input_shape: Sequence[int | None]) -> int:
        """``C·k`` for the convolution plus ``2·H·W·C`` for pooling and scaling."""
        h, w, c = (int(d) if d is not None else 1 for d in tuple(input_shape)[-3:])
        k = self.kernel_size or eca_kernel_size(c, self.gamma, self.beta)
        return c * k + 2 * h * w * c

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(kernel_size=self.kernel_size, gamma=self.gamma, beta=self.beta,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer))
        return config


# --------------------------------------------------------------------------------------------
# The registry.
# --------------------------------------------------------------------------------------------
_REGISTRY: dict[str, AttnFactory] = {"se": SqueezeExcite, "eca": EfficientChannelAttention}
_NONE = ("none", "")


def register_attn(name: str, factory: AttnFactory, *, overwrite: bool = False) -> AttnFactory:
    """Make ``factory`` available as ``attn=name`` in every selib block and network.

    ``factory`` is a Layer subclass or any callable ``factory(name=..., **kwargs) -> Layer``.
    Layer subclasses registered here are also found by :func:`attention_layers`. Returns
    ``factory`` (so it can wrap a class definition). Names are case-insensitive.
    """
    key = str(name).lower()
    if key in _NONE:
        raise ValueError(f"{name!r} is reserved for 'no attention'")
    if not callable(factory):
        raise TypeError(f"factory must be a Layer subclass or a callable, got {factory!r}")
    if key in _REGISTRY and _REGISTRY[key] is not factory and not overwrite:
        raise ValueError(f"attention {name!r} is already registered; pass overwrite=True")
    _REGISTRY[key] = factory
    return factory


def get_attn(attn: AttnSpec) -> AttnFactory | None:
    """The attention factory ``attn`` names: a registered name (``"se"``, ``"eca"``, …),
    ``None``/``"none"`` (no attention: returns ``None``), or a Layer subclass / callable,
    returned as is."""
    if attn is None or attn is False:
        return None
    if isinstance(attn, str):
        key = attn.lower()
        if key in _NONE:
            return None
        if key not in _REGISTRY:
            raise ValueError(f"unknown attention {attn!r}; registered: {sorted(_REGISTRY)} "
                             "(add one with selib.register_attn)")
        return _REGISTRY[key]
    if isinstance(attn, keras.layers.Layer):
        raise TypeError("pass the attention's class or a factory, not a layer instance: "
                        "every block needs its own layer")
    if not callable(attn):
        raise TypeError(f"attn must be a name, a Layer subclass or a callable, got {attn!r}")
    return attn


def _is_se(factory: AttnFactory | None) -> bool:
    return inspect.isclass(factory) and issubclass(factory, SqueezeExcite)


def attn_options(attn: AttnSpec = "se", attn_kwargs: Mapping[str, Any] | None = None, *,
                 ratio: int | None = 16) -> tuple[AttnFactory | None, dict]:
    """Resolve a network's attention arguments to ``(factory, kwargs)`` for its blocks: the one
    place where a builder's ``attn``, ``attn_kwargs`` and ``ratio`` meet.

    ``attn_kwargs`` are the attention layer's own keyword arguments, passed as they are (timm's
    ``create_attn(attn_type, channels, **kwargs)``). ``ratio`` is SE's reduction ratio, the
    one SE option a network builder names itself (it is the paper's main hyper-parameter): SE
    layers (:class:`SqueezeExcite` and its subclasses) get it unless ``attn_kwargs`` names one;
    other attentions do not take it. ``ratio=None`` means *no SE*: with SE it builds no attention
    (``(None, {})``); with any other attention it is an error, never a silent switch-off.
    """
    factory = get_attn(attn)
    if factory is None:
        return None, {}
    kwargs = dict(attn_kwargs or {})
    if not _is_se(factory):
        if ratio is None:
            raise ValueError(f"ratio=None means 'no SE', but the attention is {attn!r}; "
                             "pass attn=None for a network without attention")
        return factory, kwargs
    if ratio is None:
        return None, {}
    kwargs.setdefault("ratio", ratio)
    return factory, kwargs


def attend(x, attn: AttnSpec, attn_kwargs: Mapping[str, Any] | None = None, *, name: str):
    """Apply the attention ``attn`` (see :func:`get_attn`) to ``x``; ``x`` itself when it is None.

    Args:
        x: a 4-D Keras tensor.
        attn: the attention name or factory.
        attn_kwargs: keyword arguments for the factory.
        name: the attention layer's name.

    Returns:
        The recalibrated tensor (same shape as ``x``).
    """
    factory = get_attn(attn)
    if factory is None:
        return x
    layer = factory(name=name, **dict(attn_kwargs or {}))
    out = layer(x)
    if tuple(out.shape) != tuple(x.shape):
        raise ValueError(f"attention {name!r} changed the shape {tuple(x.shape)} -> {tuple(out.shape)}")
    return out


def attention_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """All layers of a model (nested models included) that are instances of a registered
    attention class (SqueezeExcite, EfficientChannelAttention, and any Layer subclass given to
    :func:`register_attn`), in graph order."""
    kinds = tuple(f for f in _REGISTRY.values() if inspect.isclass(f))
    return [layer for layer in _walk_layers(model) if isinstance(layer, kinds)]
