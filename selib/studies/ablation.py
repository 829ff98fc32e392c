"""Ablation studies: configs that differ in one factor, several seeds each, resumable, summarised.

A :class:`Study` is a base :class:`~selib.training.config.TrainConfig` plus named *variants* (each a dict
of overrides) and the training seeds to repeat every variant with. :func:`run_study` trains each
variant × seed in its own run folder::

    <out_root>/<study>/<variant>/seed<k>/     config.json, history.csv, metrics.json, model.keras
    <out_root>/<study>/results.csv            one row per variant and seed (written as it goes)
    <out_root>/<study>/summary.csv            mean ± std per variant (:func:`summarize`)

It is resumable: a run whose ``metrics.json`` exists (with the same config) is read back, not
re-run, and an interrupted run resumes from its last epoch (``selib.training.trainer``). A config that
another study under the same ``out_root`` has already trained with the same seed (every study's
reference variant is the same network and recipe) is linked to that run rather than trained
again.

Seeds: every run of a study uses the *same* data split (``split_seed``, recorded in the run's
``config.extra``), and the seed varies only the initial weights and the order of the batches. The
error bars are therefore training noise on one fixed test set — what an ablation compares — not
the (larger) spread across different splits of a small dataset.

:func:`studies` gives the notebook-06 suite (the paper's Tables 10–14 plus the seed report's
wishes: cosine schedule, other optimisers) sized for a profile.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from selib.training.config import TrainConfig
from selib.training.profiles import PROFILES

# The paper's Table 10: SE-ResNet-50 parameters (millions) per reduction ratio r.
PAPER_TABLE10_PARAMS_M = {2: 45.7, 4: 35.7, 8: 30.7, 16: 28.1, 32: 26.9}
# ... and its ImageNet top-1 error (%) for the same ratios (single crop).
PAPER_TABLE10_TOP1_ERR = {2: 22.29, 4: 22.25, 8: 22.26, 16: 22.28, 32: 22.72}
# The paper's training cost of ResNet-50 vs SE-ResNet-50 (ms per 256-image minibatch, 8 GPUs).
PAPER_MS_PER_MINIBATCH = {"ResNet-50": 190.0, "SE-ResNet-50": 209.0}

RESULT_COLUMNS = ["study", "label", "seed", "accuracy", "test_loss", "best_val_accuracy", "params",
                  "epoch_seconds", "first_epoch_seconds", "train_seconds", "epochs_run", "status",
                  "run_dir"]


# ---------------------------------------------------------------------------------------------
# Studies.
# ---------------------------------------------------------------------------------------------
@dataclass
class Study:
    """One factor, several values (``variants``: label -> TrainConfig overrides), several seeds.

    ``reference`` names the variant the others are compared with (the paper's or the seed's
    default); ``paper`` is the paper's finding in a sentence; ``paper_best`` / ``paper_worst``
    list the labels the paper found best / worst, so :func:`verdict` can say whether this run
    agrees.
    """

    name: str
    base: TrainConfig
    variants: dict[str, dict[str, Any]]
    seeds: tuple[int, ...] = (0, 1, 2)
    title: str = ""
    xlabel: str = ""
    reference: str | None = None
    paper: str = ""
    paper_best: tuple[str, ...] = ()
    paper_worst: tuple[str, ...] = ()
    split_seed: int = 42

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError(f"study {self.name!r} has no variants")
        if not self.seeds:
            raise ValueError(f"study {self.name!r} has no seeds")
        if self.reference is not None and self.reference not in self.variants:
            raise ValueError(f"reference {self.reference!r} is not a variant of {self.name!r}")
        slugs = [_slug(v) for v in self.variants]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"variant labels of {self.name!r} collide as folder names: {slugs}")
        for label in self.variants:        # fail now, not after an hour of training
            self.config(label, self.seeds[0])
        self.seeds = tuple(int(s) for s in self.seeds)

    @property
    def labels(self) -> list[str]:
        return list(self.variants)

    def config(self, label: str, seed: int) -> TrainConfig:
        """The exact config of one run: base + the variant's overrides + the training seed."""
        extra = {**self.base.extra, "split_seed": int(self.split_seed)}
        return self.base.replace(**self.variants[label]).replace(seed=int(seed), extra=extra)

    def runs(self) -> list[tuple[str, int, TrainConfig]]:
        """(label, seed, config) for every run, variant-major."""
        return [(label, s, self.config(label, s)) for label in self.variants for s in self.seeds]

    @property
    def n_runs(self) -> int:
        return len(self.variants) * len(self.seeds)


