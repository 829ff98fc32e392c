"""Training: data -> split -> model -> fit with checkpoints, resumable, GPU-aware.

A run lives in one directory::

    runs/<name>/config.json      the TrainConfig used
                model.keras      the best model by validation accuracy (loads with safe_mode=True)
                history.csv      one row per epoch (loss, accuracy, val_*, lr, epoch_seconds)
                metrics.json     test accuracy/loss, timings, class names, split sizes
                backup/          Keras BackupAndRestore state while training (resume after a crash)

Running the same command again after a crash resumes from the last finished epoch.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from selib._quiet import import_tensorflow_quietly
from selib.training.config import TrainConfig
from selib.training.profiles import gpu_available

tf = import_tensorflow_quietly()
import keras  # noqa: E402

from selib.data.loading import LoadedImages, load_images  # noqa: E402
from selib.data.feeding import make_dataset  # noqa: E402
from selib.data.splits import Split, split  # noqa: E402
from selib.data.scanning import scan  # noqa: E402


class TrainingDiverged(RuntimeError):
    """The loss became NaN/inf; the last good checkpoint is kept."""


@dataclass
class Prepared:
    """The loaded images and the split a run trains, validates and tests on."""

    data: LoadedImages
    split: Split
    class_names: list[str]

    @property
    def test_paths(self) -> list[str]:
        return [self.data.paths[i] for i in self.split.test_idx]


@dataclass
class TrainResult:
    run_dir: Path
    model: keras.Model
    history: "object"           # pandas DataFrame of history.csv
    metrics: dict
    prepared: Prepared
    config: TrainConfig


# ---------------------------------------------------------------------------------------------
# Data.
# ---------------------------------------------------------------------------------------------
def _subsample(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(keep))


def prepare_data(config: TrainConfig, data_dir: str | os.PathLike, *, progress: bool | None = None,
                 loaded: LoadedImages | None = None) -> Prepared:
    """Scan and load ``data_dir`` at the config's size/colour, subsample, and split (seeded)."""
    if loaded is None:
        result = scan(data_dir)
        loaded = load_images(result, size=config.image_size, color=config.color, fit=config.fit,
                             progress=progress)
    data = loaded
    if config.max_per_class:
        keep = _subsample(data.labels, config.max_per_class, config.seed)
        data = LoadedImages(data.images[keep], data.labels[keep], data.class_names,
                            [data.paths[i] for i in keep], data.skipped, data.from_cache,
                            data.seconds, data.options)
    if len(data) == 0:
        raise ValueError(f"no loadable images in {data_dir}")
    parts = split(data.images, data.labels, test_size=config.test_size,
                  val_size=config.val_size or None, seed=config.seed)
    return Prepared(data, parts, list(data.class_names))


# ---------------------------------------------------------------------------------------------
# Model and optimiser.
# ---------------------------------------------------------------------------------------------
def build_model(config: TrainConfig, num_classes: int) -> keras.Model:
    """The network a config names, for (size, size, channels) inputs."""
    from selib.models import resnet as models

    shape = (config.image_size, config.image_size, config.channels)
    if config.model == "seed":
        return models.seed_model(shape, num_classes, weight_decay=config.model_weight_decay)
    if config.model == "se_inception":
        return models.se_inception_net(shape, num_classes, filters=config.filters, ratio=config.ratio)
    if config.model in ("se_resnet", "resnet"):
        return models.se_resnet(
            shape, num_classes, depth=config.depth, filters=config.filters, block=config.block,
            style=config.style, ratio=None if config.model == "resnet" else config.ratio,
            width=config.width, initial_filters=config.initial_filters,
            weight_decay=config.model_weight_decay, se_placement=config.se_placement,
            se_gate=config.se_gate, se_squeeze=config.se_squeeze, stem_stride=config.stem_stride,
            stem_pool=config.stem_pool)
    raise ValueError(f"unknown model {config.model!r}; use 'seed', 'se_resnet', 'resnet' or 'se_inception'")


def learning_rate(config: TrainConfig, steps_per_epoch: int):
    """Constant (the seed) or cosine decay with optional linear warm-up (Keras' CosineDecay)."""
    if config.schedule == "constant":
        return config.learning_rate
    if config.schedule == "cosine":
        total = max(1, config.epochs * steps_per_epoch)
        warmup = int(round(config.warmup_epochs * steps_per_epoch))
        if warmup:
            return keras.optimizers.schedules.CosineDecay(
                0.0, decay_steps=max(1, total - warmup), warmup_target=config.learning_rate,
                warmup_steps=warmup)
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=total)
    raise ValueError(f"unknown schedule {config.schedule!r}; use 'constant' or 'cosine'")


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    lr = learning_rate(config, steps_per_epoch)
    wd = config.weight_decay or None
    if config.optimizer == "adam":
        return keras.optimizers.Adam(lr, beta_1=config.beta_1, beta_2=config.beta_2,
                                     epsilon=config.epsilon, weight_decay=wd)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=config.weight_decay or 0.004,
                                      beta_1=config.beta_1, beta_2=config.beta_2, epsilon=config.epsilon)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=config.momentum, nesterov=True, weight_decay=wd)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; use 'adam', 'adamw' or 'sgd'")


