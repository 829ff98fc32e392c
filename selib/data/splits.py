"""Turn loaded uint8 images into what Keras trains on: floats, one-hot labels, stratified splits.

Images stay uint8 (1 byte per value) until the last moment: float32 takes 4 bytes, so
3,000 grayscale 473x473 photos are 0.67 GB as uint8 but 2.7 GB as float32. ``make_dataset``
converts each batch on the fly, so the float copy of the whole set never exists.
TensorFlow is imported only by the functions that need it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

__all__ = ["Split", "one_hot", "split", "to_float"]


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
