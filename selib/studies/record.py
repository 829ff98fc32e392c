"""The studies' recorded results: every (study, arm, seed) test accuracy in one JSON file.

Notebook 06 and the README read the study from this file, not from run folders that only exist
on the machine that trained them. A record holds one study size (its base config and its data);
each distinct training is stored once, under the hash of its full config, with its accuracy,
parameters, seconds and the provenance of the session that trained it (command, date, CPU model
and flags, backend). :func:`~selib.studies.study.run_study` takes a record and never retrains a
configuration it already holds, so an interrupted study resumes where it stopped.

Layout (``format`` 1)::

    {"format": 1, "base": {TrainConfig.to_dict()}, "data": {"train": ..., "test": ...},
     "provenance": [{"command", "date", "cpu", "cpu_flags", "cpus", "backend", "keras"}, ...],
     "trainings": {"<config key>": {"changes": {flat settings that differ from base},
                                   "accuracy", "n_test", "params", "epoch_seconds",
                                   "train_seconds", "provenance": <index>}},
     "studies": {"<study>": {"reference": "<label>",
                             "rows": [{"label", "seed", "training": "<config key>"}, ...]}}}
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from selib.training.config import TrainConfig

__all__ = ["FORMAT", "StudyRecord", "data_identity", "provenance", "flat_changes"]

FORMAT = 1
NUMBERS = ("accuracy", "n_test", "params", "epoch_seconds", "train_seconds")


def _flat(config: TrainConfig) -> dict[str, Any]:
    d = config.to_dict()
    return {k: v for g in TrainConfig.GROUPS for k, v in d[g].items()}


def flat_changes(config: TrainConfig, base: TrainConfig) -> dict[str, Any]:
    """The flat settings of ``config`` that differ from ``base`` (what makes one training)."""
    a, b = _flat(config), _flat(base)
    return {k: v for k, v in a.items() if b.get(k) != v}


def data_identity(folder: str | os.PathLike | None) -> dict | None:
    """What a folder of images *is*, portably: the renderer's manifest of a built-in set
    (renderer version, seed, images per class), or ``None`` for any other folder, whose results
    are then never taken from a record (nothing says the photos are the same)."""
    if folder is None:
        return {"kind": "none"}
    from selib.synth.dataset import MANIFEST

    try:
        return json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def provenance(command: str) -> dict[str, Any]:
    """Who trained: the command, the date (UTC), the CPU model and its speed-relevant flags."""
    import keras

    from selib.hardware import backend_name, cpu_model, gpu_devices, speed_flags

    name = backend_name()
    version = getattr(sys.modules.get(name), "__version__", "")
    return {"command": command, "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu_model(), "cpu_flags": speed_flags(),
            "cpus": os.cpu_count(), "gpus": list(gpu_devices()), "backend": f"{name} {version}".strip(),
            "keras": keras.__version__}


def _clean(value: Any) -> Any:
    """JSON has no NaN: a missing number is null."""
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


class StudyRecord:
    """One study size's recorded trainings, read from and written to one JSON file.

    Open it with the size's base config and data identities: a file recorded for another base or
    other data is not reused (it is replaced on the first save), since none of its trainings is
    one of this size's.
    """

    def __init__(self, path: str | os.PathLike, base: TrainConfig, data: dict | None = None,
                 command: str = "") -> None:
        self.path, self.base, self.command = Path(path), base, command
        self._session: int | None = None                 # this session's provenance index
        stored = self._read(self.path)
        fresh = {"format": FORMAT, "base": base.to_dict(), "data": data, "provenance": [],
                 "trainings": {}, "studies": {}}
        usable = (stored is not None and stored.get("format") == FORMAT
                  and stored.get("base") == base.to_dict() and stored.get("data") == data
                  and self.portable(data))
        self.doc: dict[str, Any] = stored if usable else fresh
        self.reused = usable

    @staticmethod
    def portable(data: dict | None) -> bool:
        """Whether results on ``data`` can be recorded: both folders have a portable identity."""
        return bool(data) and all(v is not None for v in data.values())

    @staticmethod
    def _read(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except ValueError as e:
            raise ValueError(f"{path} is not a study record ({e}); move it away to start a new one") from e

    @classmethod
    def read(cls, path: str | os.PathLike) -> "StudyRecord":
        """A record as it is on disk, for reading only (its own base and data)."""
        doc = cls._read(Path(path))
        if doc is None:
            raise FileNotFoundError(f"no study record at {path}")
        if doc.get("format") != FORMAT:
            raise ValueError(f"{path}: study record format {doc.get('format')!r}, this selib reads {FORMAT}")
        rec = cls.__new__(cls)
        rec.path, rec.base, rec.command, rec._session = Path(path), TrainConfig.from_dict(doc["base"]), "", None
        rec.doc, rec.reused = doc, True
        return rec

    # -- trainings --------------------------------------------------------------------------
    def lookup(self, key: str) -> dict[str, Any] | None:
        """The recorded numbers of the training with config key ``key``, or ``None``."""
        t = self.doc["trainings"].get(key)
        return None if t is None else {k: (np.nan if t.get(k) is None else t[k]) for k in NUMBERS}

    def add_training(self, key: str, config: TrainConfig, numbers: dict[str, Any]) -> None:
        """Record one finished training (its numbers, and this session's provenance)."""
        if self._session is None:
            self.doc["provenance"].append(provenance(self.command))
            self._session = len(self.doc["provenance"]) - 1
        self.doc["trainings"][key] = {"changes": flat_changes(config, self.base),
                                      **{k: _clean(numbers.get(k)) for k in NUMBERS},
                                      "provenance": self._session}

    def add_row(self, study: str, reference: str, label: str, seed: int, key: str) -> None:
        """Which training is arm ``label``, seed ``seed`` of ``study`` (replacing an older row)."""
        s = self.doc["studies"].setdefault(study, {"reference": reference, "rows": []})
        s["reference"] = reference
        s["rows"] = [r for r in s["rows"] if (r["label"], r["seed"]) != (label, int(seed))]
        s["rows"].append({"label": label, "seed": int(seed), "training": key})

    def save(self) -> Path:
        """Write atomically (a crash mid-write leaves the previous file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.doc, indent=1, sort_keys=False) + "\n")
        os.replace(tmp, self.path)
        return self.path

    # -- reading ----------------------------------------------------------------------------
    @property
    def studies(self) -> list[str]:
        return list(self.doc["studies"])

    def config(self, key: str) -> TrainConfig:
        """The full config of one recorded training, rebuilt from the base and its changes."""
        return self.base.replace(**self.doc["trainings"][key]["changes"])

    def results(self, study: str) -> pd.DataFrame:
        """The study's rows as :func:`~selib.studies.study.run_study` returns them (status
        ``recorded``); a study the record does not hold is an empty table."""
        from selib.studies.study import RESULT_COLUMNS

        rows = []
        for r in self.doc["studies"].get(study, {}).get("rows", []):
            rows.append({"study": study, "label": r["label"], "seed": r["seed"],
                         **self.lookup(r["training"]), "status": "recorded", "run_dir": r["training"]})
        return pd.DataFrame(rows, columns=RESULT_COLUMNS)

    def paired(self, study: str, variant: str, reference: str | None = None, confidence: float = 0.95):
        """The paired difference ``variant - reference`` (points) over the seeds both arms hold,
        e.g. ``paired("se", "SE")``: the SE vs no-SE interval the README quotes."""
        from selib.analysis.stats import paired_difference

        res = self.results(study)
        reference = reference or self.doc["studies"][study]["reference"]
        wide = res.pivot_table(index="seed", columns="label", values="accuracy").dropna(subset=[variant, reference])
        return paired_difference(wide[variant], wide[reference], confidence)

    def trainings(self) -> pd.DataFrame:
        """One row per distinct training: key, seconds, and the provenance it was trained under."""
        rows = [{"training": k, **{n: (np.nan if t.get(n) is None else t[n]) for n in NUMBERS},
                 "provenance": t.get("provenance")} for k, t in self.doc["trainings"].items()]
        return pd.DataFrame(rows, columns=["training", *NUMBERS, "provenance"])

    def provenance_table(self) -> pd.DataFrame:
        """One small table: when, on what hardware, with which command, how many trainings."""
        t = self.trainings()
        rows = []
        for i, p in enumerate(self.doc["provenance"]):
            hw = f"{p['cpus']} × {p['cpu']}" + (f" ({', '.join(p['cpu_flags'])})" if p.get("cpu_flags") else "")
            if p.get("gpus"):
                hw += f"; GPUs: {', '.join(p['gpus'])}"
            rows.append({"when": p["date"], "hardware": hw, "software": f"{p['backend']}, Keras {p['keras']}",
                         "command": p["command"], "trainings": int((t["provenance"] == i).sum())})
        return pd.DataFrame(rows, columns=["when", "hardware", "software", "command", "trainings"])
