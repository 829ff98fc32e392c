"""The callbacks of a selib run: per-epoch stats, the committed run record, compact progress.

:class:`RunRecorder` replaces Keras' ``ModelCheckpoint`` + ``BackupAndRestore`` + ``CSVLogger``
with one callback that writes through :class:`~selib.training.run_folder.RunFolder`'s commit
protocol: weights, best candidate and history are committed together after each epoch, and a
checkpoint is only ever taken from finite weights with finite validation metrics.
"""
from __future__ import annotations

import math
import sys
import time

import keras
import numpy as np

from selib.training.run_folder import ResumeState, RunFolder
from selib.training.weights_io import weights_bytes

__all__ = ["EpochStats", "RunRecorder", "ProgressLine", "non_finite"]


class EpochStats(keras.callbacks.Callback):
    """Adds ``lr`` and ``epoch_seconds`` to the logs and enforces an optional time budget."""

    def __init__(self, max_seconds: float | None = None) -> None:
        super().__init__()
        self.max_seconds = max_seconds
        self._t0 = self._epoch_t0 = 0.0

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_t0 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.max_seconds and time.perf_counter() - self._t0 > self.max_seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        opt = self.model.optimizer
        lr = opt.learning_rate
        if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
            lr = lr(opt.iterations)
        logs["lr"] = float(keras.ops.convert_to_numpy(lr))
        logs["epoch_seconds"] = time.perf_counter() - self._epoch_t0


def non_finite(logs: dict) -> list[str]:
    """The names of logged values that are NaN or infinite."""
    return [k for k, v in logs.items() if isinstance(v, (int, float, np.floating)) and not math.isfinite(v)]


def _weights_finite(model: keras.Model) -> bool:
    return all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.weights
               if "float" in str(w.dtype))


class RunRecorder(keras.callbacks.Callback):
    """Commit every finished epoch to the run folder; keep the best *finite* model.

    An epoch with a non-finite loss, validation metric or weight is never saved as best and
    never committed as a backup; training stops there and :attr:`diverged_at` records it, so the
    trainer can say which checkpoint really is good.
    """

    def __init__(self, run: RunFolder, monitor: str, state: ResumeState | None = None,
                 save: bool = True) -> None:
        super().__init__()
        self.run, self.monitor, self.save = run, monitor, save
        self.state = state or ResumeState()
        self.diverged_at: int | None = None
        self.bad: list[str] = []

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.model.stop_training = True   # TerminateOnNaN's job, with the epoch recorded

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self.bad = non_finite(logs)
        if self.bad or not _weights_finite(self.model):
            self.bad = self.bad or ["weights"]
            self.diverged_at = epoch + 1
            self.model.stop_training = True
            return
        row = {"epoch": epoch, **{k: float(v) for k, v in logs.items()}}
        self.state.history = [r for r in self.state.history if r["epoch"] < epoch] + [row]
        self.state.epoch = epoch + 1
        value = row.get(self.monitor)
        improved = value is not None and (self.state.best is None or value > self.state.best["value"])
        if improved:
            self.state.best = {"epoch": epoch + 1, "monitor": self.monitor, "value": value}
        if self.save:
            save_model = (lambda p: self.model.save(p)) if improved else None
            # built in memory, written by Python: a full disk is an OSError, not an HDF5 crash
            self.run.commit_epoch(self.state, lambda p: p.write_bytes(weights_bytes(self.model)), save_model)
        else:
            # another worker of a multi-worker run: saving runs collective ops that every worker
            # must join (TensorFlow's MultiWorkerMirroredStrategy), so it saves the same files
            # into a throw-away folder, never into the run folder
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory(prefix="selib-worker-") as tmp:
                self.model.save_weights(Path(tmp) / "w.weights.h5")
                if improved:
                    self.model.save(Path(tmp) / "m.keras")


class ProgressLine(keras.callbacks.Callback):
    """One short line per epoch, with an estimate of the time left, to a chosen stream.

    Notebooks train silently (their cells end with a table and the curves); the series runner
    asks for these lines on the terminal (``sys.__stderr__`` of the kernel), so ``make run``
    says what it is doing while a notebook trains.
    """

    def __init__(self, epochs: int, stream=None, label: str = "") -> None:
        super().__init__()
        self.epochs, self.stream, self.label = int(epochs), stream or sys.__stderr__, label
        self._t0, self._first = 0.0, None

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        if self._first is None:
            self._first = epoch          # epochs done before this process (a resumed run)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        done = epoch + 1 - (self._first or 0)
        left = (time.perf_counter() - self._t0) / max(done, 1) * (self.epochs - epoch - 1)
        acc = logs.get("val_accuracy", logs.get("accuracy"))
        acc_text = f", {'val ' if 'val_accuracy' in logs else ''}accuracy {100 * acc:.1f} %" if acc is not None else ""
        print(f"  {self.label}epoch {epoch + 1}/{self.epochs}{acc_text}, about {_mmss(left)} left",
              file=self.stream, flush=True)


def _mmss(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
