"""Batches for Keras on any backend: seeded shuffling of uint8 arrays, one-hot labels, nothing else.

The models selib trains carry their own preprocessing (``Rescaling(1/255)`` and the
augmentation layers, active only in training), so feeding them is only batching and shuffling.
:class:`ArrayBatches` is a ``keras.utils.PyDataset``, which every Keras backend consumes; the
images stay uint8 (a quarter of float32's memory) all the way into the model.

The order of epoch ``e`` depends only on ``(seed, e)``, not on how many epochs this process has
run, so a run resumed after a crash sees the same batches as one that never stopped. Keras'
own epoch hooks cannot be counted on for that: ``Model.fit`` (Keras 3.15, TensorFlow backend)
calls the dataset's ``on_epoch_end`` once *before* the first epoch, and with its default
``shuffle=True`` it also shuffles the order of the batches with Python's unseeded ``random``.
So training passes ``shuffle=False`` to ``fit`` and adds :class:`SyncEpoch`, which sets the
epoch from the number Keras gives its callbacks (``initial_epoch`` and
``BackupAndRestore`` included).
"""
from __future__ import annotations

import math

import keras
import numpy as np

from selib.data.splits import one_hot
from selib.errors import ConfigError

__all__ = ["ArrayBatches", "SyncEpoch", "batches"]


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
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        if drop_remainder and 0 < len(self.x) < batch_size:
            # Keras would otherwise train on nothing, or fail on an empty dataset.
            raise ConfigError(f"batch_size {batch_size} is larger than the {len(self.x)} "
                              "training images and the last partial batch is dropped (several "
                              "devices): no batch is left; lower batch_size")
        self.batch_size, self.shuffle, self.seed = int(batch_size), bool(shuffle), int(seed)
        self.num_classes, self.drop_remainder = num_classes, bool(drop_remainder)
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass epoch ``epoch``: its order is drawn from ``(seed, epoch)`` alone."""
        self.epoch = int(epoch)
        self._order = (np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))
                       if self.shuffle else np.arange(len(self.x)))

    def __len__(self) -> int:
        n = len(self.x) / self.batch_size
        return int(n) if self.drop_remainder else math.ceil(n)

    @property
    def num_batches(self) -> int:
        return len(self)

    def __getitem__(self, i: int) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Batch ``i`` of this epoch: ``x`` alone without labels, else ``(x, y)``."""
        if not 0 <= i < len(self):  # past the end a slice is empty, not an error
            raise IndexError(f"batch {i} of {len(self)}")
        # Sorted within the batch: gathering rows in memory order is faster, and the order of
        # images inside one batch does not matter to a gradient step.
        idx = np.sort(self._order[i * self.batch_size:(i + 1) * self.batch_size])
        xb = self.x[idx]
        if self.y is None:
            return xb
        yb = self.y[idx]
        return xb, (one_hot(yb, self.num_classes) if self.num_classes else yb)

    def on_epoch_end(self) -> None:
        """Without :class:`SyncEpoch` (a plain loop over epochs), count the epochs here."""
        self.set_epoch(self.epoch + 1)


class SyncEpoch(keras.callbacks.Callback):
    """Set an :class:`ArrayBatches`' epoch from Keras' epoch number at the start of each epoch.

    Keras calls callbacks' ``on_epoch_begin(epoch)`` before it fetches the epoch's first batch,
    with the real epoch number, whereas the dataset hooks are not one call per epoch (see the
    module docstring). Use it with ``model.fit(..., shuffle=False)``.
    """

    def __init__(self, data: ArrayBatches) -> None:
        super().__init__()
        self.data = data

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.data.set_epoch(epoch)


def batches(x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 32, *,
            training: bool = False, seed: int = 0, num_classes: int | None = None,
            replicas: int = 1, epoch: int = 0) -> ArrayBatches:
    """Training batches (shuffled, the remainder dropped when split over ``replicas`` devices)
    or evaluation batches (file order, every image)."""
    return ArrayBatches(x, y, batch_size, shuffle=training, seed=seed, num_classes=num_classes,
                        drop_remainder=training and replicas > 1, epoch=epoch)
