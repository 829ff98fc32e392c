"""In-model image augmentation: one random affine warp per image, then contrast and brightness.

Keras ships flip, rotation, translation and zoom as four layers; three of them each resample the
whole image (a full pass with bilinear interpolation), which costs time and blurs the image three
times. An affine map composed with an affine map is an affine map, so :class:`RandomAffine` draws
the four parameters per image, multiplies their 3×3 matrices (a few flops per image) and warps
**once** with :func:`keras.ops.image.affine_transform`.

The strengths keep Keras' meaning (the factors of ``RandomRotation``, ``RandomTranslation`` and
``RandomZoom``), so ``"medium"`` augments as much as it did with the four Keras layers:

* **flip** — horizontal (left↔right), probability 0.5;
* **rotation** ``r`` — angle ``U(-r, r)·2π`` about the image centre, positive = counter-clockwise
  on screen;
* **translation** ``t`` — shift ``U(-t, t)·width`` pixels in x and, independently,
  ``U(-t, t)·height`` in y;
* **zoom** ``z`` — *isotropic* (one factor for x and y, as ``RandomZoom(z)`` with no
  ``width_factor``, which selib used): the sampling scale ``c ~ U(1-z, 1+z)`` as in Keras, i.e. the
  image is magnified by ``1/c`` (``c < 1`` zooms in).  :meth:`RandomAffine.sample_parameters`
  reports the magnification ``zoom = 1/c``;
* pixels that come from outside the image are filled by ``fill_mode`` (default ``"nearest"``,
  repeating the edge pixel, as selib's Keras layers did; ``"reflect"`` also works).

Order (as a forward map, input → output): flip, zoom, rotate — all about the image centre
``((W-1)/2, (H-1)/2)`` — then translate, so a translation of ``k`` pixels moves the content by
exactly ``k`` output pixels whatever the zoom.  (The old Keras stack zoomed *after* translating,
which scaled the shift by the zoom, ≤ 20 %.)

Backend-neutral: only ``keras.ops`` and ``keras.random`` with a ``keras.random.SeedGenerator``, so it
runs inside a compiled train step on TensorFlow (``tf.function``) and a jitted one on JAX.  TensorFlow
cannot XLA-compile the warp (no XLA kernel for ``ImageProjectiveTransformV3``, the same limit as
Keras' own ``RandomRotation``/``RandomZoom``), so on TensorFlow the layer reports
``supports_jit=False`` and ``jit_compile="auto"`` stays off; ``jit_compile=True`` fails there.
"""
from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

__all__ = ["STRENGTHS", "RandomAffine", "affine_matrix", "augmentation"]

#: Augmentation strengths: Keras factors (rotation as a fraction of 2π, translation and zoom as
#: fractions of the image size); flips are always on (horizontal).
STRENGTHS: dict[str, dict[str, float]] = {
    "light": {"rotation": 0.0, "translation": 0.05, "zoom": 0.05, "contrast": 0.1, "brightness": 0.0},
    "medium": {"rotation": 0.03, "translation": 0.1, "zoom": 0.1, "contrast": 0.2, "brightness": 0.1},
    "strong": {"rotation": 0.08, "translation": 0.15, "zoom": 0.2, "contrast": 0.3, "brightness": 0.2},
}

_FILL_MODES = ("nearest", "reflect", "constant", "wrap")
_INTERPOLATIONS = ("bilinear", "nearest")


