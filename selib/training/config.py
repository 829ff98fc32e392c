"""Training configuration: five small, frozen, validated groups that say everything a run does.

A :class:`TrainConfig` is a name, a note and five groups, each feeding exactly one function:

* :class:`DataConfig`    -> :func:`selib.training.trainer.prepare_data` (what is loaded, how it is split)
* :class:`ModelConfig`   -> :func:`selib.training.trainer.build_model` (the network and its in-model preprocessing)
* :class:`OptimConfig`   -> :func:`selib.training.optimizers.compile_model` and ``fit`` (optimiser, loss, epochs)
* :class:`RuntimeConfig` -> :func:`selib.training.trainer.runtime` (seed, precision, XLA, devices, time budget)
* :class:`EvalConfig`    -> :func:`selib.analysis.evaluation.evaluate` (test-time augmentation)

Every choice field is checked when the config is made, so a typo fails in one line before an
hour of training, not after it. Field names are unique across the groups, so ``replace`` and
``selib train --set KEY=VALUE`` take plain names (``ratio=8``) and route them to their group.
A run's ``config.json`` holds the whole nested config, so a result can always be traced back to
the settings that produced it.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from selib.errors import ConfigError

__all__ = ["DataConfig", "ModelConfig", "OptimConfig", "RuntimeConfig", "EvalConfig", "TrainConfig",
           "CHOICES", "parse_assignment", "as_recorded"]

#: The allowed values of every choice field (``None`` means "off").
CHOICES: dict[str, tuple] = {
    "color": ("grayscale", "rgb"),
    "fit": ("squash", "pad", "crop"),
    "architecture": ("se_resnet", "se_inception"),
    "block": ("basic", "bottleneck"),
    "style": ("v1", "preact"),
    "attention": ("se", "eca", None),
    "se_placement": ("standard", "pre", "post", "identity"),
    "se_gate": ("sigmoid", "relu", "tanh"),
    "se_squeeze": ("avg", "max", "none"),
    "augment": (None, "light", "medium", "strong"),
    "optimizer": ("adam", "adamw", "sgd"),
    "schedule": ("constant", "cosine", "onecycle"),
    "ema_mode": ("evaluate", "overwrite"),
    "precision": ("auto", "float32", "mixed_float16", "mixed_bfloat16"),
    "jit_compile": ("auto", True, False),
}


def _spec(default, kind, *, lo=None, hi=None, lo_open=False, hi_open=False, none=False):
    """A dataclass field with its type and range, read back by :func:`_check_field`."""
    meta = {"kind": kind, "lo": lo, "hi": hi, "lo_open": lo_open, "hi_open": hi_open, "none": none}
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def _choice(default):
    return field(default=default, metadata={"kind": "choice"})


def _describe(m: dict) -> str:
    kinds = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
             "ints": "a list of integers", "strs": "a list of strings"}
    text = kinds[m["kind"]]
    if m["lo"] is not None or m["hi"] is not None:
        lo = "" if m["lo"] is None else f"{'>' if m['lo_open'] else '≥'} {m['lo']}"
        hi = "" if m["hi"] is None else f"{'<' if m['hi_open'] else '≤'} {m['hi']}"
        text += " " + " and ".join(s for s in (lo, hi) if s)
    return text + (" or null" if m["none"] else "")


def _in_range(v, m: dict) -> bool:
    lo, hi = m["lo"], m["hi"]
    if lo is not None and (v <= lo if m["lo_open"] else v < lo):
        return False
    return not (hi is not None and (v >= hi if m["hi_open"] else v > hi))


def _coerce(value, m: dict):
    """The value as the field's type, or raise ValueError (ints stay ints, 1 -> 1.0 for floats)."""
    kind = m["kind"]
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ValueError
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ValueError
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        return float(value)
    if kind == "ints":
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise ValueError
        return tuple(_coerce(v, {"kind": int}) for v in value)
    if kind == "strs":
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise ValueError
        return tuple(str(v) for v in value)
    if not isinstance(value, str):
        raise ValueError
    return value


def _check_field(obj, f: dataclasses.Field) -> None:
    """Validate (and normalise, e.g. lists to tuples) one field in place, or raise ConfigError."""
    value, m = getattr(obj, f.name), f.metadata
    if m.get("kind") == "choice":
        choices = CHOICES[f.name]
        if value not in choices or (isinstance(value, bool) != any(c is value for c in choices if isinstance(c, bool))
                                    and isinstance(value, bool)):
            shown = ", ".join("null" if c is None else json.dumps(c) if not isinstance(c, str) else c
                              for c in choices)
            raise ConfigError(f"unknown {f.name} {value!r}; choose one of: {shown}")
        return
    if value is None and m["none"]:
        return
    try:
        value = _coerce(value, m)
        ok = all(_in_range(v, m) for v in value) if m["kind"] in ("ints",) else (
            m["kind"] in (bool, str, "strs") or _in_range(value, m))
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise ConfigError(f"{f.name} must be {_describe(m)}, got {getattr(obj, f.name)!r}")
    object.__setattr__(obj, f.name, value)


