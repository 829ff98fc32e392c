"""The named profiles: complete TrainConfigs chosen by name, and the ablation study's size per profile.

======== ===================================================================================
seed     the seed report's recipe, exactly: its network, 473² gray, Adam 1e-3, 20 epochs, 75/25
gpu      the best recipe for one GPU: larger images, a full-width SE-ResNet-18, longer AdamW+cosine
cpu      the best recipe for a 2-core CPU (the default without a GPU)
quick    the cpu recipe shorter, for a first result in a few minutes
ci       tiny: proves that everything runs, in seconds, not what it learns
======== ===================================================================================

Every profile has a study size in :data:`STUDY_SIZES` (the same registry, one place), so
``selib.studies.studies(profile)`` works for each of them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from selib.errors import ConfigError
from selib.training.config import TrainConfig

PROFILE_ENV = "SELIB_PROFILE"

SEED = TrainConfig()   # the defaults are the seed report's recipe

# the recipe shared by the gpu, cpu and quick profiles: colour, a half-width pre-activation
# SE-ResNet-18, AdamW + cosine with warm-up, label smoothing, in-model augmentation, test-time flip
_RECIPE = SEED.replace(
    color="rgb", val_size=0.1, depth=(2, 2, 2, 2), filters=(32, 64, 128, 256), initial_filters=32,
    ratio=8, optimizer="adamw", learning_rate=2e-3, weight_decay=0.05, schedule="cosine",
    warmup_epochs=1, label_smoothing=0.1, augment="medium", tta=True)

PROFILES: dict[str, TrainConfig] = {
    "seed": SEED.replace(notes="the seed report's recipe, reproduced exactly"),
    "gpu": _RECIPE.replace(
        name="gpu", image_size=224, filters=(64, 128, 256, 512), initial_filters=64, ratio=16,
        se_min_units=8, batch_size=64, epochs=30, learning_rate=2e-3,
        notes="one-GPU recipe: full-width SE-ResNet-18 at 224² colour, AdamW + cosine, augmentation "
              "in the model, mixed precision and XLA chosen automatically"),
    "cpu": _RECIPE.replace(
        name="cpu", image_size=144, batch_size=32, epochs=40,
        notes="2-core CPU recipe: half-width SE-ResNet-18 at 144² colour, AdamW + cosine, "
              "augmentation, label smoothing, test-time flip"),
    "ci": SEED.replace(
        name="ci", image_size=32, max_per_class=40, epochs=2, batch_size=32, depth=(1, 1),
        filters=(16, 32), initial_filters=16, ratio=4, stem_stride=1, stem_pool=True,
        notes="smoke profile for CI: seconds, not accuracy"),
}
PROFILES["quick"] = PROFILES["cpu"].replace(
    name="quick", image_size=128, epochs=30,
    notes="the cpu recipe at 128² for 30 epochs: a first result in minutes on 2 cores")


def gpu_available() -> bool:
    """Whether the active Keras backend sees a GPU (never an error on a CPU-only machine)."""
    from selib.hardware import gpu_devices

    return bool(gpu_devices())


def resolve_profile(name: str | None = None) -> TrainConfig:
    """Profile by name; ``None`` reads ``SELIB_PROFILE``; ``auto`` is ``gpu`` with a GPU, else ``cpu``."""
    return PROFILES[profile_name(name)]


def profile_name(name: str | None = None) -> str:
    """The profile a name (or ``SELIB_PROFILE``, or ``auto``) stands for on this machine."""
    name = (name or os.environ.get(PROFILE_ENV) or "auto").strip().lower()
    if name == "auto":
        name = "gpu" if gpu_available() else "cpu"
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; choose one of: auto, {', '.join(PROFILES)}")
    return name


# ---------------------------------------------------------------------------------------------
# The ablation study's size under each profile (notebook 06).
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StudySize:
    """How big the notebook-06 suite is under one profile, and what that costs (measured)."""

    base: TrainConfig
    seeds: tuple[int, ...]
    budget: str = ""
    only: tuple[str, ...] | None = None       # study names to run (None: all)
    test_images: int = 0                      # a separately rendered test set (0: split test part)


# The common recipe of every study: Adam 1e-3 (the seed report's optimiser) with a cosine decay
# (with a constant rate the last epochs' accuracy jumps by ±10 points and drowns every factor),
# light in-model augmentation, and SE blocks that are never degenerate (at least 8 hidden units).
_STUDY = SEED.replace(
    name="ablation", ratio=16, se_min_units=8, optimizer="adam", learning_rate=1e-3,
    schedule="cosine", augment="light", notes="notebook 06 ablation base")

STUDY_SIZES: dict[str, StudySize] = {
    "ci": StudySize(
        base=_STUDY.replace(image_size=32, max_per_class=40, depth=(1, 1), filters=(16, 32),
                            initial_filters=16, stem_stride=1, epochs=1, batch_size=128, val_size=0.1),
        seeds=(0, 1), only=("se",), test_images=0,
        budget="2 configs × 2 seeds, one epoch each at 32² gray: seconds — it proves the notebook "
               "runs, not what the variants do"),
    "cpu": StudySize(
        base=_STUDY.replace(image_size=64, color="rgb", depth=(1, 1, 1, 1), filters=(32, 64, 128, 256),
                            initial_filters=32, stem_stride=1, epochs=12, batch_size=32, val_size=0.1),
        seeds=tuple(range(8)), test_images=2000,
        budget="measured in notebook 06"),
}
STUDY_SIZES["quick"] = STUDY_SIZES["cpu"]
STUDY_SIZES["gpu"] = StudySize(
    base=STUDY_SIZES["cpu"].base.replace(image_size=112, depth=(2, 2, 2, 2), stem_stride=2, epochs=20),
    seeds=tuple(range(8)), test_images=2000,
    budget="the cpu study on a half-width SE-ResNet-18 at 112², 20 epochs: not measured here")
STUDY_SIZES["seed"] = STUDY_SIZES["gpu"]