def affine_matrix(flip: Any, angle: Any, tx: Any, ty: Any, zoom: Any,
                  height: Any, width: Any) -> Any:
    """The ``(B, 3, 3)`` matrices that map an *output* pixel ``(x, y, 1)`` to the *input* point it
    samples — what :func:`keras.ops.image.affine_transform` wants (its first 8 entries).

    The forward map is ``p_out = c + d + zoom · R(angle) · F · (p_in - c)`` with ``c`` the image
    centre ``((W-1)/2, (H-1)/2)`` (pixel centres at integer coordinates), ``F`` the left↔right
    mirror when ``flip`` is 1, ``R`` a counter-clockwise rotation on screen (y points down) and
    ``d = (tx·W, ty·H)``.  Its inverse, built here in closed form, is
    ``p_in = c + F · R(-angle) · (p_out - c - d) / zoom``.

    Args:
        flip: ``(B,)`` 0/1 — mirror left↔right.
        angle: ``(B,)`` radians, positive = counter-clockwise on screen.
        tx, ty: ``(B,)`` shift as fractions of the width / height (positive = right / down).
        zoom: ``(B,)`` magnification, > 1 enlarges the content.
        height, width: image size in pixels (ints or scalar tensors).
    """
    flip, angle, tx, ty, zoom = (ops.cast(v, "float32") for v in (flip, angle, tx, ty, zoom))
    h, w = ops.cast(height, "float32"), ops.cast(width, "float32")
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    s = 1.0 - 2.0 * flip                        # -1 mirrors x
    cos, sin = ops.cos(angle) / zoom, ops.sin(angle) / zoom
    a0, a1, b0, b1 = s * cos, -s * sin, sin, cos  # L = F · R(-angle) / zoom
    ux, uy = cx + tx * w, cy + ty * h           # c + d
    a2 = cx - (a0 * ux + a1 * uy)               # offset = c - L · (c + d)
    b2 = cy - (b0 * ux + b1 * uy)
    zero, one = ops.zeros_like(a0), ops.ones_like(a0)
    rows = [a0, a1, a2, b0, b1, b2, zero, zero, one]
    return ops.reshape(ops.stack(rows, axis=-1), (-1, 3, 3))


def _check_factor(name: str, value: float, upper: float) -> float:
    """Factors are symmetric ranges ``[-v, v]``; ``upper`` keeps the map invertible/meaningful."""
    value = float(value)
    if not 0.0 <= value < upper:
        raise ValueError(f"{name} must be in [0, {upper}), got {value}")
    return value


