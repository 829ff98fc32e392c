"""One notebook-06 session: the profile's studies, their data, their record, run one by one.

:func:`open_session` resolves everything a study needs once (size, studies, data folders,
the record); :meth:`StudySession.run` trains (or reads from the record) one study and compares
it, every arm also against the no-SE arm. On the built-in data the folders are only rendered
when a study has a training the record lacks, so reading a committed record costs seconds.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from selib.studies.catalog import STUDIES_ENV, study_size, suite
from selib.studies.record import StudyRecord
from selib.studies.sizes import STUDY_SIZES, StudySize
from selib.studies.study import Study, config_key, ensure_test_set, ensure_train_set, run_study
from selib.studies.verdicts import compare

__all__ = ["StudySession", "open_session", "record_path", "builtin_identity"]


def record_path(profile: str) -> Path:
    """Where a profile's record lives: ``notebooks/results/06_ablation.json`` for the ``cpu``
    size (and ``quick``, which is part of it), ``06_ablation_<profile>.json`` for another size;
    the ``ci`` smoke size writes under ``runs/``, never into the committed results."""
    from selib.paths import project_root, runs_dir

    if profile == "ci":
        return runs_dir() / "ablation" / "06_ablation_ci.json"
    same_as_cpu = STUDY_SIZES[profile].base == STUDY_SIZES["cpu"].base
    name = "06_ablation.json" if same_as_cpu else f"06_ablation_{profile}.json"
    return project_root() / "notebooks" / "results" / name


def builtin_identity(per_class: int, seed: int) -> dict:
    """The manifest the renderer writes for a built-in set, known without rendering it."""
    from selib.synth.dataset import SHORT_RANGE, _manifest

    return _manifest(int(per_class), int(seed), tuple(SHORT_RANGE))


@dataclass
class StudySession:
    """A profile's studies with their data and record; ``results``/``tables`` fill as they run."""

    profile: str
    size: StudySize
    studies: dict[str, Study]
    record: StudyRecord | None
    out_root: Path
    data_dir: Path | None = None                 # a user's folder; None: the built-in data
    results: dict[str, pd.DataFrame] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)
    _folders: tuple[Any, Any] | None = None

    def folders(self) -> tuple[Path, Path | None]:
        """Training and test folders, rendered (once) if they are the built-in data."""
        if self._folders is None:
            if self.data_dir is not None:
                self._folders = (self.data_dir, None)
            else:
                from selib.paths import data_dir
                from selib.synth import ensure_builtin

                train = ensure_train_set(self.size.train_per_class) or ensure_builtin(data_dir().parent,
                                                                                   progress=False,
                                                                                   profile=self.profile)
                self._folders = (train, ensure_test_set(self.size.test_images))
        return self._folders

    def missing(self, name: str) -> int:
        """How many trainings of study ``name`` the record lacks."""
        runs = self.studies[name].runs()
        if self.record is None:
            return len(runs)
        return sum(self.record.lookup(config_key(cfg)) is None for _, _, cfg in runs)

    def run(self, name: str, progress: bool = False) -> pd.DataFrame:
        """Train or read back study ``name``; its comparison table (also kept in ``tables``)."""
        say = (lambda line: print(line, file=sys.__stderr__, flush=True)) if progress else False
        train_dir, test_dir = self.folders() if self.missing(name) else (self.data_dir or Path("."), None)
        df = run_study(self.studies[name], train_dir, self.out_root, test_dir=test_dir, cache=self.cache,
                       progress=say, record=self.record)
        self.results[name] = df
        self.tables[name] = compare(df, self.studies[name], no_se=self.no_se())
        return self.tables[name]

    def no_se(self) -> pd.DataFrame | None:
        """The no-SE arm's rows (from the SE study), once it has run."""
        se = self.results.get("se")
        return None if se is None else se.loc[se["label"] == "no SE", ["seed", "accuracy"]]


def open_session(profile: str, data_dir: str | os.PathLike | None = None, command: str | None = None,
                 out_root: str | os.PathLike | None = None) -> StudySession:
    """The studies of ``profile`` (``SELIB_STUDIES`` may add or remove some) on the built-in data
    with the profile's record, or on ``data_dir`` (a user's photos: no record, the split's own
    test part). ``command`` is what the record says trained them (default: the make target)."""
    from selib.paths import runs_dir
    from selib.studies.catalog import command as make_command

    size = study_size(profile)
    chosen = {s.name: s for s in suite(size)}
    out = Path(out_root) if out_root is not None else runs_dir() / "ablation"
    record = None
    if data_dir is None:
        data = {"train": builtin_identity(size.train_per_class or _builtin_per_class(profile), 0),
                "test": builtin_identity(_per_class(size.test_images), 1) if size.test_images
                else {"kind": "none"}}
        names = os.environ.get(STUDIES_ENV) and tuple(chosen)
        record = StudyRecord(record_path(profile), size.base, data,
                             command=command or (make_command(profile, names) if names
                                                 else f"SELIB_PROFILE={profile} make ablations"))
    return StudySession(profile, size, chosen, record, out, Path(data_dir) if data_dir else None)


def _builtin_per_class(profile: str) -> int:
    from selib.synth import builtin_size

    return builtin_size(profile)[1]


def _per_class(n_images: int) -> int:
    from selib.synth import CLASSES

    return -(-int(n_images) // len(CLASSES))
