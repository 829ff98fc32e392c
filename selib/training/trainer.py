"""Training: data -> self-contained model -> fit into a run folder that survives anything.

:func:`train` reads as a table of contents; each step is a short function of its own:

1. :func:`prepare_data` — scan, load (uint8), subsample and split the folder (``config.data``);
2. the run folder decides: finished (return it), resume (restore the committed state) or fresh;
3. :func:`runtime` — seed, precision policy and device distribution (``config.runtime``);
4. :func:`build_model` + :func:`~selib.training.optimizers.compile_model` (``config.model``,
   ``config.optim``): the network starts with its own preprocessing, so the saved
   ``model.keras`` takes raw uint8 images of the stated size;
5. :func:`fit` — backend-neutral batches (:mod:`selib.data.feeding`) and the callbacks;
6. :func:`finalize` — test the best finite model (``config.eval``), write metrics, mark the run
   finished.

The run folder's guarantees (atomic files, a lock, a manifest, resume rules) are described in
:mod:`selib.training.run_folder`.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import keras
import numpy as np

from selib import hardware
from selib.data.feeding import SyncEpoch, batches
from selib.data.loading import LoadedImages, load_images
from selib.data.scanning import scan
from selib.data.splits import Split, split
from selib.errors import ConfigError, RunFolderError, TrainingDiverged
from selib.training.callbacks import EpochStats, ProgressLine, RunRecorder
from selib.training.config import DataConfig, RuntimeConfig, TrainConfig
from selib.training.ema import SwapAverage
from selib.training.optimizers import compile_model
from selib.training.run_folder import REDERIVABLE, ResumeState, RunFolder, refuse_out_inside_data
from selib.training.run_io import data_info, load_model, read_history

__all__ = ["Prepared", "TrainResult", "Runtime", "prepare_data", "build_model", "runtime", "train",
           "ensure_run", "TrainingDiverged", "preprocessing_spec"]

PROGRESS_ENV = "SELIB_PROGRESS"    # "stderr": one line per epoch on the terminal (make run)


@dataclass
class Prepared:
    """The loaded images, the split a run trains, validates and tests on, and the data's identity."""

    data: LoadedImages
    split: Split
    class_names: list[str]
    info: dict                     # root, files, per-class counts, fingerprint (for the manifest)

    @property
    def test_paths(self) -> list[str]:
        return [self.data.paths[i] for i in self.split.test_idx]


@dataclass
class TrainResult:
    run_dir: Path
    model: keras.Model
    history: "object"              # pandas DataFrame of history.csv
    metrics: dict
    prepared: Prepared
    config: TrainConfig


# ---------------------------------------------------------------------------------------------
# 1. Data.
# ---------------------------------------------------------------------------------------------
def _subsample(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(keep))


def prepare_data(config: TrainConfig | DataConfig, data_dir: str | os.PathLike, *,
                 progress: bool | None = None, loaded: LoadedImages | None = None,
                 use_cache: bool = True) -> Prepared:
    """Scan and load ``data_dir`` at the config's size/colour/fit, subsample, split (seeded by
    ``split_seed``). A folder with fewer than two classes, or classes too small to split, is a
    one-line :class:`~selib.errors.SplitError` naming the classes and their counts."""
    d = config.data if isinstance(config, TrainConfig) else config
    if loaded is None:
        loaded = load_images(scan(data_dir), size=d.image_size, color=d.color, fit=d.fit,
                             progress=progress, use_cache=use_cache)
    info = data_info(loaded, data_dir)
    data = loaded
    if d.max_per_class:
        keep = _subsample(data.labels, d.max_per_class, d.split_seed)
        data = LoadedImages(data.images[keep], data.labels[keep], data.class_names,
                            [data.paths[i] for i in keep], data.skipped, data.from_cache,
                            data.seconds, data.options)
    parts = split(data.images, data.labels, test_size=d.test_size, val_size=d.val_size or None,
                  seed=d.split_seed, class_names=list(data.class_names))
    return Prepared(data, parts, list(data.class_names), info)


