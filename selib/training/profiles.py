"""The named profiles: complete TrainConfigs chosen by name.

======== ===================================================================================
report   the original report's recipe, exactly: its network, 473² gray, Adam 1e-3, 20 epochs, 75/25
gpu      the best recipe for one GPU: larger images, a full-width SE-ResNet-18, longer AdamW+cosine
cpu      the best recipe for a 2-core CPU (the default without a GPU)
quick    the cpu recipe shorter: about two thirds of its training time
ci       tiny: proves that everything runs, in seconds, not what it learns
======== ===================================================================================

What each profile costs and reaches is measured, not written here: ``docs/profiles.md`` and the
generated ``docs/results.md`` give the figures with their commands. Notebook 06's study size under
each profile lives in :mod:`selib.studies.sizes`.
"""
from __future__ import annotations

import os

from selib.errors import ConfigError
from selib.training.config import RENAMED_PROFILES, TrainConfig

PROFILE_ENV = "SELIB_PROFILE"

REPORT = TrainConfig()   # the defaults are the original report's recipe

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
    # 30 epochs with the warmed-up weight average (selib.training.ema), one fused augmentation
    # warp (selib.layers.augment), bfloat16 by precision="auto" where the CPU computes it.
    # What it costs on 2 cores (docs/results.md has each figure with its command): on the 2,951
    # real photos one training took 50 min in float32 on an AVX2-only CPU and 8.5 min in bfloat16
    # on one with AVX512-BF16: bfloat16 hardware is worth about 6x here.
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
PROFILES["quick"] = PROFILES["cpu"].replace(
    name="quick", image_size=128, epochs=24,
    # 128² costs 0.83x of 144² per step in float32 (bench/results/profile_epoch.json), and 24 of
    # 30 epochs: about two thirds of cpu's training time
    notes="the cpu recipe at 128² for 24 epochs: about two thirds of cpu's training time")


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