# ---------------------------------------------------------------------------------------------
# Hardware.
# ---------------------------------------------------------------------------------------------
def _flag(value, default: bool) -> bool:
    return default if value == "auto" else bool(value)


def hardware_summary() -> dict:
    """What TensorFlow sees — printed by notebook 04 and stored in metrics.json."""
    gpus = tf.config.list_physical_devices("GPU")
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "gpus": [g.name for g in gpus],
            "cpus": os.cpu_count(), "device": "GPU" if gpus else "CPU"}


def distribution_strategy(devices: list[str] | None = None):
    """MirroredStrategy across several GPUs (or the ``devices`` given, e.g. two logical CPUs in
    the tests), else the default one-device strategy."""
    if devices and len(devices) > 1:
        return tf.distribute.MirroredStrategy(devices)
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


# ---------------------------------------------------------------------------------------------
# Callbacks.
# ---------------------------------------------------------------------------------------------
class EpochStats(keras.callbacks.Callback):
    """Adds ``lr`` and ``epoch_seconds`` to the logs (so CSVLogger records them) and enforces an
    optional wall-clock budget for training."""

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


def _verbose(verbose) -> int:
    if verbose != "auto":
        return int(verbose)
    return 2 if (os.environ.get("CI") or not sys.stdout.isatty()) else 1


# ---------------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------------
def train(config: TrainConfig, data_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
          verbose="auto", tensorboard: bool = False, prepared: Prepared | None = None,
          extra_callbacks: list | None = None, evaluate_test: bool = True) -> TrainResult:
    """Train ``config`` on ``data_dir`` into ``out_dir`` (resuming if a backup is there)."""
    import pandas as pd

    from selib.analysis.evaluation import evaluate

    run_dir = Path(out_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = run_dir / "config.json"
    if (run_dir / "backup").exists() and saved.exists():
        previous = TrainConfig.load(saved)
        if previous.to_dict() != config.to_dict():
            raise ValueError(f"{run_dir} holds an unfinished run with a different config; "
                             "use another --out or delete that folder")
    config.save(saved)

    keras.utils.set_random_seed(config.seed)
    on_gpu = gpu_available()
    use_mp = _flag(config.mixed_precision, on_gpu)
    use_xla = _flag(config.jit_compile, on_gpu)
    t_load = time.perf_counter()
    prepared = prepared or prepare_data(config, data_dir)
    load_seconds = time.perf_counter() - t_load
    sp = prepared.split
    (run_dir / "classes.json").write_text(json.dumps(prepared.class_names) + "\n")
    n_classes = len(prepared.class_names)
    steps = math.ceil(len(sp.x_train) / config.batch_size)

    previous_policy = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mp else "float32")
    try:
        strategy = distribution_strategy(config.extra.get("devices"))
        with strategy.scope():
            keras.utils.set_random_seed(config.seed)   # same seed -> same initial weights
            model = build_model(config, n_classes)
            model.compile(optimizer=make_optimizer(config, steps),
                          loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                          metrics=["accuracy"], jit_compile=use_xla)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)

    train_ds = make_dataset(sp.x_train, sp.y_train, config.batch_size, training=True,
                            augment=config.augment, shuffle_seed=config.seed,
                            one_hot_classes=n_classes)
    has_val = sp.x_val is not None and len(sp.x_val) > 0
    val_ds = (make_dataset(sp.x_val, sp.y_val, config.batch_size, one_hot_classes=n_classes)
              if has_val else None)
    if strategy.num_replicas_in_sync > 1:
        # equal per-replica batches: MirroredStrategy cannot split a ragged last batch evenly
        even = lambda ds: ds.unbatch().batch(config.batch_size, drop_remainder=True)
        train_ds = even(train_ds)
        val_ds = even(val_ds) if val_ds is not None else None
    monitor = "val_accuracy" if has_val else "accuracy"
    history_csv = run_dir / "history.csv"
    resuming = (run_dir / "backup").exists()
    if not resuming and history_csv.exists():
        history_csv.unlink()
    checkpoint = keras.callbacks.ModelCheckpoint(run_dir / "model.keras", monitor=monitor, mode="max",
                                                 save_best_only=True)
    if resuming and history_csv.exists() and (run_dir / "model.keras").exists():
        done = pd.read_csv(history_csv)
        if monitor in done and len(done):   # keep the best model from before the crash
            checkpoint.best = float(done[monitor].max())
    callbacks = [
        EpochStats(config.max_train_seconds),
        keras.callbacks.TerminateOnNaN(),
        checkpoint,
        keras.callbacks.BackupAndRestore(str(run_dir / "backup"), delete_checkpoint=True),
        keras.callbacks.CSVLogger(str(history_csv), append=resuming),
        *(extra_callbacks or []),
    ]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard")))

    t0 = time.perf_counter()
    model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, callbacks=callbacks, shuffle=False,
              verbose=_verbose(verbose))
    train_seconds = time.perf_counter() - t0

    history = pd.read_csv(history_csv) if history_csv.exists() else pd.DataFrame()
    if len(history):
        history = history.drop_duplicates("epoch", keep="last").reset_index(drop=True)
    losses = history["loss"].to_numpy(dtype=float) if "loss" in history else np.array([])
    diverged = (len(history) and not np.all(np.isfinite(losses))) or \
        (model.stop_training and len(history) < config.epochs and not config.max_train_seconds)
    best_path = run_dir / "model.keras"
    if diverged:
        kept = f"the last good checkpoint is kept at {best_path}" if best_path.exists() else \
            "no epoch finished cleanly, so there is no checkpoint"
        raise TrainingDiverged(f"training diverged (loss became NaN/inf after {len(history)} "
                               f"epoch(s)); lower the learning rate. {kept}.")
    if not best_path.exists():  # e.g. stopped by the time budget before the first epoch ended
        model.save(best_path)
    best = keras.saving.load_model(best_path, safe_mode=True)

    metrics = {
        "profile": config.name, "class_names": prepared.class_names,
        "n_train": int(len(sp.x_train)), "n_val": int(len(sp.x_val)) if has_val else 0,
        "n_test": int(len(sp.x_test)) if sp.x_test is not None else 0,
        "epochs_run": int(len(history)), "train_seconds": round(train_seconds, 2),
        "load_seconds": round(load_seconds, 2),
        "mean_epoch_seconds": round(float(history["epoch_seconds"].mean()), 2)
        if "epoch_seconds" in history else None,
        "params": int(best.count_params()), "mixed_precision": use_mp, "xla": use_xla,
        "replicas": int(strategy.num_replicas_in_sync),
        "hardware": hardware_summary(),
    }
    if evaluate_test and sp.x_test is not None and len(sp.x_test):
        ev = evaluate(best, sp.x_test, sp.y_test, prepared.class_names,
                      batch_size=config.batch_size, tta=config.tta)
        metrics.update(test_accuracy=ev.accuracy, test_loss=ev.loss,
                       worst_pairs=ev.worst_pairs_text())
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return TrainResult(run_dir, best, history, metrics, prepared, config)