def preprocessing_spec(config: TrainConfig, class_names: list[str]) -> dict:
    """How to turn a photo into this model's input — what :class:`selib.Predictor` reads."""
    d = config.data
    return {"image_size": [d.image_size, d.image_size], "color": d.color, "fit": d.fit,
            "channels": d.channels, "input_dtype": "uint8", "class_names": list(class_names),
            "tta": config.eval.tta}


# ---------------------------------------------------------------------------------------------
# 3. Runtime: seed, precision, devices.
# ---------------------------------------------------------------------------------------------
@dataclass
class Runtime:
    precision: str
    jit_compile: bool | str
    distribution: hardware.Distribution

    @property
    def replicas(self) -> int:
        return self.distribution.replicas


def _jit(setting, gpus: bool):
    """XLA: JAX compiles every step anyway; on TensorFlow it pays on a GPU but makes CPU training
    slower (docs/performance.md), and there Keras' own "auto" leaves it off for layers without an
    XLA kernel (the image warp of the augmentation)."""
    if setting != "auto":
        return bool(setting)
    if hardware.backend_name() == "jax":
        return True
    return "auto" if gpus and hardware.backend_name() == "tensorflow" else False


@contextlib.contextmanager
def runtime(rt: RuntimeConfig) -> Iterator[Runtime]:
    """Seed everything, set the precision policy and enter the distribution scope (build,
    compile and fit inside it)."""
    keras.utils.set_random_seed(rt.seed)
    dist = hardware.make_distribution(list(rt.devices) if rt.devices else None)
    gpus = bool(hardware.gpu_devices())
    precision = hardware.choose_precision(rt.precision)
    with hardware.precision_policy(precision), dist.scope():
        yield Runtime(precision, _jit(rt.jit_compile, gpus), dist)


# ---------------------------------------------------------------------------------------------
# 4. The model.
# ---------------------------------------------------------------------------------------------
def network_kwargs(config: TrainConfig) -> dict:
    """The builder's keyword arguments for ``config.model`` (every field applies, the seed's too)."""
    m = config.model
    common = dict(attn=m.attn, attn_kwargs=m.attn_kwargs, ratio=m.ratio)
    if m.architecture == "se_inception":
        return dict(filters=m.filters, **common)
    return dict(depth=m.depth, filters=m.filters, block=m.block, style=m.style, width=m.width,
                initial_filters=m.initial_filters, l2=m.l2, se_placement=m.se_placement,
                se_stages=m.se_stages, stem_stride=m.stem_stride, stem_pool=m.stem_pool, **common)


def build_model(config: TrainConfig, num_classes: int) -> keras.Model:
    """The network a config names, starting with its own preprocessing: a uint8 image input of
    the stated size, ``Rescaling(1/255)`` and (active only in training) the augmentation."""
    from selib.layers.augment import augmentation
    from selib.models.inception import se_inception_net
    from selib.models.resnet import se_resnet

    d, m = config.data, config.model
    shape = (d.image_size, d.image_size, d.channels)
    image = keras.Input(shape, dtype="uint8", name="image")
    x = keras.layers.Rescaling(1.0 / 255, name="rescale")(image)
    if m.augment:
        x = augmentation(m.augment, seed=config.runtime.seed)(x)
    builder = se_inception_net if m.architecture == "se_inception" else se_resnet
    name = f"{config.name}_{m.architecture}"
    return builder(shape, num_classes, input_tensor=x, name=name, **network_kwargs(config))


# ---------------------------------------------------------------------------------------------
# 5. Fit.
# ---------------------------------------------------------------------------------------------
def _verbose(verbose) -> int:
    if verbose != "auto":
        return int(verbose)
    return 2 if (os.environ.get("CI") or not sys.stdout.isatty()) else 1


