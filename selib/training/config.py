"""Training configuration: one dataclass that says everything a run does.

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