def run_class_names(run_dir: str | os.PathLike) -> list[str] | None:
    """The class names a run was trained on (classes.json, written before the first epoch)."""
    path = Path(run_dir) / "classes.json"
    return json.loads(path.read_text()) if path.exists() else None


def load_run(run_dir: str | os.PathLike) -> tuple[keras.Model, TrainConfig, dict]:
    """The best model, config and metrics of a finished run."""
    run_dir = Path(run_dir)
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    metrics_path = run_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    return model, TrainConfig.load(run_dir / "config.json"), metrics


def ensure_run(config: TrainConfig, data_dir: str | os.PathLike, run_dir: str | os.PathLike,
               verbose="auto") -> TrainResult:
    """Load a finished run with this exact config, or train it — so each notebook runs on its own."""
    import pandas as pd

    run_dir = Path(run_dir)
    done = all((run_dir / f).exists() for f in ("model.keras", "metrics.json", "config.json"))
    if done and not (run_dir / "backup").exists() and TrainConfig.load(run_dir / "config.json") == config:
        model, _, metrics = load_run(run_dir)
        history = pd.read_csv(run_dir / "history.csv") if (run_dir / "history.csv").exists() else pd.DataFrame()
        return TrainResult(run_dir, model, history, metrics, prepare_data(config, data_dir, progress=False),
                           config)
    return train(config, data_dir, run_dir, verbose=verbose)


def seconds_per_image(config: TrainConfig, num_classes: int = 4, batch_size: int = 4, steps: int = 2) -> float:
    """Measured training time per image for a config's network on this machine (random data).

    Used to say honestly what a profile costs here before running it (e.g. the seed recipe at
    473² on a laptop CPU): one warm-up step, then the mean of ``steps`` timed steps.
    """
    keras.utils.set_random_seed(0)
    model = build_model(config, num_classes)
    model.compile(optimizer=make_optimizer(config, 1), loss="categorical_crossentropy")
    x = np.random.default_rng(0).random((batch_size, config.image_size, config.image_size, config.channels),
                                        dtype=np.float32)
    y = np.eye(num_classes, dtype=np.float32)[np.arange(batch_size) % num_classes]
    model.train_on_batch(x, y)
    t = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - t) / (steps * batch_size)