def _restore(model: keras.Model, run: RunFolder, state: ResumeState | None) -> ResumeState | None:
    """Load the committed weights (and optimiser state); a file that will not load means a
    damaged backup: say so in one line and restart from epoch 1."""
    if state is None or not state.weights:
        return None
    model.optimizer.build(model.trainable_variables)
    fresh = [keras.ops.convert_to_numpy(v) for v in _variables(model)]
    why = None
    try:
        model.load_weights(run.backup / state.weights)
    except Exception as exc:  # noqa: BLE001 - h5py/keras raise many kinds for a damaged file
        why = f"{state.weights} will not load ({type(exc).__name__})"
    if why is None and not _all_finite(model):   # only finite epochs are committed: bytes changed
        why = f"{state.weights} holds values that are not finite"
    if why is None:
        return state
    for variable, value in zip(_variables(model), fresh):   # a load may stop half-way: start clean
        variable.assign(value)
    run.discard_backup(why)
    return None


def _variables(model: keras.Model) -> list:
    return [*model.weights, *model.optimizer.variables]


def _all_finite(model: keras.Model) -> bool:
    return all(np.isfinite(keras.ops.convert_to_numpy(v)).all() for v in _variables(model)
               if "float" in str(v.dtype))


def fit(model: keras.Model, config: TrainConfig, prepared: Prepared, run: RunFolder, rt: Runtime,
        state: ResumeState | None, *, verbose="auto", callbacks: list | None = None) -> RunRecorder:
    """Fit from the committed epoch to ``config.optim.epochs``; returns the run recorder."""
    o, sp, n = config.optim, prepared.split, len(prepared.class_names)
    start = state.epoch if state else 0
    train_b = batches(sp.x_train, sp.y_train, o.batch_size, training=True, seed=config.runtime.seed,
                      num_classes=n, replicas=rt.replicas, epoch=start)
    if rt.replicas > 1 and len(sp.x_train) < o.batch_size:
        raise ConfigError(f"batch_size {o.batch_size} is larger than the {len(sp.x_train)} training images; "
                          f"split over {rt.replicas} devices every step needs a full batch: lower it")
    has_val = sp.x_val is not None and len(sp.x_val) > 0
    val_bs = o.batch_size
    if has_val and rt.replicas > 1:
        # every device must get as many images as the others (the remainder is dropped), so the
        # batch is at most the validation set: one smaller than a batch would have no batch at all
        val_bs = min(o.batch_size, len(sp.x_val) // rt.replicas * rt.replicas)
        has_val = val_bs > 0
    val_b = batches(sp.x_val, sp.y_val, val_bs, num_classes=n,
                    replicas=rt.replicas) if has_val else None
    if val_b is not None and rt.replicas > 1:
        val_b.drop_remainder = True
    recorder = RunRecorder(run, "val_accuracy" if has_val else "accuracy", state,
                           save=rt.distribution.is_chief)
    # the caller's callbacks run before the recorder, so what they log is what gets recorded
    # SyncEpoch: epoch e's order depends only on (seed, e), resumed or not (Keras' own shuffle off)
    # SwapAverage before the caller's callbacks and the recorder: they see and save the average
    average = [SwapAverage(resumed=state is not None)] if o.swaps_average else []
    cbs = [SyncEpoch(train_b), EpochStats(config.runtime.max_train_seconds), *average, *(callbacks or []),
           recorder]
    if os.environ.get(PROGRESS_ENV) == "stderr":
        cbs.append(ProgressLine(o.epochs, label=f"{config.name}: "))
    if start < o.epochs:
        model.fit(train_b, validation_data=val_b, epochs=o.epochs, initial_epoch=start, callbacks=cbs,
                  shuffle=False, verbose=_verbose(verbose))
    return recorder


def _check_diverged(recorder: RunRecorder, run: RunFolder) -> None:
    if recorder.diverged_at is None:
        return
    best = recorder.state.best
    kept = (f"the last good checkpoint (epoch {best['epoch']}, {best['monitor']} "
            f"{100 * best['value']:.1f} %) is kept at {run.file('model.keras')}"
            if best and run.file("model.keras").exists() else
            "no epoch finished with finite values, so there is no checkpoint")
    raise TrainingDiverged(f"training diverged in epoch {recorder.diverged_at} "
                           f"({', '.join(recorder.bad)} not finite): {kept}; lower the learning rate")


# ---------------------------------------------------------------------------------------------
# 6. Finalise.
# ---------------------------------------------------------------------------------------------
def finalize(run: RunFolder, model: keras.Model, config: TrainConfig, prepared: Prepared, rt: Runtime,
             recorder: RunRecorder, seconds: dict, evaluate_test: bool = True) -> TrainResult:
    """Test the kept (best finite) model, write metrics.json and mark the run finished."""
    from selib.analysis.evaluation import evaluate
    from selib.training.run_folder import atomic_save

    best_path = run.file("model.keras")
    chief = rt.distribution.is_chief
    if chief and not best_path.exists():   # e.g. the time budget ended before the first epoch did
        atomic_save(best_path, model.save)
    # another worker of a multi-worker run writes nothing: it tests the model it trained
    best = load_model(best_path) if chief else model
    history, sp = read_history(run), prepared.split
    metrics = {
        "profile": config.name, "class_names": prepared.class_names, "data": prepared.info,
        "n_train": int(len(sp.x_train)), "n_val": int(len(sp.val_idx)), "n_test": int(len(sp.test_idx)),
        "epochs_run": int(len(history) or recorder.state.epoch), "best_epoch": (recorder.state.best or {}).get("epoch"),
        **{k: round(v, 2) for k, v in seconds.items()},
        "mean_epoch_seconds": round(float(history["epoch_seconds"].mean()), 2) if "epoch_seconds" in history else None,
        "params": int(best.count_params()), "precision": rt.precision, "xla": bool(getattr(model, "jit_compile", rt.jit_compile)),
        "distribution": rt.distribution.kind, "replicas": rt.replicas,
        "hardware": hardware.device_summary(),
    }
    # the chief tests the saved model; another worker would run the distributed model's
    # collective ops alone, so it does not test
    if evaluate_test and chief and sp.x_test is not None and len(sp.x_test):
        ev = evaluate(best, sp.x_test, sp.y_test, prepared.class_names,
                      batch_size=config.optim.batch_size, tta=config.eval.tta)
        metrics.update(test_accuracy=ev.accuracy, test_loss=ev.loss, worst_pairs=ev.worst_pairs_text())
    if rt.distribution.is_chief:
        run.finish(metrics)
    return TrainResult(run.path, best, history, metrics, prepared, config)


# ---------------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------------
def train(config: TrainConfig, data_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
          verbose="auto", prepared: Prepared | None = None, callbacks: list | None = None,
          evaluate_test: bool = True, overwrite: bool = False, use_cache: bool = True) -> TrainResult:
    """Train ``config`` on ``data_dir`` into ``out_dir``: resume it if it was interrupted, return
    it if it is finished, refuse (one line) a folder that holds another run unless ``overwrite``.
    The folder's lock is taken before anything else, so a second trainer is refused at once."""
    refuse_out_inside_data(data_dir, out_dir)
    run = RunFolder(out_dir)
    with _lock_if_chief(run):
        t0 = time.perf_counter()
        prepared = prepared or prepare_data(config, data_dir, use_cache=use_cache)
        load_seconds = time.perf_counter() - t0
        status = _begin(run, config, prepared, overwrite)
        if status == "finished":
            return load_result(run, config, prepared)
        with runtime(config.runtime) as rt:
            if status == "refinish":
                return _refinish(run, config, prepared, rt, load_seconds, evaluate_test)
            model = build_model(config, len(prepared.class_names))
            n, bs = len(prepared.split.x_train), config.optim.batch_size
            steps = max(1, n // bs if rt.replicas > 1 else math.ceil(n / bs))
            compile_model(model, config.optim, steps, rt.jit_compile)
            state = _restore(model, run, run.load_state() if status == "resume" else None)
            t1 = time.perf_counter()
            recorder = fit(model, config, prepared, run, rt, state, verbose=verbose, callbacks=callbacks)
            train_seconds = time.perf_counter() - t1
        _check_diverged(recorder, run)
        return finalize(run, model, config, prepared, rt, recorder,
                        {"train_seconds": train_seconds, "load_seconds": load_seconds}, evaluate_test)


def _refinish(run: RunFolder, config: TrainConfig, prepared: Prepared, rt: Runtime,
              load_seconds: float, evaluate_test: bool) -> TrainResult:
    """metrics.json again for a finished run whose metrics failed their check: the kept model
    is tested again (the training time is the sum of the recorded epoch times)."""
    from types import SimpleNamespace

    history = read_history(run)
    monitor = "val_accuracy" if "val_accuracy" in history else "accuracy"
    best = None
    if len(history) and monitor in history:
        row = history.loc[history[monitor].idxmax()]
        best = {"epoch": int(row["epoch"]) + 1, "monitor": monitor, "value": float(row[monitor])}
    state = ResumeState(epoch=len(history), history=[], best=best)
    train_seconds = float(history["epoch_seconds"].sum()) if "epoch_seconds" in history else 0.0
    model = load_model(run.file("model.keras"))
    return finalize(run, model, config, prepared, rt, SimpleNamespace(state=state),
                    {"train_seconds": train_seconds, "load_seconds": load_seconds}, evaluate_test)


def _is_chief() -> bool:
    """Worker 0 of a TF_CONFIG cluster, or JAX process 0; a single process is always the chief."""
    if hardware.backend_name() == "jax":
        import jax

        return jax.process_index() == 0
    return hardware.parse_tf_config(os.environ.get("TF_CONFIG"))[1]


@contextlib.contextmanager
def _lock_if_chief(run: RunFolder):
    """The chief owns the folder; other workers of a multi-worker run only read its backup."""
    if _is_chief():
        with run.lock():
            yield
    else:
        yield


def _begin(run: RunFolder, config: TrainConfig, prepared: Prepared, overwrite: bool) -> str:
    if not _is_chief():
        return "resume" if run.load_state() is not None else "fresh"
    return run.begin(config, prepared.info, prepared.class_names,
                     preprocessing_spec(config, prepared.class_names), overwrite=overwrite)


def load_result(run: RunFolder | str | os.PathLike, config: TrainConfig,
                prepared: Prepared) -> TrainResult:
    """A finished run as a :class:`TrainResult` (model, history, metrics)."""
    import json

    run = run if isinstance(run, RunFolder) else RunFolder(run)
    metrics = json.loads(run.file("metrics.json").read_text())
    return TrainResult(run.path, load_model(run.file("model.keras")), read_history(run), metrics, prepared, config)


def ensure_run(config: TrainConfig, data_dir: str | os.PathLike, run_dir: str | os.PathLike,
               verbose="auto", overwrite: bool = True) -> TrainResult:
    """A finished run with this exact config and data, loaded, or trained (resumed) now — so each
    notebook runs on its own. A folder holding another config, or a finished run whose model or
    history is damaged, is replaced (``overwrite``)."""
    refuse_out_inside_data(data_dir, run_dir)
    prepared = prepare_data(config, data_dir, progress=False)
    run = RunFolder(run_dir)
    if run.is_finished(config.to_dict(), prepared.info["fingerprint"]):
        return load_result(run, config, prepared)
    try:
        m = run.manifest()
        replace = m is None or run.mismatch(m, config, prepared.info) is not None or (
            m.get("state") == "finished" and any(n not in REDERIVABLE for n in run.damage(m)))
    except RunFolderError:   # a damaged manifest: nothing in the folder can be trusted
        replace = True
    return train(config, data_dir, run_dir, verbose=verbose, prepared=prepared,
                 overwrite=overwrite and replace)