@keras.saving.register_keras_serializable(package="selib")
class RandomAffine(keras.layers.Layer):
    """Random flip + rotation + translation + zoom as ONE bilinear warp per image.

    Each warp is a full pass over the image with bilinear interpolation (and a little blur);
    composing the four 3×3 matrices costs nothing, so one warp replaces Keras' three.  Factors
    mean what they mean for Keras' ``RandomRotation`` / ``RandomTranslation`` / ``RandomZoom``
    (see the module docstring); the zoom is isotropic.

    Args:
        rotation: angle range as a fraction of a full turn: ``U(-rotation, rotation) · 2π``.
        translation: shift range as a fraction of the size, x and y drawn independently.
        zoom: the sampling scale ``c ~ U(1-zoom, 1+zoom)``; magnification ``1/c``.
        flip: mirror left↔right with probability 0.5.
        fill_mode: how pixels from outside the image are filled (``"nearest"`` repeats the edge).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_value: the value for ``fill_mode="constant"``.
        seed: seeds the layer's ``keras.random.SeedGenerator`` (``None``: a random seed).
        data_format: ``"channels_last"`` / ``"channels_first"`` (default: Keras' setting).

    Like Keras' preprocessing layers it augments unless called with ``training=False`` (``fit``
    passes ``True``; ``predict``/``evaluate`` pass ``False``), so a whole augmentation block agrees.
    Any channel count; the output has the input's dtype (the warp runs in float32).
    """

    def __init__(self, rotation: float = 0.0, translation: float = 0.0, zoom: float = 0.0, *,
                 flip: bool = True, fill_mode: str = "nearest", interpolation: str = "bilinear",
                 fill_value: float = 0.0, seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rotation = _check_factor("rotation", rotation, 0.5)
        self.translation = _check_factor("translation", translation, 1.0)
        self.zoom = _check_factor("zoom", zoom, 1.0)
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"fill_mode must be one of {_FILL_MODES}, got {fill_mode!r}")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {_INTERPOLATIONS}, "
                             f"got {interpolation!r}")
        self.flip, self.fill_mode, self.interpolation = bool(flip), fill_mode, interpolation
        self.fill_value, self.seed = float(fill_value), seed
        self.data_format = data_format or keras.config.image_data_format()
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError("data_format must be channels_last or channels_first, "
                             f"got {data_format!r}")
        self.seed_generator = keras.random.SeedGenerator(seed)
        # TensorFlow has no XLA kernel for ImageProjectiveTransformV3 (the op behind
        # affine_transform), so jit_compile="auto" must not pick XLA there; JAX's warp is plain jnp.
        self.supports_jit = keras.backend.backend() != "tensorflow"

    def sample_parameters(self, batch_size: Any) -> dict[str, Any]:
        """Draw ``flip, angle, tx, ty, zoom`` (each ``(batch_size,)`` float32) for one batch.

        One uniform draw of shape ``(B, 5)`` advances the seed once per call, so a layer built
        with the same seed reproduces the same sequence of batches."""
        u = keras.random.uniform((batch_size, 5), seed=self.seed_generator)
        sym = 2.0 * u - 1.0                      # U(-1, 1)
        flip = ops.cast(u[:, 0] < 0.5, "float32") * (1.0 if self.flip else 0.0)
        return {
            "flip": flip,
            "angle": sym[:, 1] * (self.rotation * 2.0 * math.pi),
            "tx": sym[:, 2] * self.translation,
            "ty": sym[:, 3] * self.translation,
            "zoom": 1.0 / (1.0 + sym[:, 4] * self.zoom),  # Keras' scale c, reported as 1/c
        }

    def call(self, inputs: Any, training: bool = True) -> Any:
        """Warp each image once with its own matrix; unbatched ``(H, W, C)`` input works too."""
        if not training:
            return inputs
        images = inputs if len(inputs.shape) == 4 else ops.expand_dims(inputs, 0)
        h_axis = 1 if self.data_format == "channels_last" else 2
        shape = ops.shape(images)
        matrix = affine_matrix(**self.sample_parameters(shape[0]),
                               height=shape[h_axis], width=shape[h_axis + 1])
        warped = ops.image.affine_transform(
            ops.cast(images, "float32"), ops.reshape(matrix, (-1, 9))[:, :8],
            interpolation=self.interpolation, fill_mode=self.fill_mode,
            fill_value=self.fill_value, data_format=self.data_format)
        if not keras.backend.is_float_dtype(inputs.dtype):
            warped = ops.round(warped)
        warped = ops.cast(warped, inputs.dtype)
        return warped if len(inputs.shape) == 4 else warped[0]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rotation": self.rotation,
                "translation": self.translation, "zoom": self.zoom, "flip": self.flip,
                "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value, "seed": self.seed, "data_format": self.data_format}


def augmentation(strength: str = "light", *, value_range: tuple[float, float] = (0.0, 1.0),
                 seed: int | None = None) -> keras.Sequential:
    """The in-model augmentation block for ``strength`` (one of :data:`STRENGTHS`).

    ``RandomAffine`` (one warp for flip/rotation/translation/zoom), then ``RandomContrast`` and —
    when non-zero — ``RandomBrightness``.  Each layer gets its own seed (``seed``, ``seed+1``, …):
    generators with equal seeds draw equal streams, which would tie the contrast to the warp."""
    if strength not in STRENGTHS:
        raise ValueError(f"unknown augmentation strength {strength!r}; choose one of "
                         f"{sorted(STRENGTHS)}")
    p = STRENGTHS[strength]
    seeds = [None if seed is None else seed + i for i in range(3)]
    block: list[keras.layers.Layer] = [
        RandomAffine(p["rotation"], p["translation"], p["zoom"], seed=seeds[0]),
        keras.layers.RandomContrast(p["contrast"], value_range=value_range, seed=seeds[1]),
    ]
    if p["brightness"]:
        block.append(keras.layers.RandomBrightness(p["brightness"], value_range=value_range,
                                                   seed=seeds[2]))
    return keras.Sequential(block, name=f"augment_{strength}")