def _slug(label: str) -> str:
    """A folder name for a variant label ("no SE" -> "no_SE", "r=16" stays)."""
    return re.sub(r"[^A-Za-z0-9=+._-]+", "_", str(label)).strip("_") or "variant"


def run_dir(study: Study, out_root: str | os.PathLike, label: str, seed: int) -> Path:
    return Path(out_root) / study.name / _slug(label) / f"seed{int(seed)}"


def unique_runs(studies: Iterable[Study]) -> int:
    """How many trainings a list of studies costs once identical (config, seed) pairs are shared."""
    return len({json.dumps(cfg.to_dict(), sort_keys=True) for s in studies for _, _, cfg in s.runs()})


# ---------------------------------------------------------------------------------------------
# Running.
# ---------------------------------------------------------------------------------------------
_DATA_FIELDS = ("image_size", "color", "fit", "max_per_class", "test_size", "val_size")


def _data_key(data_dir, config: TrainConfig, split_seed: int) -> tuple:
    return (str(Path(data_dir).resolve()), split_seed) + tuple(getattr(config, f) for f in _DATA_FIELDS)


def _finished(path: Path) -> bool:
    return (path / "metrics.json").exists() and (path / "config.json").exists()


def _same_config(path: Path, config: TrainConfig) -> bool:
    try:
        return TrainConfig.load(path / "config.json").to_dict() == config.to_dict()
    except (OSError, ValueError, TypeError):
        return False


def _finished_runs(out_root: Path) -> dict[str, Path]:
    """Canonical config JSON -> folder, for every finished, real (not linked) run under out_root."""
    index: dict[str, Path] = {}
    if not out_root.exists():
        return index
    for folder, dirs, files in os.walk(out_root, followlinks=False):
        if "metrics.json" in files and "config.json" in files:
            path = Path(folder)
            try:
                cfg = TrainConfig.load(path / "config.json")
            except (OSError, ValueError, TypeError):
                continue
            index.setdefault(json.dumps(cfg.to_dict(), sort_keys=True), path)
            dirs[:] = []
    return index


