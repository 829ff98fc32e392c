"""Batches for Keras on any backend: seeded shuffling of uint8 arrays, one-hot labels, nothing else.

The models selib trains carry their own preprocessing (``Rescaling(1/255)`` and the
augmentation layers, active only in training), so feeding them is only batching and shuffling.
:class:`ArrayBatches` is a ``keras.utils.PyDataset``, which every Keras backend consumes; the
images stay uint8 (a quarter of float32's memory) all the way into the model.

The order of epoch ``e`` depends only on ``(seed, e)``, not on how many epochs this process has
run, so a run resumed after a crash sees the same batches as one that never stopped.
"""
from __future__ import annotations

import math

import keras
import numpy as np

from selib.data.splits import one_hot

__all__ = ["ArrayBatches", "batches"]


class ArrayBatches(keras.utils.PyDataset):
    """``(x, y)`` batches of in-memory arrays: shuffled per epoch from ``(seed, epoch)``.

    Args:
        x: ``(N, H, W, C)`` uint8 images.
        y: ``(N,)`` integer labels (one-hot encoded per batch when ``num_classes`` is given) or
            ``None`` for prediction.
        batch_size: images per batch.
        shuffle: a new seeded order every epoch (training); ``False`` keeps the file order.
        seed: the shuffling seed.
        drop_remainder: drop the last, smaller batch — needed when the batch is split over
            several devices, which each must get the same number of images.
        epoch: the epoch the first pass counts as (set on resume).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 32, *,
                 shuffle: bool = False, seed: int = 0, num_classes: int | None = None,
                 drop_remainder: bool = False, epoch: int = 0) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.x = np.asarray(x)
        self.y = None if y is None else np.asarray(y)
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(f"{len(self.x)} images but {len(self.y)} labels")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size, self.shuffle, self.seed = int(batch_size), bool(shuffle), int(seed)
        self.num_classes, self.drop_remainder = num_classes, bool(drop_remainder)
        self.epoch = int(epoch)
        self._order = self._make_order()

    def _make_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def __len__(self) -> int:
        n = len(self.x) / self.batch_size
        return int(n) if self.drop_remainder else math.ceil(n)

    @property
    def num_batches(self) -> int:
        return len(self)

    def __getitem__(self, i: int):
        idx = np.sort(self._order[i * self.batch_size:(i + 1) * self.batch_size])
        xb = self.x[idx]
        if self.y is None:
            return xb
        yb = self.y[idx]
        return xb, (one_hot(yb, self.num_classes) if self.num_classes else yb)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._make_order()


def batches(x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 32, *, training: bool = False,
            seed: int = 0, num_classes: int | None = None, replicas: int = 1,
            epoch: int = 0) -> ArrayBatches:
    """Training batches (shuffled, the remainder dropped when split over ``replicas`` devices)
    or evaluation batches (file order, every image)."""
    return ArrayBatches(x, y, batch_size, shuffle=training, seed=seed, num_classes=num_classes,
                        drop_remainder=training and replicas > 1, epoch=epoch)
