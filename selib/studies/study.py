"""A study and its runner: one factor, its variants as config overrides, paired seeds, resumable.

A :class:`Study` is a base :class:`~selib.training.config.TrainConfig`, a *reference* variant and
other variants (each a dict of flat config overrides, ``{"attn": None}``), repeated over seeds.
Seed ``k`` sets both the training seed (initial weights, batch order, augmentation draws) and the
split seed, so the two arms of a comparison with the same ``k`` see the same training images in
the same order and differ only in the factor studied: that is what makes them *paired*.

:func:`run_study` trains every (variant, seed) pair that is not finished yet. A run's folder is
named by a hash of its full config (``<out_root>/runs/seed<k>-<hash>``), so a config shared by
several studies (every study's reference is the same network) is trained once and read back by
all of them, and an edited study never mistakes an old run for a new one. Data are loaded once
per image setting and split once per seed; the test set can be a separately rendered folder
(``test_dir``), which no training image can leak into.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from selib.training.config import TrainConfig

__all__ = ["Study", "RESULT_COLUMNS", "config_key", "run_dir", "run_study", "read_run", "unique_runs",
           "ensure_test_set", "ensure_train_set", "prepare_seed", "DataCache"]

RESULT_COLUMNS = ["study", "label", "seed", "accuracy", "n_test", "params", "epoch_seconds",
                  "train_seconds", "status", "run_dir"]


@dataclass(frozen=True)
class Study:
    """One factor under test: ``variants`` (label -> config overrides) over paired ``seeds``.

    ``reference`` is the variant every other one is compared with (the paper's default, or no
    SE); ``paper`` keys the paper's numbers for this study in :mod:`selib.studies.paper`.
    """

    name: str
    base: TrainConfig
    variants: Mapping[str, Mapping[str, Any]]
    seeds: tuple[int, ...]
    reference: str
    title: str = ""
    xlabel: str = ""
    question: str = ""
    paper: str = ""
    paper_labels: Mapping[str, str] = field(default_factory=dict)   # our label -> the paper's

    def __post_init__(self) -> None:
        if len(self.variants) < 2:
            raise ValueError(f"study {self.name!r} needs a reference and at least one variant")
        if self.reference not in self.variants:
            raise ValueError(f"reference {self.reference!r} is not a variant of {self.name!r}")
        if not self.seeds:
            raise ValueError(f"study {self.name!r} has no seeds")
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        for label in self.variants:          # a typo fails now, not after an hour of training
            self.config(label, self.seeds[0])

    @property
    def labels(self) -> list[str]:
        """Reference first, then the variants in the order given."""
        return [self.reference] + [v for v in self.variants if v != self.reference]

    def config(self, label: str, seed: int) -> TrainConfig:
        """The exact config of one run: base, the variant's overrides, and the paired seed."""
        overrides = dict(self.variants[label])
        return self.base.replace(**overrides, seed=int(seed), split_seed=int(seed))

    def runs(self) -> list[tuple[str, int, TrainConfig]]:
        """(label, seed, config) of every run, seed-major: an interrupted study leaves whole pairs."""
        return [(label, s, self.config(label, s)) for s in self.seeds for label in self.labels]

    @property
    def n_runs(self) -> int:
        return len(self.variants) * len(self.seeds)


