"""The named profiles (seed, gpu, ci, cpu, quick): complete TrainConfigs, chosen by name."""
from __future__ import annotations

import os

from selib.training.config import TrainConfig

PROFILE_ENV = "SELIB_PROFILE"

SEED = TrainConfig()

PROFILES: dict[str, TrainConfig] = {
    # The seed report's recipe: 473² grayscale, its exact network, Adam 1e-3, 20 epochs, 75/25.
    "seed": SEED,
    # The same recipe on a GPU, with mixed precision and XLA (selected automatically there).
    "gpu": SEED.replace(name="gpu", notes="seed recipe; mixed_float16 + XLA on a GPU"),
    # CI: tiny images, a few hundred samples, 2 epochs — checks that everything runs, not accuracy.
    "ci": SEED.replace(
        name="ci", image_size=32, max_per_class=40, epochs=2, batch_size=32,
        model="se_resnet", depth=(1, 1), filters=(16, 32), initial_filters=16, ratio=4,
        stem_stride=1, stem_pool=True, notes="smoke profile for CI: seconds, not accuracy"),
    # CPU: the best accuracy in about 10 minutes of training on a 2-core CPU (97.1 % on the 3 real
    # classes in 9.0 min, measured with bench/time_to_accuracy.py).
    "cpu": SEED.replace(
        name="cpu", image_size=144, color="rgb", model="se_resnet", depth=(2, 2, 2, 2),
        filters=(32, 64, 128, 256), initial_filters=32, ratio=8, batch_size=32, epochs=40,
        optimizer="adamw", learning_rate=2e-3, weight_decay=0.05, schedule="cosine",
        warmup_epochs=1, label_smoothing=0.1, augment="medium", tta=True, val_size=0.1,
        notes="2-core CPU recipe: half-width SE-ResNet-18 at 144² colour, AdamW + cosine, "
              "augmentation, label smoothing, test-time flip"),
}
# The cpu recipe shorter: 95 % on the 3 real classes in 2.7 min, 96.6 % in 6 min.
PROFILES["quick"] = PROFILES["cpu"].replace(
    name="quick", image_size=128, epochs=30,
    notes="the cpu recipe at 128² for 30 epochs: about 6 minutes on 2 cores")


def gpu_available() -> bool:
    from selib._quiet import import_tensorflow_quietly

    tf = import_tensorflow_quietly()
    return bool(tf.config.list_physical_devices("GPU"))


def resolve_profile(name: str | None = None) -> TrainConfig:
    """Profile by name; ``None`` reads ``SELIB_PROFILE``; ``auto`` is ``gpu`` with a GPU, else ``cpu``."""
    name = (name or os.environ.get(PROFILE_ENV) or "auto").strip().lower()
    if name == "auto":
        name = "gpu" if gpu_available() else "cpu"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of: auto, {', '.join(PROFILES)}")
    return PROFILES[name]
