"""Turn loaded uint8 images into what Keras trains on: one-hot labels and stratified splits.

Images stay uint8 (1 byte per value) until the last moment: float32 takes 4 bytes, so
3,000 grayscale 473x473 photos are 0.67 GB as uint8 but 2.7 GB as float32. selib's models
rescale inside the network, so the float copy of the whole set never exists;
:func:`to_float` is the seed recipe's conversion, kept for NumPy work and the notebooks.

Splits check the data first: fewer than two classes, or a class too small for the asked
shares, is a :class:`~selib.errors.SplitError` that names every class with its count, so a
user never sees scikit-learn's message (which names classes by index) and a one-class folder
never "trains" to 100 %.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

import numpy as np

from selib.errors import SplitError

__all__ = ["Split", "SplitError", "check_splittable", "min_per_class", "one_hot", "split",
           "to_float"]


def to_float(x: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1], the seed recipe's ``x.astype('float32') / 255``.

    Call it as late as possible (selib's models rescale inside, so training never does):
    float32 needs 4x the memory of the uint8 array it comes from.
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


def _share(size: float | int | None, n: int, what: str) -> Fraction | None:
    """``size`` as an exact share of ``n`` (None: no such split); SplitError if impossible."""
    if size is None or size == 0:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if not 0 < size < n:
            raise SplitError(f"a {what} split of {size} images needs 1..{n - 1} of the "
                             f"{n} images")
        return Fraction(int(size), n)
    share = Fraction(str(float(size)))  # the decimal the user typed: 0.2 is exactly 1/5
    if not 0 < share < 1:
        raise SplitError(f"{what}_size must be a share in (0, 1) or a number of images, "
                         f"got {size}")
    return share


def _n_test(size: float | int, n: int) -> int:
    """How many images scikit-learn puts in the test part (it rounds the share up)."""
    return int(size) if isinstance(size, (int, np.integer)) else math.ceil(float(size) * n)


def min_per_class(test: Fraction | None, val: Fraction | None) -> int:
    """The fewest images a class may have for a stratified split into these shares.

    Each class must expect at least one image in every part (test, validation, training):
    a class with a 20 % test share needs 5 images before one of them is expected in the test
    part. scikit-learn also needs 2 of each class in every set it splits, so with both a test
    and a validation split a class keeps at least 3 expected images after the test split (the
    test part is rounded up, which can take one more). ``val`` is a share of the training part.
    """
    keep = 1 - test if test else Fraction(1)
    shares = [s for s in (test, keep * val if val else None, keep * (1 - (val or 0))) if s]
    need = max([2] + [math.ceil(1 / s) for s in shares])
    if test and val:
        need = max(need, math.ceil(3 / keep))
    return need


def _describe(size: float | int, what: str) -> str:
    if isinstance(size, (int, np.integer)):
        return f"{what} split of {int(size)} images"
    return f"{float(size) * 100:g} % {what} split"


def _class_counts(classes: np.ndarray,
                  class_names: list[str] | None) -> tuple[np.ndarray, list[str]]:
    """Images per class (index = label) and the classes' names."""
    if classes.size and not np.issubdtype(classes.dtype, np.integer) \
            and np.array_equal(classes, np.round(classes)):
        classes = classes.astype(np.int64)  # 0.0/1.0 labels: integers in float clothing
    if classes.size and (not np.issubdtype(classes.dtype, np.integer) or classes.min() < 0):
        raise ValueError(f"labels must be non-negative integers or one-hot rows, got "
                         f"{classes.dtype} {classes.min()}..{classes.max()}")
    counts = np.bincount(classes, minlength=len(class_names or []))
    if class_names is None:
        return counts, [f"class {i}" for i in range(len(counts))]
    if len(counts) > len(class_names):
        raise ValueError(f"labels go up to {len(counts) - 1} but there are only "
                         f"{len(class_names)} class names")
    return counts, list(class_names)


def _listing(counts: np.ndarray, names: list[str]) -> str:
    """"bench 3, chair 40": every class with its count, for the one-line messages."""
    return ", ".join(f"{c} {int(k)}" for c, k in zip(names, counts))


def check_splittable(classes: np.ndarray, test_size: float | int | None,
                     val_size: float | int | None, stratify: bool = True,
                     class_names: list[str] | None = None) -> None:
    """Raise :class:`SplitError` naming the classes and their counts if the split cannot work.

    Called before scikit-learn, so a user never sees its message (which names classes by
    index); a single class is refused too, since a one-class "classifier" scores 100 %.
    """
    counts, names = _class_counts(classes, class_names)
    listing = _listing(counts, names)
    present = int((counts > 0).sum())
    if present < 2:
        raise SplitError(f"need at least 2 classes to train a classifier, found {present}: "
                         f"{listing or 'no images'}")
    n = int(counts.sum())
    test = _share(test_size, n, "test")
    n_train = n - _n_test(test_size, n) if test else n
    val = _share(val_size, n_train, "validation")
    if not stratify or not (test or val):
        return
    need = min_per_class(test, val)
    small = [(c, int(k)) for c, k in zip(names, counts) if k < need]
    if small:
        what = " and ".join(_describe(s, w) for s, w in ((test_size, "test"),
                                                         (val_size, "validation")) if s)
        few = ", ".join(f"{k} of '{c}'" for c, k in small[1:])
        raise SplitError(f"cannot split {small[0][1]} images of '{small[0][0]}'"
                         + (f" and {few}" if few else "")
                         + f" (needs at least {need} per class for a stratified {what}): "
                         f"classes {listing}")


def split(images: np.ndarray, labels: np.ndarray, test_size: float | int | None = 0.2,
          val_size: float | int | None = None, seed: int = 42, stratify: bool = True,
          class_names: list[str] | None = None) -> Split:
    """Stratified train/test split (scikit-learn), with an optional validation split from train.

    ``test_size=0.2`` and a fixed seed follow the seed report's 80/20 split; ``val_size`` is a
    share of the *training* part (the report trained with ``validation_split`` 0.25, i.e.
    75/25). Stratifying keeps every class's share the same in each part, which matters on
    small, unbalanced folders. One-hot ``labels`` are accepted and split alongside.

    Data that cannot be split (fewer than 2 classes, a class below :func:`min_per_class`)
    raises :class:`~selib.errors.SplitError` *before* scikit-learn runs, with a one-line
    message naming the classes (``class_names``; default "class 0", "class 1", ...) and
    their counts.
    """
    from sklearn.model_selection import train_test_split

    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    classes = labels.argmax(axis=1) if labels.ndim == 2 else labels
    check_splittable(classes, test_size, val_size, stratify, class_names)
    idx = np.arange(len(labels))

    def cut(part: np.ndarray, size: float | int | None) -> tuple[np.ndarray, np.ndarray]:
        if not size:
            return part, part[:0]
        try:
            return train_test_split(part, test_size=size, random_state=seed,
                                    stratify=classes[part] if stratify else None)
        except ValueError as exc:  # not expected after the check: still one clear line
            raise SplitError(f"cannot split {len(part)} images ({exc}): classes "
                             + _listing(*_class_counts(classes[part], class_names))) from exc

    train, test = cut(idx, test_size)
    train, val = cut(train, val_size)
    pick = (lambda i, a: a[i] if len(i) else None)
    return Split(images[train], labels[train], pick(val, images), pick(val, labels),
                 pick(test, images), pick(test, labels), train, val, test)