def config_key(config: TrainConfig) -> str:
    """A short, stable hash of the full config: the run folder's name."""
    text = json.dumps(config.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_dir(out_root: str | os.PathLike, config: TrainConfig) -> Path:
    """Where one config's run lives under ``out_root`` (shared by every study that has it)."""
    return Path(out_root) / "runs" / f"seed{config.get('seed')}-{config_key(config)}"


def unique_runs(studies: list[Study]) -> int:
    """How many trainings a list of studies costs once identical configs are shared."""
    return len({config_key(cfg) for s in studies for _, _, cfg in s.runs()})


# ---------------------------------------------------------------------------------------------
# Data: loaded once per image setting, split once per seed, with an optional separate test set.
# ---------------------------------------------------------------------------------------------
DataCache = dict   # (folder, image_size, color, fit) -> LoadedImages


def _loaded(config: TrainConfig, folder: str | os.PathLike, cache: DataCache):
    """The folder's images at the config's size, colour and fit, decoded once per session."""
    from selib.data.loading import load_images
    from selib.data.scanning import scan

    d = config.data
    key = (str(Path(folder).resolve()), d.image_size, d.color, d.fit)
    if key not in cache:
        cache[key] = load_images(scan(folder), size=d.image_size, color=d.color, fit=d.fit,
                                 progress=False)
    return cache[key]


def prepare_seed(config: TrainConfig, data_dir: str | os.PathLike,
                 test_dir: str | os.PathLike | None = None, cache: DataCache | None = None):
    """The :class:`~selib.training.trainer.Prepared` data of one seed's runs.

    Without ``test_dir`` it is the trainer's own split of ``data_dir``. With it, all of
    ``data_dir`` is split into training and validation (``val_size``) and the test set is every
    image of ``test_dir`` — a separately rendered folder, so no test image was ever trained on,
    and its size (not the small split) sets the resolution of every accuracy.
    """
    from selib.data.splits import Split
    from selib.training.run_io import data_info
    from selib.training.trainer import Prepared, prepare_data

    cache = {} if cache is None else cache
    loaded = _loaded(config, data_dir, cache)
    if test_dir is None:
        return prepare_data(config, data_dir, loaded=loaded)
    if not config.data.val_size:
        raise ValueError("a study with a separate test set needs val_size > 0 (the checkpoint is "
                         "chosen on the validation part)")
    p = prepare_data(config.replace(test_size=config.data.val_size, val_size=0.0), data_dir, loaded=loaded)
    test = _loaded(config, test_dir, cache)
    if list(test.class_names) != list(p.class_names):
        raise ValueError(f"the test folder's classes {test.class_names} differ from the training "
                         f"folder's {p.class_names}")
    sp = p.split
    parts = Split(sp.x_train, sp.y_train, sp.x_test, sp.y_test, test.images, test.labels,
                  sp.train_idx, sp.test_idx, np.arange(len(test)))
    tinfo = data_info(test, test_dir)
    both = hashlib.sha256((p.info["fingerprint"] + tinfo["fingerprint"]).encode()).hexdigest()
    info = {**p.info, "test": {k: tinfo[k] for k in ("root", "files", "per_class", "fingerprint")},
            "fingerprint": both}
    return Prepared(p.data, parts, p.class_names, info)


# ---------------------------------------------------------------------------------------------
# Running.
# ---------------------------------------------------------------------------------------------
def read_run(path: str | os.PathLike) -> dict[str, Any]:
    """The numbers a results row needs from one finished run folder.

    ``epoch_seconds`` is the median of the epochs after the first: the first also traces and
    compiles the graph, so it says nothing about what SE costs per step.
    """
    path = Path(path)
    m = json.loads((path / "metrics.json").read_text())
    hist = path / "history.csv"
    secs = pd.read_csv(hist)["epoch_seconds"].to_numpy(float) if hist.exists() and hist.stat().st_size else []
    steady = secs[1:] if len(secs) > 1 else secs
    acc = m.get("test_accuracy")
    return {"accuracy": 100 * float(acc) if acc is not None else np.nan,
            "n_test": int(m.get("n_test", 0)), "params": int(m.get("params", 0)),
            "epoch_seconds": float(np.median(steady)) if len(steady) else np.nan,
            "train_seconds": float(m.get("train_seconds", np.nan))}


_FAILED = {"accuracy": np.nan, "n_test": 0, "params": 0, "epoch_seconds": np.nan, "train_seconds": np.nan}


def _train_one(config: TrainConfig, data_dir, path: Path, prepared) -> str:
    """Train (or resume) one run unless it is finished on these data; returns its status."""
    import keras

    from selib.training import trainer
    from selib.training.run_folder import RunFolder

    from selib.errors import RunFolderError, TrainingDiverged

    run = RunFolder(path)
    if run.is_finished(config.to_dict(), prepared.info["fingerprint"]):
        return "cached"
    try:                                  # a run of other data (e.g. a new renderer) is replaced;
        m = run.manifest()                # an interrupted run of these data is resumed
        stale = m is not None and run.mismatch(m, config, prepared.info) is not None
    except RunFolderError:
        stale = True
    keras.backend.clear_session()
    try:
        trainer.train(config, data_dir, path, verbose=0, prepared=prepared, overwrite=stale)
    except TrainingDiverged:              # one NaN run drops one pair, not the whole study
        return "diverged"
    return "trained"


def _say(progress: bool | Callable[[str], None], text: str) -> None:
    if progress is True:
        print(text, flush=True)
    elif callable(progress):
        progress(text)


def run_study(study: Study, data_dir: str | os.PathLike, out_root: str | os.PathLike, *,
              test_dir: str | os.PathLike | None = None, cache: DataCache | None = None,
              progress: bool | Callable[[str], None] = True, record=None) -> pd.DataFrame:
    """Train every (variant, seed) of ``study`` not finished yet; one row per run (``RESULT_COLUMNS``).

    Seed-major, one prepared dataset per seed; finished runs (same config, same data) are read
    back, interrupted ones resumed. ``accuracy`` is the test accuracy in %; ``status`` is
    ``trained``, ``cached``, ``recorded`` or ``diverged`` (NaN accuracy: the comparison drops
    that pair). The table is also written to ``<out_root>/<study>/results.csv`` after every run,
    so a crash loses at most one run. Pass one ``cache`` to every study of a session so the
    images are decoded once.

    With a :class:`~selib.studies.record.StudyRecord`, a configuration the record holds is taken
    from it (status ``recorded``: not retrained, its data not even loaded), and every other
    finished run is added to it and saved at once.
    """
    from selib._quiet import quiet_retracing

    quiet_retracing()
    cache = {} if cache is None else cache
    out = Path(out_root) / study.name
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for i, (label, seed, config) in enumerate(study.runs(), start=1):
        key, t0 = config_key(config), time.perf_counter()
        numbers = record.lookup(key) if record is not None else None
        if numbers is not None:
            status, where = "recorded", key
        else:
            prepared = _prepared_for(config, seed, data_dir, test_dir, cache)
            path = run_dir(out_root, config)
            status = _train_one(config, data_dir, path, prepared)
            numbers = read_run(path) if status != "diverged" else _FAILED
            where = os.path.relpath(path, out_root)
            if record is not None and status != "diverged":
                record.add_training(key, config, numbers)
        if record is not None and status != "diverged":
            record.add_row(study.name, study.reference, label, seed, key)
            record.save()
        rows.append({"study": study.name, "label": label, "seed": seed, **numbers,
                     "status": status, "run_dir": where})
        pd.DataFrame(rows, columns=RESULT_COLUMNS).to_csv(out / "results.csv", index=False)
        took = f" in {time.perf_counter() - t0:.0f} s" if status == "trained" else ""
        _say(progress, f"[{study.name} {i}/{study.n_runs}] {label:<10} seed {seed}: "
                       f"{rows[-1]['accuracy']:5.1f} %  ({status}{took})")
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _prepared_for(config: TrainConfig, seed: int, data_dir, test_dir, cache: DataCache):
    """One Prepared per (seed, data settings), kept in ``cache`` for the session's other studies."""
    key = ("prepared", seed, json.dumps(config.data.to_dict(), sort_keys=True), str(test_dir))
    if key not in cache:
        for old in [k for k in cache if isinstance(k, tuple) and k[0] == "prepared"]:
            del cache[old]                # keep one seed's split in memory, not all of them
        cache[key] = prepare_seed(config, data_dir, test_dir, cache)
    return cache[key]


def ensure_train_set(per_class: int, root: str | os.PathLike | None = None,
                     progress: bool = False) -> Path | None:
    """A larger rendering of the built-in dataset for training: ``per_class`` images per class,
    render seed 0 like the built-in set, in its own folder (the built-in one stays as the other
    notebooks know it). ``0``: none (use the built-in dataset)."""
    from selib.paths import project_root
    from selib.synth import generate

    if not per_class:
        return None
    folder = Path(root) if root is not None else project_root() / "data" / f"synthchairs_{int(per_class)}"
    return generate(folder, per_class=int(per_class), seed=0, progress=progress)


def ensure_test_set(n_images: int, root: str | os.PathLike | None = None, seed: int = 1,
                    progress: bool = False) -> Path | None:
    """A separately rendered test set of the built-in dataset: ``n_images`` (split evenly over
    the classes) with render ``seed`` 1, so none of them is one of the training images (seed 0).
    Rendered once (about a minute per 2,000 images on 2 cores), then reused. ``0``: none."""
    from selib.paths import project_root
    from selib.synth import CLASSES, generate

    if not n_images:
        return None
    folder = Path(root) if root is not None else project_root() / "data" / f"synthchairs_test{seed}"
    per_class = -(-int(n_images) // len(CLASSES))
    return generate(folder, per_class=per_class, seed=seed, progress=progress)
