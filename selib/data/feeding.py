"""Batches for Keras: shuffle, batch and (for now) augment uint8 images with tf.data."""
from __future__ import annotations

import numpy as np

__all__ = ["augmentation", "make_dataset"]


_STRENGTHS = {  # flip is always on: a mirrored chair is still a chair
    "light": dict(rotation=0.0, translation=0.05, zoom=0.05, contrast=0.1, brightness=0.0),
    "medium": dict(rotation=0.03, translation=0.1, zoom=0.1, contrast=0.2, brightness=0.1),
    "strong": dict(rotation=0.08, translation=0.15, zoom=0.2, contrast=0.3, brightness=0.2),
}


def augmentation(strength: str = "light", *, value_range: tuple[float, float] = (0.0, 1.0),
                 seed: int | None = None):
    """Train-time augmentation as a ``keras.Sequential`` of Keras preprocessing layers.

    ``strength`` is ``"light"``, ``"medium"`` or ``"strong"``. The layers only change images
    when called with ``training=True``, so the same block can sit inside a model. Inputs are
    expected in ``value_range`` (``[0, 1]``, what :func:`make_dataset` produces).
    """
    import keras
    from keras import layers

    if strength not in _STRENGTHS:
        raise ValueError(f"strength must be one of {sorted(_STRENGTHS)}, got {strength!r}")
    p = _STRENGTHS[strength]
    block = [layers.RandomFlip("horizontal", seed=seed)]
    if p["rotation"]:
        block.append(layers.RandomRotation(p["rotation"], fill_mode="nearest", seed=seed))
    block += [
        layers.RandomTranslation(p["translation"], p["translation"], fill_mode="nearest",
                                 seed=seed),
        layers.RandomZoom(p["zoom"], fill_mode="nearest", seed=seed),
        layers.RandomContrast(p["contrast"], value_range=value_range, seed=seed),
    ]
    if p["brightness"]:
        block.append(layers.RandomBrightness(p["brightness"], value_range=value_range, seed=seed))
    return keras.Sequential(block, name=f"augment_{strength}")


def make_dataset(x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 32, *,
                 training: bool = False, augment=None, shuffle_seed: int | None = 42,
                 one_hot_classes: int | None = None, cache: bool = True):
    """A ``tf.data`` pipeline over uint8 images: shuffle, batch, /255, augment, prefetch.

    ``training=True`` shuffles every epoch (reproducibly with ``shuffle_seed``) and applies
    ``augment`` — a strength name for :func:`augmentation` or any Keras layer/callable —
    which is off by default so the seed recipe is reproduced exactly. Evaluation pipelines
    never shuffle nor augment. ``one_hot_classes`` turns integer labels into one-hot rows for
    ``categorical_crossentropy``. The uint8 -> float32 conversion happens per batch, so only
    the compact uint8 arrays are held in memory, never a float copy of the whole set.
    ``cache`` adds ``Dataset.cache()`` on the uint8 samples: nearly free for in-memory arrays,
    and it keeps the standard pipeline shape if a slower source is swapped in.
    """
    import tensorflow as tf

    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise ValueError(f"make_dataset expects uint8 images (it divides by 255), got {x.dtype}")
    if y is not None and len(y) != len(x):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, np.asarray(y)))
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def to_model(*batch):
        xb = tf.cast(batch[0], tf.float32) / 255.0
        if y is None:
            return xb
        yb = batch[1]
        if one_hot_classes:
            yb = tf.one_hot(tf.cast(yb, tf.int32), one_hot_classes)
        return xb, yb

    ds = ds.map(to_model, num_parallel_calls=tf.data.AUTOTUNE)
    if training and augment is not None:
        aug = augmentation(augment, seed=shuffle_seed) if isinstance(augment, str) else augment
        if y is None:
            ds = ds.map(lambda xb: aug(xb, training=True), num_parallel_calls=tf.data.AUTOTUNE)
        else:
            ds = ds.map(lambda xb, yb: (aug(xb, training=True), yb),
                        num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
