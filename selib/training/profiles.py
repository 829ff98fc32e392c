"""The named profiles: complete TrainConfigs chosen by name, and the ablation study's size per profile.

======== ===================================================================================
report   the original report's recipe, exactly: its network, 473² gray, Adam 1e-3, 20 epochs, 75/25
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
from selib.training.config import RENAMED_PROFILES, TrainConfig

PROFILE_ENV = "SELIB_PROFILE"

REPORT = TrainConfig()   # the defaults are the original report's recipe
SEED = REPORT            # the name the study sizes below build on

# the recipe shared by the gpu, cpu and quick profiles: colour, a half-width pre-activation
# SE-ResNet-18, AdamW + cosine with warm-up, label smoothing, in-model augmentation, test-time flip
_RECIPE = REPORT.replace(
    color="rgb", val_size=0.1, depth=(2, 2, 2, 2), filters=(32, 64, 128, 256), initial_filters=32,
    ratio=8, optimizer="adamw", learning_rate=2e-3, weight_decay=0.05, schedule="cosine",
    warmup_epochs=1, label_smoothing=0.1, augment="medium", tta=True)

PROFILES: dict[str, TrainConfig] = {
    # float32, as the report trained: "auto" would pick a 16-bit policy and change the arithmetic
    "report": REPORT.replace(precision="float32", notes="the original report's recipe, reproduced exactly"),
    "gpu": _RECIPE.replace(
        name="gpu", image_size=224, filters=(64, 128, 256, 512), initial_filters=64, ratio=16,
        attn_kwargs={"min_units": 8}, batch_size=64, epochs=30, learning_rate=2e-3,
        notes="one-GPU recipe: full-width SE-ResNet-18 at 224² colour, AdamW + cosine, augmentation "
              "in the model, mixed precision and XLA chosen automatically"),
    # recipe re-tuned 2026-12-04: 30 epochs (was 40) + EMA, bf16 by precision="auto", fused RandomAffine.
    # Side by side with v0.1 on the quiet bf16 machine, seeds 0-1 (bench/results/time_to_accuracy.md):
    # first 95 % at 0.47x v0.1's time, saved model 0.47x, but 96.86 % mean vs v0.1's 97.37 %.
    # Those figures were measured with Keras' own EMA (ema_mode="overwrite": no warm-up, copied
    # into the training weights each epoch), which stalled synthchairs (27 steps per epoch) for
    # ~10 epochs; since 2026-12-06 the average warms up and is used for evaluation only
    # (ema_mode="evaluate", selib.training.ema). Repeated with it in float32 (AVX2 machine, seed 0,
    # bench/results/time_to_accuracy_f32.md): 95 % at 0.48x v0.1's time, saved 97.12 % (v0.1 96.27 %)
    # at 0.73x, since an epoch costs 0.97x v0.1's there. See the README's cpu-profile section.
    "cpu": _RECIPE.replace(
        name="cpu", image_size=144, batch_size=32, epochs=30, use_ema=True, ema_momentum=0.99,
        notes="2-core CPU recipe: half-width SE-ResNet-18 at 144² colour, AdamW + cosine for 30 "
              "epochs, EMA of the weights, one-warp augmentation, label smoothing, test-time flip; "
              "bfloat16 where the CPU has it"),
    "ci": REPORT.replace(
        name="ci", image_size=32, max_per_class=40, epochs=2, batch_size=32, depth=(1, 1),
        filters=(16, 32), initial_filters=16, ratio=4, stem_stride=1, stem_pool=True,
        notes="smoke profile for CI: seconds, not accuracy"),
}
# recipe re-tuned 2026-12-04: the cpu recipe at 128² for 24 epochs (was 30, no EMA); pilot seed 0:
# 95 % at epoch 14, saved 95.8 % (v0.1 quick 96.6 %), with Keras' own EMA (ema_mode="overwrite"),
# bench/results/time_to_accuracy_quick.json
PROFILES["quick"] = PROFILES["cpu"].replace(
    name="quick", image_size=128, epochs=24,
    notes="the cpu recipe at 128² for 24 epochs: a first result in minutes on 2 cores")


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
    if name in RENAMED_PROFILES:
        raise ConfigError(f"profile {name!r} was renamed to {RENAMED_PROFILES[name]!r} "
                          "(a random seed is set with --seed)")
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
    ratios: tuple[int, ...] = (4, 32)         # the ratio study's variants besides r = 16


# The common recipe of every study: Adam 1e-3 (the seed report's optimiser) with a cosine decay
# (with a constant rate the last epochs' accuracy jumps by ±10 points and drowns every factor),
# light in-model augmentation, and SE blocks that are never degenerate (at least 8 hidden units).
_STUDY = SEED.replace(
    name="ablation", ratio=16, attn_kwargs={"min_units": 8}, optimizer="adam", learning_rate=1e-3,
    schedule="cosine", augment="light", notes="notebook 06 ablation base")

# cpu: 64² colour, a 4-stage network of 16–128 channels with one basic block per stage (0.31 M
# parameters), 8 epochs on the 1,200 built-in images, tested on 2,000 separately rendered ones.
# The one warm-up epoch is needed: without it, seed 0 of both SE and no SE stayed at chance
# (25 % training accuracy for all 8 epochs), which would have put a 30-point outlier into every pair.
_CPU_BASE = _STUDY.replace(image_size=64, color="rgb", depth=(1, 1, 1, 1), filters=(16, 32, 64, 128),
                           initial_filters=16, stem_stride=1, epochs=8, batch_size=32, val_size=0.1,
                           warmup_epochs=1)

STUDY_SIZES: dict[str, StudySize] = {
    "ci": StudySize(
        base=_STUDY.replace(image_size=32, max_per_class=40, depth=(1, 1), filters=(16, 32),
                            initial_filters=16, stem_stride=1, epochs=1, batch_size=128, val_size=0.1),
        seeds=(0, 1), only=("se",), test_images=0,
        budget="2 configs × 2 seeds, one epoch each at 32² gray on 160 images: seconds — it proves "
               "the notebook runs, not what the variants do"),
    "cpu": StudySize(
        base=_CPU_BASE, seeds=tuple(range(8)), test_images=2000,
        only=("se", "gate", "squeeze", "placement", "no_squeeze"),
        budget="9 distinct configs × 8 paired seeds = 72 trainings of 8 epochs. Measured on "
               "2026-12-06 on this 2-core machine, for a third of the time beside the test suite: "
               "22-55 s per training (median 32 s), 39 min of training and 40 min for the whole "
               "notebook, the 2,000-image test set included; the trainings before the suite "
               "started took 22-24 s, so about 30 min on idle cores. The SE study's paired differences "
               "spread by 8.8 points (sd over 8 seeds; 6.6 in an earlier run): at 8 epochs this "
               "network ends at 42-70 % and its seeds scatter, so this size bounds only effects of "
               "several points; more seeds narrow it as 1/sqrt(n)"),
    "quick": StudySize(
        base=_CPU_BASE, seeds=tuple(range(8)), test_images=2000, only=("se",),
        budget="the cpu size, SE vs no SE only: 2 configs × 8 seeds = 16 trainings, estimated at "
               "about 6 min on 2 idle cores (plus the test set's 2 min the first time)"),
}
STUDY_SIZES["gpu"] = StudySize(
    base=_CPU_BASE.replace(image_size=112, depth=(2, 2, 2, 2), filters=(32, 64, 128, 256),
                           initial_filters=32, stem_stride=2, epochs=20),
    seeds=tuple(range(8)), test_images=2000, ratios=(2, 4, 8, 32),
    budget="all seven studies (17 distinct configs × 8 seeds = 136 trainings) on a half-width "
           "SE-ResNet-18 at 112², 20 epochs: not measured")
STUDY_SIZES["report"] = STUDY_SIZES["gpu"]