class _Group:
    """Shared behaviour of the config groups: validation at construction, dict round trip."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_field(self, f)
        self._check_together()

    def _check_together(self) -> None:
        """Checks that involve several fields of one group (overridden where needed)."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class DataConfig(_Group):
    """What is loaded and how it is split. Defaults: the seed report (473² gray, 80/20, 75/25)."""

    image_size: int = _spec(473, int, lo=8, hi=4096)
    color: str = _choice("grayscale")
    fit: str = _choice("squash")              # "squash" is the seed's rescale; pad/crop keep the aspect
    max_per_class: int | None = _spec(None, int, lo=2, none=True)   # stratified, seeded subsample
    test_size: float = _spec(0.2, float, lo=0, hi=1, lo_open=True, hi_open=True)
    val_size: float = _spec(0.25, float, lo=0, hi=1, hi_open=True)   # share of the training part
    split_seed: int = _spec(42, int, lo=0)    # the split; the training seed is runtime.seed

    @property
    def channels(self) -> int:
        return 1 if self.color == "grayscale" else 3


@dataclass(frozen=True)
class ModelConfig(_Group):
    """The network. Defaults: the seed report's net ([2, 1, 1, 2] pre-activation SE-ResNet, r = 16)."""

    architecture: str = _choice("se_resnet")
    depth: tuple[int, ...] = _spec((2, 1, 1, 2), "ints", lo=1)
    filters: tuple[int, ...] = _spec((64, 128, 256, 512), "ints", lo=1)
    block: str = _choice("basic")
    style: str = _choice("preact")
    width: float = _spec(1.0, float, lo=0, lo_open=True)
    initial_filters: int = _spec(64, int, lo=1)
    attention: str | None = _choice("se")
    ratio: int | None = _spec(16, int, lo=1, none=True)   # null: no attention (the plain network)
    se_min_units: int = _spec(1, int, lo=1)
    se_placement: str = _choice("standard")
    se_gate: str = _choice("sigmoid")
    se_squeeze: str = _choice("avg")
    se_use_bias: bool = _spec(False, bool)
    se_stages: tuple[int, ...] | None = _spec(None, "ints", lo=2, none=True)   # null: every stage
    stem_stride: int = _spec(2, int, lo=1, hi=4)
    stem_pool: bool = _spec(True, bool)
    model_weight_decay: float = _spec(1e-4, float, lo=0)   # L2 on stem and classifier (seed code)
    augment: str | None = _choice(None)       # in-model augmentation, active only in training

    def _check_together(self) -> None:
        if len(self.depth) != len(self.filters):
            raise ConfigError(f"depth {list(self.depth)} and filters {list(self.filters)} must have "
                              "the same length (one entry per stage)")
        stages = list(range(2, len(self.depth) + 2))
        if self.se_stages is not None and not set(self.se_stages) <= set(stages):
            raise ConfigError(f"se_stages {list(self.se_stages)} must name stages of this network: "
                              f"{stages} (2 is the first stage, as in the layer names)")
        if self.se_stages is not None and self.architecture != "se_resnet":
            raise ConfigError("se_stages applies to architecture se_resnet only")

    @property
    def has_attention(self) -> bool:
        return self.attention is not None and self.ratio is not None


@dataclass(frozen=True)
class OptimConfig(_Group):
    """Optimiser, schedule, loss and length. Defaults: the seed's Adam 1e-3 for 20 epochs."""

    batch_size: int = _spec(32, int, lo=1, hi=65536)
    epochs: int = _spec(20, int, lo=1, hi=100000)
    optimizer: str = _choice("adam")
    learning_rate: float = _spec(1e-3, float, lo=0, lo_open=True)
    beta_1: float = _spec(0.9, float, lo=0, hi=1, hi_open=True)
    beta_2: float = _spec(0.999, float, lo=0, hi=1, hi_open=True)
    epsilon: float = _spec(1e-8, float, lo=0, lo_open=True)
    momentum: float = _spec(0.9, float, lo=0, hi=1, hi_open=True)
    weight_decay: float = _spec(0.0, float, lo=0)    # decoupled (AdamW / SGD)
    schedule: str = _choice("constant")
    warmup_epochs: float = _spec(0.0, float, lo=0)
    label_smoothing: float = _spec(0.0, float, lo=0, hi=1, hi_open=True)
    use_ema: bool = _spec(False, bool)              # Keras' optimizer EMA of the weights
    ema_momentum: float = _spec(0.99, float, lo=0, hi=1, lo_open=True, hi_open=True)
    # evaluate: warmed-up average shown to validation and saves, training on the raw weights;
    # overwrite: Keras' own (no warm-up, copied into the training weights each epoch)
    ema_mode: str = _choice("evaluate")

    @property
    def swaps_average(self) -> bool:
        """Whether the run keeps a warmed-up average that only validation and saves see."""
        return self.use_ema and self.ema_mode == "evaluate"