def _link(target: Path, link: Path) -> None:
    """``link`` -> ``target`` as a relative symlink (a copy where symlinks are not allowed)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(os.path.relpath(target, link.parent), link, target_is_directory=True)
    except OSError:
        shutil.copytree(target, link)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def read_run(path: str | os.PathLike) -> dict[str, Any]:
    """The numbers a results row needs from one finished run folder."""
    path = Path(path)
    m = json.loads((path / "metrics.json").read_text())
    hist = pd.read_csv(path / "history.csv") if (path / "history.csv").exists() else pd.DataFrame()
    secs = hist["epoch_seconds"].to_numpy(float) if "epoch_seconds" in hist else np.array([])
    # the first epoch also traces and compiles the graph: time per epoch is the median of the rest
    steady = secs[1:] if len(secs) > 1 else secs
    acc = m.get("test_accuracy")
    return {
        "accuracy": 100 * float(acc) if acc is not None else np.nan,
        "test_loss": float(m.get("test_loss", np.nan)),
        "best_val_accuracy": 100 * float(hist["val_accuracy"].max()) if "val_accuracy" in hist else np.nan,
        "params": int(m.get("params", 0)),
        "epoch_seconds": float(np.median(steady)) if len(steady) else np.nan,
        "first_epoch_seconds": float(secs[0]) if len(secs) else np.nan,
        "train_seconds": float(m.get("train_seconds", np.nan)),
        "epochs_run": int(m.get("epochs_run", len(hist))),
    }


class _NoRetracingNotice(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls ... triggered tf.function retracing" notice:
    a study builds a fresh model for every run, so each retraces once, by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def run_study(study: Study, data_dir: str | os.PathLike, out_root: str | os.PathLike, *,
              progress: bool = True, cache: dict | None = None) -> pd.DataFrame:
    """Train every variant × seed of ``study`` that is not finished yet; one row per run.

    Rows come back in the study's order (variant-major) with the columns of
    ``RESULT_COLUMNS``; ``accuracy`` is the test accuracy in %, ``epoch_seconds`` the median
    time of the epochs after the first, ``status`` one of ``trained``, ``cached`` (finished
    before) or ``shared`` (linked to an identical run of another study). The table is written
    to ``<out_root>/<study>/results.csv`` after every run, so a crash loses at most one run.
    ``cache`` (a dict) keeps the loaded, split data between calls (pass the same dict to
    every study of a notebook).
    """
    tf_logger, quiet = logging.getLogger("tensorflow"), _NoRetracingNotice()
    tf_logger.addFilter(quiet)
    try:
        return _run_study(study, data_dir, out_root, progress, cache)
    finally:
        tf_logger.removeFilter(quiet)


def _run_study(study: Study, data_dir, out_root, progress: bool, cache: dict | None) -> pd.DataFrame:
    import keras

    from selib.training import trainer as training

    out_root = Path(out_root)
    study_dir = out_root / study.name
    study_dir.mkdir(parents=True, exist_ok=True)
    cache = {} if cache is None else cache
    index: dict[str, Path] | None = None
    rows: list[dict[str, Any]] = []
    t_study = time.perf_counter()
    for i, (label, seed, config) in enumerate(study.runs(), start=1):
        path = run_dir(study, out_root, label, seed)
        t0 = time.perf_counter()
        if _finished(path) and _same_config(path, config):
            status = "cached"
        else:
            if _finished(path) or path.is_symlink():   # another config was run here before
                _remove(path)
                if index is not None:
                    index = {k: v for k, v in index.items() if v != path}
            if index is None:
                index = _finished_runs(out_root)
            twin = index.get(json.dumps(config.to_dict(), sort_keys=True))
            if twin is not None and twin.resolve() != path.resolve() and not path.exists():
                _link(twin, path)
                status = "shared"
            else:
                key = _data_key(data_dir, config, study.split_seed)
                if key not in cache:
                    cache[key] = training.prepare_data(config.replace(seed=study.split_seed), data_dir,
                                                       progress=False)
                keras.backend.clear_session()
                training.train(config, data_dir, path, verbose=0, prepared=cache[key])
                index[json.dumps(config.to_dict(), sort_keys=True)] = path
                status = "trained"
        row = {"study": study.name, "label": label, "seed": seed, **read_run(path), "status": status,
               "run_dir": str(path)}
        rows.append(row)
        pd.DataFrame(rows, columns=RESULT_COLUMNS).to_csv(study_dir / "results.csv", index=False)
        if progress:
            took = f" in {time.perf_counter() - t0:.0f} s" if status == "trained" else ""
            print(f"[{study.name} {i}/{study.n_runs}] {label:<14} seed {seed}: {row['accuracy']:5.1f} %  "
                  f"{row['epoch_seconds']:.2f} s/epoch  ({status}{took})", flush=True)
    df = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    summarize(df, study).to_csv(study_dir / "summary.csv", index=False)
    if progress:
        trained = int((df["status"] == "trained").sum())
        print(f"[{study.name}] {len(df)} runs ({trained} trained now) in "
              f"{time.perf_counter() - t_study:.0f} s; results in {study_dir}/results.csv", flush=True)
    return df


# ---------------------------------------------------------------------------------------------
# Summaries.
# ---------------------------------------------------------------------------------------------
def summarize(df: pd.DataFrame, study: Study | None = None) -> pd.DataFrame:
    """Mean ± std (sample std, ddof=1; NaN for one seed) of the test accuracy per variant.

    Columns: ``label``, ``n`` (seeds), ``mean``, ``std``, ``min``, ``max`` (accuracy, %),
    ``params``, ``epoch_seconds`` (mean over seeds of each run's median epoch time) and
    ``epoch_seconds_std``. With a ``study`` that has a ``reference``, also ``delta`` (mean minus
    the reference's, percentage points), ``delta_se`` (its standard error), ``clear`` (|delta| >
    2 · delta_se: larger than the seed-to-seed noise) and ``time_vs_ref`` (% more time per epoch
    than the reference). Rows follow the study's variant order.
    """
    order = study.labels if study is not None else list(dict.fromkeys(df["label"]))
    g = df.groupby("label", sort=False)
    out = pd.DataFrame({
        "n": g["accuracy"].count(),
        "mean": g["accuracy"].mean(),
        "std": g["accuracy"].std(ddof=1),
        "min": g["accuracy"].min(),
        "max": g["accuracy"].max(),
        "params": g["params"].first(),
        "epoch_seconds": g["epoch_seconds"].mean(),
        "epoch_seconds_std": g["epoch_seconds"].std(ddof=1),
    })
    out = out.reindex([l for l in order if l in out.index])
    out.index.name = "label"
    out = out.reset_index()
    out["n"] = out["n"].astype(int)
    ref = study.reference if study is not None else None
    if ref is not None and ref in set(out["label"]):
        r = out.set_index("label").loc[ref]
        out["delta"] = out["mean"] - r["mean"]
        out["delta_se"] = np.sqrt(out["std"] ** 2 / out["n"] + r["std"] ** 2 / r["n"])
        out.loc[out["label"] == ref, "delta_se"] = np.nan
        out["clear"] = (out["delta"].abs() > 2 * out["delta_se"]).where(out["delta_se"].notna(), False)
        out["time_vs_ref"] = 100 * (out["epoch_seconds"] / r["epoch_seconds"] - 1)
    return out


def _fmt(row) -> str:
    std = "" if pd.isna(row["std"]) else f" ± {row['std']:.1f}"
    return f"{row['label']} ({row['mean']:.1f}{std} %)"


def verdict(summary: pd.DataFrame, study: Study) -> str:
    """A plain-words reading of one study's summary against the paper's finding.

    "Clear" means the gap between two variants' mean accuracies is more than twice its standard
    error (from the seed-to-seed spread) — a rough, honest test for a handful of seeds.
    """
    s = summary.dropna(subset=["mean"])
    if len(s) < 2:
        return "Fewer than two variants finished: nothing to compare yet."
    best, worst = s.loc[s["mean"].idxmax()], s.loc[s["mean"].idxmin()]
    if best["mean"] == worst["mean"]:
        return (f"All variants reach the same mean accuracy ({best['mean']:.1f} %): no difference to "
                "compare with the paper.")
    lines = [f"Best here: {_fmt(best)}; worst: {_fmt(worst)}; "
             f"gap {best['mean'] - worst['mean']:.1f} percentage points."]
    if int(s["n"].min()) < 2:
        lines.append("One seed per variant: no error bars, so no conclusion can be drawn "
                     "(this is the quick CI profile).")
        return " ".join(lines)
    se = math.sqrt(best["std"] ** 2 / best["n"] + worst["std"] ** 2 / worst["n"])
    clear = (best["mean"] - worst["mean"]) > 2 * se
    if not clear:
        lines.append(f"Even that gap is within the seed-to-seed noise (2 × standard error = {2 * se:.1f} "
                     "points): on this data the variants are indistinguishable.")
    else:
        lines.append(f"That gap is larger than the seed-to-seed noise (2 × standard error = {2 * se:.1f} points).")
    if study.paper_best or study.paper_worst:
        agree = []
        if study.paper_best:
            ok = best["label"] in study.paper_best
            agree.append(ok)
            lines.append(f"The paper's best ({' / '.join(study.paper_best)}) "
                         f"{'is' if ok else 'is not'} the best here.")
        if study.paper_worst:
            ok = worst["label"] in study.paper_worst
            agree.append(ok)
            lines.append(f"The paper's worst ({' / '.join(study.paper_worst)}) "
                         f"{'is' if ok else 'is not'} the worst here.")
        if not clear:
            lines.append("With differences this small the ranking is noise: this run neither confirms "
                         "nor contradicts the paper.")
        elif all(agree):
            lines.append("This agrees with the paper.")
        else:
            lines.append("This disagrees with the paper — on a small synthetic dataset, a small network "
                         "and a few epochs it can; the paper trained ResNet-50 on ImageNet for 100 epochs.")
    return " ".join(lines)


# ---------------------------------------------------------------------------------------------
# Timing: SE overhead measured head to head.
# ---------------------------------------------------------------------------------------------
def step_times(configs: dict[str, TrainConfig], *, num_classes: int = 4, batch_size: int | None = None,
               steps: int = 5, rounds: int = 3, seed: int = 0) -> pd.DataFrame:
    """Milliseconds per training step of each config's network, measured in interleaved rounds.

    Epoch times from separate runs drift with whatever else the machine does; timing the models
    turn about (a warm-up step each, then ``rounds`` × ``steps`` timed steps, the order rotated
    every round) on the same random batch makes the comparison fair. One row per label and round.
    """
    import keras

    from selib.training import trainer as training

    cfgs = list(configs.items())
    first = cfgs[0][1]
    bs = int(batch_size or first.batch_size)
    rng = np.random.default_rng(seed)
    models = {}
    for label, cfg in cfgs:
        keras.utils.set_random_seed(seed)
        m = training.build_model(cfg, num_classes)
        m.compile(optimizer=training.make_optimizer(cfg, 1), loss="categorical_crossentropy")
        x = rng.random((bs, cfg.image_size, cfg.image_size, cfg.channels), dtype=np.float32)
        y = np.eye(num_classes, dtype=np.float32)[np.arange(bs) % num_classes]
        m.train_on_batch(x, y)
        m.train_on_batch(x, y)
        models[label] = (m, x, y)
    rows = []
    labels = [label for label, _ in cfgs]
    for r in range(int(rounds)):
        k = r % len(labels)
        for label in labels[k:] + labels[:k]:
            m, x, y = models[label]
            t = time.perf_counter()
            for _ in range(int(steps)):
                m.train_on_batch(x, y)
            rows.append({"label": label, "round": r, "ms_per_step": 1000 * (time.perf_counter() - t) / steps})
    return pd.DataFrame(rows)


def summarize_times(times: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per label: ``ms_per_step``, the best (lowest) round — like ``timeit``, the round least
    disturbed by whatever else the machine does — plus the median and worst rounds, and the
    overhead (%) of the best round over ``reference``'s."""
    order = list(dict.fromkeys(times["label"]))
    g = times.groupby("label", sort=False)["ms_per_step"]
    out = pd.DataFrame({"ms_per_step": g.min(), "median": g.median(), "max": g.max()}).reindex(order)
    out["overhead_%"] = 100 * (out["ms_per_step"] / out.loc[reference, "ms_per_step"] - 1)
    out.index.name = "label"
    return out.reset_index()


def resnet50_configs(image_size: int = 224) -> dict[str, TrainConfig]:
    """The paper's ResNet-50 and SE-ResNet-50 (v1 bottleneck, r = 16) as configs, for
    :func:`step_times` — the networks behind its 190 vs 209 ms per minibatch."""
    r50 = TrainConfig(name="resnet50", image_size=image_size, color="rgb", model="se_resnet",
                      depth=(3, 4, 6, 3), filters=(64, 128, 256, 512), block="bottleneck", style="v1",
                      initial_filters=64, ratio=None, stem_stride=2, stem_pool=True, optimizer="sgd",
                      learning_rate=0.1, momentum=0.9)
    return {"ResNet-50": r50, "SE-ResNet-50": r50.replace(name="se_resnet50", ratio=16)}


# ---------------------------------------------------------------------------------------------
# Figures.
# ---------------------------------------------------------------------------------------------
def plot_study(summary: pd.DataFrame, study: Study, ax=None):
    """Test accuracy per variant, bars at the mean with ±1 std error bars, seeds in the title."""
    from selib.plots.figures import bar_with_errors

    n = int(summary["n"].min()) if len(summary) else 0
    title = f"{study.title or study.name} (mean ± std over {n} seed{'s' if n != 1 else ''})"
    return bar_with_errors(summary, "label", "mean", "std", title=title,
                           xlabel=study.xlabel or "variant", ylabel="test accuracy (%)", ax=ax)


def plot_times(df: pd.DataFrame, x: str, y: str, err: str | None = None, title: str = "",
               xlabel: str = "", ylabel: str = "", ax=None):
    """Bars for timings (seconds or ms; starts at zero, unlike the accuracy bars)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(df)), 3.2))
    else:
        fig = ax.figure
    yerr = df[err].fillna(0) if err else None
    ax.bar(df[x].astype(str), df[y], yerr=yerr, capsize=4, color="darkorange", alpha=0.85)
    for k, v in enumerate(df[y]):
        ax.text(k, v, f"{v:.3g}", ha="center", va="bottom", fontsize=8)
    ax.set(title=title, xlabel=xlabel or x, ylabel=ylabel or y, ylim=(0, 1.2 * float(df[y].max())))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Parameters next to the paper's Table 10.
# ---------------------------------------------------------------------------------------------
def table10_params(ratios: Iterable[int] = (2, 4, 8, 16, 32)) -> pd.DataFrame:
    """SE-ResNet-50 (the paper's v1 network, 224², 1000 classes) parameters per ratio, built
    with selib, next to the paper's Table 10 (and plain ResNet-50)."""
    import keras

    import selib

    rows = []
    for r in [*ratios, None]:
        keras.backend.clear_session()
        n = selib.se_resnet50(style="v1", ratio=r).count_params()
        rows.append({"r": "no SE" if r is None else r, "selib_params_M": round(n / 1e6, 2),
                     "paper_params_M": PAPER_TABLE10_PARAMS_M.get(r, 25.6) if r else 25.6,
                     "paper_top1_err": PAPER_TABLE10_TOP1_ERR.get(r, 23.30) if r else 23.30, "_n": n})
    df = pd.DataFrame(rows)
    base = int(df.loc[df["r"] == "no SE", "_n"].iloc[0])
    df["se_params_M"] = ((df["_n"] - base) / 1e6).round(2)
    return df.drop(columns="_n")[["r", "selib_params_M", "paper_params_M", "se_params_M", "paper_top1_err"]]


# ---------------------------------------------------------------------------------------------
# The notebook-06 suite, sized per profile.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizing:
    """How big the suite is under one profile (and what it costs, measured)."""

    base: TrainConfig
    seeds: tuple[int, ...]
    budget: str = ""
    only: tuple[str, ...] | None = None       # study names to run (None: all)


# The common recipe of every study: the seed report's optimiser (Adam, learning rate 1e-3) on a
# small SE-ResNet with r = 16 (the paper's default), plus two things a short run on little data
# needs to give a stable answer: a cosine learning-rate decay (with a constant rate the test
# accuracy of the last epochs jumps by ±10 points, which would drown every factor studied — the
# schedule study shows it) and light augmentation (flips, small shifts and zooms).
_ABLATION_BASE = PROFILES["seed"].replace(
    name="ablation", model="se_resnet", ratio=16, se_placement="standard", se_gate="sigmoid",
    se_squeeze="avg", optimizer="adam", learning_rate=1e-3, schedule="cosine", warmup_epochs=0.0,
    augment="light", tta=False, label_smoothing=0.0, notes="notebook 06 ablation base")

SIZINGS: dict[str, Sizing] = {
    "ci": Sizing(
        base=_ABLATION_BASE.replace(
            image_size=32, color="grayscale", max_per_class=40, depth=(1, 1), filters=(16, 32),
            initial_filters=16, stem_stride=1, epochs=1, batch_size=128, val_size=0.1),
        seeds=(0,), only=("se",),
        budget="one training step of each of 2 configs × 1 seed (32² gray, 40 images per class): "
               "seconds — it proves the notebook runs, not what the variants do"),
    "cpu": Sizing(
        base=_ABLATION_BASE.replace(
            image_size=64, color="rgb", max_per_class=None, depth=(1, 1, 1, 1), filters=(16, 32, 64, 128),
            initial_filters=16, stem_stride=1, stem_pool=True, epochs=12, batch_size=16, val_size=0.1),
        seeds=(0, 1, 2),
        # measured on 2 shared cores (load 4-5): 15 epochs took 50 s of which 8 s for the first
        # epoch (tracing), 2.5 s per further epoch and 5 s for building, saving and testing
        budget="15 distinct configs × 3 seeds = 45 trainings (64² colour, 1,200 images, 12 epochs) of "
               "about 40 s each on 2 busy CPU cores: about 30 minutes, nearer 20 on idle cores"),
    "gpu": Sizing(
        base=_ABLATION_BASE.replace(
            image_size=112, color="rgb", max_per_class=None, depth=(2, 2, 2, 2), filters=(32, 64, 128, 256),
            initial_filters=32, stem_stride=2, stem_pool=True, epochs=20, batch_size=32, val_size=0.1),
        seeds=(0, 1, 2),
        budget="15 distinct configs × 3 seeds = 45 trainings (112² colour, half-width SE-ResNet-18, "
               "20 epochs): not measured here"),
}
SIZINGS["seed"] = SIZINGS["gpu"]


def _suite(base: TrainConfig, seeds: tuple[int, ...]) -> list[Study]:
    # the paper's SGD rate (0.6 for 1,024 images a step) scaled linearly to our batch size
    sgd_lr = round(0.6 * base.batch_size / 1024, 4)
    return [
        Study(
            "ratio", base, {**{f"r={r}": {"ratio": r} for r in (2, 4, 8, 16, 32)}, "no SE": {"ratio": None}},
            seeds, title="Reduction ratio r (cf. Table 10)", xlabel="SE reduction ratio",
            reference="r=16",
            paper="Accuracy is robust to r over 2–32 (top-1 error 22.25–22.72 %); smaller r adds many "
                  "parameters for no gain, and r = 16 is the paper's trade-off.",
            paper_best=("r=2", "r=4", "r=8", "r=16"), paper_worst=("no SE",)),
        Study(
            "se", base, {"no SE": {"ratio": None}, "SE r=16": {}}, seeds,
            title="SE vs no SE at equal budget", xlabel="network", reference="no SE",
            paper="SE-ResNet-50 beats ResNet-50 by 1.5 points top-1 on ImageNet for +10 % parameters and "
                  "+10 % training time per minibatch (209 vs 190 ms).",
            paper_best=("SE r=16",), paper_worst=("no SE",)),
        Study(
            "squeeze", base, {"avg": {}, "max": {"se_squeeze": "max"}}, seeds,
            title="Squeeze: global average vs max pooling (cf. Table 11)", xlabel="squeeze operator",
            reference="avg", paper="Both work; average pooling is slightly better (22.28 vs 22.57 % top-1 error).",
            paper_best=("avg",), paper_worst=("max",)),
        Study(
            "gate", base, {"sigmoid": {}, "relu": {"se_gate": "relu"}, "tanh": {"se_gate": "tanh"}}, seeds,
            title="Excitation gate (cf. Table 12)", xlabel="gate non-linearity", reference="sigmoid",
            paper="Sigmoid is best (22.28 % top-1 error), tanh slightly worse (23.00 %), ReLU clearly worse "
                  "(23.47 %, worse even than ResNet-50 without SE, 23.30 %).",
            paper_best=("sigmoid",), paper_worst=("relu",)),
        Study(
            "placement", base, {"standard": {}, "pre": {"se_placement": "pre"},
                                "post": {"se_placement": "post"}, "identity": {"se_placement": "identity"}},
            seeds, title="SE block placement (cf. Table 14)", xlabel="where the SE block sits",
            reference="standard",
            paper="Standard, SE-PRE and SE-Identity are all about as good (22.28 / 22.23 / 22.20 %); "
                  "SE-POST, after the addition, is worse (22.78 %).",
            paper_best=("standard", "pre", "identity"), paper_worst=("post",)),
        Study(
            "schedule", base, {"constant": {"schedule": "constant"}, "cosine": {}}, seeds,
            title="Learning-rate schedule (the seed report's wish)", xlabel="schedule",
            reference="constant",
            paper="Not in the paper (it divided the rate by 10 every 30 epochs); the seed report trained with "
                  "a constant rate and asked for a cosine schedule."),
        Study(
            "optimizer", base, {"Adam": {}, "SGD-momentum": {"optimizer": "sgd", "learning_rate": sgd_lr,
                                                             "momentum": 0.9},
                                "AdamW": {"optimizer": "adamw", "weight_decay": 0.05}},
            seeds, title="Optimiser (the seed report's wish)", xlabel="optimiser", reference="Adam",
            paper="Not in the paper (it used SGD with momentum 0.9); the seed report used Adam and asked "
                  "for others. SGD's rate here is the paper's, scaled linearly to our batch size."),
    ]


def studies(profile_name: str | None = None) -> list[Study]:
    """The notebook-06 studies sized for a profile (``None``: ``SELIB_PROFILE``/auto).

    ``ci``: one two-config study, one seed, one training step each (checks that everything
    runs). ``cpu``: all seven studies, 2 seeds, about 30 minutes on a 2-core CPU. ``gpu`` /
    ``seed``: the same studies on a bigger network and images, 3 seeds.
    """
    from selib.training.profiles import resolve_profile

    name = resolve_profile(profile_name).name
    sizing = SIZINGS[name]
    suite = _suite(sizing.base, sizing.seeds)
    if sizing.only is not None:
        suite = [s for s in suite if s.name in sizing.only]
    return suite
