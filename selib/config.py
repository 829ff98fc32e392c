"""Training configuration and the named profiles (ci, cpu, seed, gpu).

A profile is a complete :class:`TrainConfig`; everything a run did is in its config.json, so a
result can always be traced to the settings that produced it.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROFILE_ENV = "SELIB_PROFILE"


@dataclass
class TrainConfig:
    """Everything one training run needs. Defaults are the seed report's recipe."""

    name: str = "seed"
    # data
    image_size: int = 473
    color: str = "grayscale"            # "grayscale" | "rgb"
    fit: str = "squash"                 # "squash" (the seed's rescale) | "pad" | "crop"
    max_per_class: int | None = None    # subsample (stratified, seeded) for quick profiles
    test_size: float = 0.2
    val_size: float = 0.25              # share of the training part; the report used 75/25
    # model
    model: str = "seed"                 # "seed" | "se_resnet" | "se_inception"
    depth: tuple[int, ...] = (2, 1, 1, 2)
    filters: tuple[int, ...] = (64, 128, 256, 512)
    block: str = "basic"
    style: str = "preact"
    width: float = 1.0
    initial_filters: int = 64
    ratio: int | None = 16              # None: no SE (plain ResNet)
    se_placement: str = "standard"
    se_gate: str = "sigmoid"
    se_squeeze: str = "avg"
    stem_stride: int = 2
    stem_pool: bool = True
    model_weight_decay: float = 1e-4    # L2 on stem and classifier, as in the seed code
    # optimisation
    batch_size: int = 32
    epochs: int = 20
    optimizer: str = "adam"             # "adam" | "adamw" | "sgd"
    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    momentum: float = 0.9
    weight_decay: float = 0.0           # decoupled (AdamW / SGD weight decay)
    schedule: str = "constant"          # "constant" | "cosine"
    warmup_epochs: float = 0.0
    label_smoothing: float = 0.0
    augment: str | None = None          # None | "light" | "medium" | "strong"
    tta: bool = False                   # test-time horizontal flip averaging
    seed: int = 42
    # hardware
    mixed_precision: str | bool = "auto"  # auto: on when a GPU is present
    jit_compile: str | bool = "auto"      # auto: XLA on when a GPU is present
    max_train_seconds: float | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> "TrainConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k in ("depth", "filters"):
            d[k] = list(d[k])
        return d

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        for k in ("depth", "filters"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))

    @property
    def channels(self) -> int:
        return 1 if self.color == "grayscale" else 3


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