@dataclass(frozen=True)
class RuntimeConfig(_Group):
    """Where and how the run executes: none of it changes what is learned, only how fast."""

    seed: int = _spec(42, int, lo=0)                 # initial weights, batch order, augmentation
    precision: str = _choice("auto")                 # auto: bf16 on bf16 CPUs, fp16 on GPUs
    jit_compile: Any = _choice("auto")               # auto: XLA on a GPU
    devices: tuple[str, ...] | None = _spec(None, "strs", none=True)   # e.g. two logical CPUs
    max_train_seconds: float | None = _spec(None, float, lo=0, lo_open=True, none=True)


@dataclass(frozen=True)
class EvalConfig(_Group):
    """How the kept model is tested."""

    tta: bool = _spec(False, bool)                   # average with the horizontally flipped image


_GROUPS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "optim": OptimConfig,
                            "runtime": RuntimeConfig, "eval": EvalConfig}
_FIELD_GROUP = {f.name: g for g, cls in _GROUPS.items() for f in dataclasses.fields(cls)}


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs. Defaults are the seed report's recipe."""

    name: str = "seed"
    notes: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    GROUPS: ClassVar[dict[str, type]] = _GROUPS

    def __post_init__(self) -> None:
        for g, cls in _GROUPS.items():
            if not isinstance(getattr(self, g), cls):
                raise ConfigError(f"TrainConfig.{g} must be a {cls.__name__}")

    @staticmethod
    def fields() -> dict[str, str]:
        """Every settable field name and the group it belongs to."""
        return dict(_FIELD_GROUP)

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with some fields changed: plain field names (``ratio=8``) are routed to their
        group; ``name``/``notes`` and whole groups (``model=ModelConfig(...)``) are taken as is."""
        top = {k: changes.pop(k) for k in list(changes) if k in ("name", "notes", *_GROUPS)}
        unknown = sorted(set(changes) - set(_FIELD_GROUP))
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}; `selib settings` "
                              "lists them")
        grouped: dict[str, dict] = {}
        for k, v in changes.items():
            grouped.setdefault(_FIELD_GROUP[k], {})[k] = v
        for g, sub in grouped.items():
            top[g] = dataclasses.replace(top.get(g, getattr(self, g)), **sub)
        return dataclasses.replace(self, **top)

    def get(self, name: str) -> Any:
        """A field's value by its plain name (``config.get("ratio")``)."""
        if name in ("name", "notes"):
            return getattr(self, name)
        if name not in _FIELD_GROUP:
            raise ConfigError(f"unknown setting {name!r}")
        return getattr(getattr(self, _FIELD_GROUP[name]), name)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "notes": self.notes,
                **{g: getattr(self, g).to_dict() for g in _GROUPS}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """The inverse of :meth:`to_dict` (unknown keys are an error: a config says everything)."""
        unknown = sorted(set(d) - {"name", "notes", *_GROUPS})
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
        groups = {}
        for g, gcls in _GROUPS.items():
            sub = d.get(g, {})
            bad = sorted(set(sub) - {f.name for f in dataclasses.fields(gcls)})
            if bad:
                raise ConfigError(f"unknown {g} setting(s): {', '.join(bad)}")
            groups[g] = gcls(**sub)
        return cls(name=d.get("name", "custom"), notes=d.get("notes", ""), **groups)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainConfig":
        """A run's recorded ``config.json``, read as that run trained (see :func:`as_recorded`)."""
        return cls.from_dict(as_recorded(json.loads(Path(path).read_text())))

    def differences(self, other: "TrainConfig") -> list[str]:
        """``["epochs 40 -> 20", ...]``: what differs, for one-line resume errors."""
        a, b = _flat(self), _flat(other)
        return [f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in a if a.get(k) != b.get(k)]


def as_recorded(d: dict[str, Any]) -> dict[str, Any]:
    """A config dict written by an older selib, with each field added since set to what that run did.

    The current default of a new field describes the current behaviour, not the old run's: read with it, a
    run made before ``ema_mode`` existed (0.2.0, Keras' own average) would claim the warmed-up
    evaluation-only average, resume under it and count as finished for a config it never trained.
    Anything that is not a config dict is returned unchanged, for the caller's own error.
    """
    optim = d.get("optim") if isinstance(d, dict) else None
    if not isinstance(optim, dict) or "ema_mode" in optim:
        return d
    # without use_ema the mode changes nothing, so the old run is the same run with the default
    mode = "overwrite" if optim.get("use_ema") else OptimConfig.ema_mode
    return {**d, "optim": {**optim, "ema_mode": mode}}


def _flat(config: TrainConfig) -> dict[str, Any]:
    d = config.to_dict()
    out = {"name": d["name"]}
    for g in _GROUPS:
        out.update(d[g])
    return out


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"ratio=8"`` -> ``("ratio", 8)``: the value is read as JSON (``null``, ``true``,
    ``[1, 2]``), else taken as a string; the type and range are checked when the config is made."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE, got {text!r}")
    key, raw = (s.strip() for s in text.split("=", 1))
    if key not in _FIELD_GROUP and key not in ("name", "notes"):
        raise ConfigError(f"unknown setting {key!r} in --set {text}; choose one of: "
                          + ", ".join(sorted(_FIELD_GROUP)))
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value
