"""Turn loaded uint8 images into what Keras trains on: floats, one-hot labels, splits, tf.data.

Images stay uint8 (1 byte per value) until the last moment: float32 takes 4 bytes, so
3,000 grayscale 473x473 photos are 0.67 GB as uint8 but 2.7 GB as float32. ``make_dataset``
converts each batch on the fly, so the float copy of the whole set never exists.
TensorFlow is imported only by the functions that need it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

__all__ = ["Split", "augmentation", "make_dataset", "one_hot", "split", "to_float"]


def to_float(x: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1], the seed recipe's ``x.astype('float32') / 255``.

    Call it as late as possible (or let :func:`make_dataset` do it per batch): float32 needs
    4x the memory of the uint8 array it comes from.
    """
    out = np.asarray(x).astype(np.float32)
    out /= 255.0  # in place: no second float-sized temporary
    return out


def one_hot(labels: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Integer labels -> float32 one-hot rows (bench 0 -> [1, 0, 0, 0], as in the report)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    n = int(labels.max()) + 1 if num_classes is None and labels.size else int(num_classes or 0)
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(f"labels must lie in [0, {n}), got {labels.min()}..{labels.max()}")
    return np.eye(n, dtype=np.float32)[labels]


@dataclass(frozen=True)
class Split:
    """Train/validation/test arrays plus the indices they came from (to trace back to files).

    Unpacks as ``x_train, y_train, x_val, y_val, x_test, y_test``; the validation (or test)
    pair is ``None`` when it was not asked for.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray

    def __iter__(self) -> Iterator[Any]:
        return iter((self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test))

    def __repr__(self) -> str:
        return (f"Split(train={len(self.train_idx)}, val={len(self.val_idx)}, "
                f"test={len(self.test_idx)})")


def split(images: np.ndarray, labels: np.ndarray, test_size: float | int | None = 0.2,
          val_size: float | int | None = None, seed: int = 42, stratify: bool = True) -> Split:
    """Stratified train/test split (scikit-learn), with an optional validation split from train.

    ``test_size=0.2`` and a fixed seed follow the seed report's 80/20 split; ``val_size`` is a
    share of the *training* part (the report trained with ``validation_split`` 0.25, i.e.
    75/25). Stratifying keeps every class's share the same in each part, which matters on
    small, unbalanced folders. One-hot ``labels`` are accepted and split alongside.
    """
    from sklearn.model_selection import train_test_split

    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    classes = labels.argmax(axis=1) if labels.ndim == 2 else labels
    idx = np.arange(len(labels))

    def cut(part: np.ndarray, size):
        if not size:
            return part, part[:0]
        return train_test_split(part, test_size=size, random_state=seed,
                                stratify=classes[part] if stratify else None)

    train, test = cut(idx, test_size)
    train, val = cut(train, val_size)
    pick = (lambda i, a: a[i] if len(i) else None)
    return Split(images[train], labels[train], pick(val, images), pick(val, labels),
                 pick(test, images), pick(test, labels), train, val, test)


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
