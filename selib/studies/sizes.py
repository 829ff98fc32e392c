"""How big notebook 06's studies are under each training profile: base network, seeds, data, and
which studies run by default.

A study size is a :class:`StudySize`. What a size *costs* is not written here: it is computed
from the recorded trainings (:mod:`selib.studies.record`), so it cannot drift from what ran.

The ``cpu`` size is the one the series reports. It is set in two places, on purpose next to each
other: :data:`CPU_BASE` (any :class:`~selib.training.config.TrainConfig` setting, e.g. the ``cpu``
training recipe's ``optimizer="adamw", use_ema=True`` or a smaller ``image_size`` with more
``epochs``) and :data:`CPU_DEFAULT_STUDIES` (what runs without ``SELIB_STUDIES``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from selib.training.config import TrainConfig

__all__ = ["StudySize", "STUDY_SIZES", "STUDY_RECIPE", "CPU_BASE", "CPU_DEFAULT_STUDIES", "CPU_SEEDS",
           "study_base", "resize"]


@dataclass(frozen=True)
class StudySize:
    """How big the notebook-06 suite is under one profile.

    ``only`` names the studies that run by default (``None``: all); the others stay available
    through ``SELIB_STUDIES``. ``test_images`` is a separately rendered test set (0: the split's
    own test part); ``train_per_class`` renders a training set of that many images per class
    instead of the built-in dataset (0: the built-in dataset), since rendering is cheap and more
    training images lift the accuracy the comparisons start from.
    """

    base: TrainConfig
    seeds: tuple[int, ...]
    only: tuple[str, ...] | None = None
    test_images: int = 0
    train_per_class: int = 0
    ratios: tuple[int, ...] = (4, 32)   # the ratio study's variants besides r = 16


# The common recipe of every study: Adam 1e-3 (the report's optimiser) with a cosine decay (with a
# constant rate the last epochs' accuracy jumps by ±10 points and drowns every factor), light
# in-model augmentation, and SE blocks that are never degenerate (at least 8 hidden units).
# TrainConfig()'s defaults are the report's recipe.
STUDY_RECIPE = TrainConfig().replace(
    name="ablation", ratio=16, attn_kwargs={"min_units": 8}, optimizer="adam", learning_rate=1e-3,
    schedule="cosine", augment="light", notes="notebook 06 ablation base")


def study_base(**changes: Any) -> TrainConfig:
    """The study recipe with ``changes`` (flat TrainConfig settings); a typo is a ConfigError."""
    return STUDY_RECIPE.replace(**changes)


# --- the cpu size: set here -----------------------------------------------------------------
# 64² colour, a 4-stage network of 16–128 channels with one basic block per stage, trained with
# the cpu profile's recipe (AdamW + cosine with one warm-up epoch, label smoothing, medium
# augmentation, the warmed-up weight average) for 30 epochs: long enough to reach a useful
# accuracy, so that a paired difference measures the factor rather than how far each seed got.
# SE against no SE runs by default; the other studies on request. One training costs about
# 8.5 min on a 2-core AVX2 CPU in float32, so 5 paired seeds (10 trainings) fill the 90-minute
# budget; notebook 06 plots how the interval narrowed with each seed (:func:`seed_tradeoff`).
CPU_BASE: dict[str, Any] = dict(
    image_size=64, color="rgb", depth=(1, 1, 1, 1), filters=(16, 32, 64, 128), initial_filters=16,
    stem_stride=1, epochs=30, batch_size=32, val_size=0.1, warmup_epochs=1, optimizer="adamw",
    learning_rate=2e-3, weight_decay=0.05, label_smoothing=0.1, augment="medium", use_ema=True,
    ema_momentum=0.99)
CPU_DEFAULT_STUDIES: tuple[str, ...] = ("se",)
CPU_SEEDS: tuple[int, ...] = tuple(range(5))
CPU_TEST_IMAGES = 2000
CPU_TRAIN_PER_CLASS = 0
# ---------------------------------------------------------------------------------------------

_CPU = StudySize(base=study_base(**CPU_BASE), seeds=CPU_SEEDS, only=CPU_DEFAULT_STUDIES,
                 test_images=CPU_TEST_IMAGES, train_per_class=CPU_TRAIN_PER_CLASS)
_GPU = StudySize(
    base=_CPU.base.replace(image_size=112, depth=(2, 2, 2, 2), filters=(32, 64, 128, 256),
                           initial_filters=32, stem_stride=2, epochs=20),
    seeds=tuple(range(8)), test_images=2000, ratios=(2, 4, 8, 32))

STUDY_SIZES: dict[str, StudySize] = {
    # proves that the notebook runs, not what the variants do
    "ci": StudySize(
        base=study_base(image_size=32, max_per_class=40, depth=(1, 1), filters=(16, 32), initial_filters=16,
                        stem_stride=1, epochs=1, batch_size=128, val_size=0.1),
        seeds=(0, 1), only=("se",)),
    "cpu": _CPU,
    "quick": dataclasses.replace(_CPU, only=("se",)),    # the cpu size, SE vs no SE only
    "gpu": _GPU,
    "report": _GPU,
}


def resize(size: StudySize, *, seeds: tuple[int, ...] | int | None = None,
           only: tuple[str, ...] | None | str = "keep", **base_changes: Any) -> StudySize:
    """``size`` with other seeds (a tuple, or a count from 0), other default studies (``None``:
    all), and base settings changed: what a pilot needs to try a size without editing this file."""
    if isinstance(seeds, int):
        seeds = tuple(range(seeds))
    return dataclasses.replace(
        size, base=size.base.replace(**base_changes) if base_changes else size.base,
        seeds=tuple(size.seeds if seeds is None else seeds),
        only=size.only if only == "keep" else (None if only is None else tuple(only)))
