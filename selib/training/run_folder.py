"""A run folder that survives anything: atomic writes, a lock, a manifest, a committed backup.

The ideas are SQLite's and git's:

* **Atomic writes.** Every file selib writes is written to a temporary name in the same
  folder, flushed to disk and renamed into place (:func:`atomic_write`), so a reader (or a
  re-run after ``kill -9``) sees the old file or the new one, never half of one.
* **A lock.** One ``selib train`` per folder: an OS file lock on ``.lock`` (``fcntl.flock``;
  ``msvcrt`` on Windows), released by the OS when the process dies, so a crash never leaves a
  stale lock. A second trainer exits at once with the holder's PID.
* **A manifest.** ``manifest.json`` records the config, the class names and a fingerprint of
  the data (every file's path, size and modification time) and the run's state. A run is
  finished only when its manifest says so *and* matches the config and data asked for.
  Resuming with another config or another data folder is refused in one line that names the
  difference.
* **A committed backup** (``backup/``). After each epoch the weights (with the optimiser
  state) and, if it improved, the candidate best model are written under epoch-stamped names;
  then ``backup/state.json`` — the commit point — names them, with the history so far. Only
  then are ``model.keras`` and ``history.csv`` published from the committed state. A crash
  before the commit leaves the previous state intact; a crash after it is finished by the next
  start (publishing is idempotent). A damaged backup is detected and the run restarts cleanly,
  with a one-line message; it never crashes every later attempt.
* **Fingerprints.** Every file a later step depends on is recorded with its size and CRC-32
  (:mod:`selib.training.integrity`) when it is committed — the backup's files in
  ``backup/state.json``, the run's in the manifest — and checked before use; both records are
  sealed with a CRC-32 of their own contents. A finished run whose files fail their check is not
  finished: what can be re-derived (config, preprocessing, metrics) is, the rest is refused in
  one line. A record without fingerprints (an older selib) is trusted as it is.
* **Never part of its own data.** ``--out`` inside ``--data`` is refused up front
  (:func:`refuse_out_inside_data`). ``docs/run_folder.md`` tells the whole design.

Layout::

    <run>/manifest.json       config, class names, data fingerprint, state (training | finished)
          config.json         the config alone (for people and old tools)
          preprocessing.json  size, colour, fit, class names: how to feed the model new photos
          model.keras         the best finite model so far (by validation accuracy)
          history.csv         one row per finished epoch
          metrics.json        test accuracy and timings (written when the run finishes)
          backup/             the committed training state while the run is unfinished

Crash points: :func:`crash_point` names each step (``write:<file>``, ``commit``, ...); the
fault-injection tests set ``SELIB_CRASH_AT=<point>[#n]`` to kill the process exactly there.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from selib._locks import holder as _holder, try_lock as _try_lock, unlock as _unlock
from selib.errors import ModelFileError, RunFolderError, RunLockedError
from selib.training.config import as_recorded
from selib.training.integrity import fingerprint, fingerprint_bytes, problem, problems, sealed, unsealed

__all__ = ["RunFolder", "ResumeState", "atomic_write", "crash_point", "SimulatedCrash",
           "refuse_out_inside_data"]

FORMAT = 1
CRASH_ENV = "SELIB_CRASH_AT"           # e.g. "commit#2": the 2nd time that point is reached
CRASH_MODE_ENV = "SELIB_CRASH_MODE"    # "exit" (default: os._exit, like kill -9) or "raise"
_RUN_FILES = ("manifest.json", "config.json", "preprocessing.json", "model.keras", "history.csv",
              "metrics.json", "classes.json")
#: what a finished run is made of; the first two can be re-derived from the manifest's config,
#: metrics.json by testing model.keras again; the model and its history cannot
FINISHED_FILES = ("config.json", "preprocessing.json", "metrics.json", "model.keras", "history.csv")
REDERIVABLE = ("config.json", "preprocessing.json", "metrics.json")
_hits: dict[str, int] = {}


class SimulatedCrash(BaseException):
    """Raised at a crash point in ``raise`` mode (a BaseException, so nothing swallows it)."""


def crash_point(name: str) -> None:
    """Die here if ``SELIB_CRASH_AT`` names this point (fault injection; a no-op otherwise)."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    target, _, nth = spec.partition("#")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] != int(nth or 1):
        return
    if os.environ.get(CRASH_MODE_ENV) == "raise":
        raise SimulatedCrash(name)
    os._exit(137)


def reset_crash_points() -> None:
    """Forget how often each crash point was reached (between in-process fault tests)."""
    _hits.clear()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):   # not possible on Windows: harmless
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _tmp_name(path: Path) -> Path:
    """A temporary name beside ``path`` that keeps its suffixes (Keras insists on ``.keras``)."""
    return path.with_name(f".tmp-{os.getpid()}-{path.name}")


def atomic_save(path: str | os.PathLike, save: Callable[[Path], Any]) -> Path:
    """Call ``save(tmp)`` then flush and rename ``tmp`` to ``path`` — all or nothing."""
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        save(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        crash_point(f"write:{path.name}")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)
    return path


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write text or bytes to ``path`` atomically (see :func:`atomic_save`)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return atomic_save(path, lambda tmp: Path(tmp).write_bytes(raw))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write(path, _json_text(obj))


def _json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default) + "\n"


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class ResumeState:
    """What a committed backup holds: epochs done, the history, and the best epoch so far."""

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best: dict | None = None              # {"epoch", "monitor", "value"}
    weights: str | None = None            # file name inside backup/
    pending_model: str | None = None      # best candidate not yet published as model.keras
    files: dict = field(default_factory=dict)   # fingerprints: the backup's files, model.keras


class RunFolder:
    """One run's folder and the rules for writing it (see the module docstring)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.backup = self.path / "backup"

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    # -- the lock -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator["RunFolder"]:
        """Hold the folder's lock for the duration (one trainer per folder)."""
        self._make()
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                raise RunLockedError(f"{self.path} is in use by another selib train "
                                     f"(PID {_holder(fd)}); wait for it to finish or use another --out")
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield self
        finally:
            _unlock(fd)
            os.close(fd)

    def _make(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"--out {self.path} is a file, not a folder")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise RunFolderError(f"cannot write the run folder {self.path}: {exc.strerror or exc}") from exc

    # -- the manifest ---------------------------------------------------------------------------
    def manifest(self) -> dict | None:
        """The manifest, ``None`` if there is none; a damaged one is an error (never guessed)."""
        path = self.file("manifest.json")
        if not path.exists():
            return None
        try:
            m = json.loads(path.read_text())
            if not isinstance(m, dict) or m.get("format") != FORMAT:
                raise ValueError("unknown manifest format")
            m = unsealed(m)
            return {**m, "config": as_recorded(m["config"])} if "config" in m else m
        except (OSError, ValueError) as exc:
            raise RunFolderError(f"{path} is damaged ({exc}); pass --overwrite to start this run "
                                 "afresh, or use another --out") from exc

    def _write_manifest(self, m: dict) -> None:
        write_json(self.file("manifest.json"), sealed(m))

    def damage(self, manifest: dict) -> dict[str, str]:
        """``{file: what is wrong}`` for the files of a finished run that fail their check.

        A manifest written before fingerprints existed names none: its files need only exist
        (unverified, trusted)."""
        recorded = manifest.get("files")
        if recorded is None:
            recorded = dict.fromkeys(("model.keras", "preprocessing.json", "metrics.json"))
        return {name: p for name, fp in recorded.items() if (p := problem(self.file(name), fp))}

    def verify_finished(self) -> dict:
        """The manifest of a finished, intact run, or :class:`ModelFileError` in one line."""
        try:
            m = self.manifest()
        except RunFolderError as exc:
            raise ModelFileError(str(exc)) from exc
        if m is None or m.get("state") != "finished":
            raise ModelFileError(f"{self.path} holds no finished selib run")
        bad = self.damage(m)
        if bad:
            raise ModelFileError(f"{self.path} is damaged: {'; '.join(bad.values())}; run the same "
                                 "`selib train` to repair what can be re-derived")
        return m

    def expected_files(self) -> dict[str, dict | None]:
        """The recorded fingerprints of the run's files as they stand now, for a reader that
        must not change anything (a finished run: the manifest's; an unfinished one: the
        manifest's and the committed backup's record of model.keras)."""
        m = self.manifest() or {}
        files = dict(m.get("files") or {})
        if m.get("state") != "finished":
            with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                raw = unsealed(json.loads((self.backup / "state.json").read_text()))
                record = dict(raw.get("files") or {})
                pending = raw.get("pending_model")
                if pending and not (self.backup / pending).exists():
                    record["model.keras"] = record.get(pending)
                if record.get("model.keras"):
                    files["model.keras"] = record["model.keras"]
        return files

    def is_finished(self, config_dict: dict | None = None, fingerprint: str | None = None) -> bool:
        """Finished = the manifest says so, the model is there, and (if given) config and data match."""
        try:
            m = self.manifest()
        except RunFolderError:
            return False
        if m is None or m.get("state") != "finished" or self.damage(m):
            return False
        if config_dict is not None and m.get("config") != config_dict:
            return False
        return fingerprint is None or m.get("data", {}).get("fingerprint") == fingerprint

    def mismatch(self, manifest: dict, config, data: dict) -> str | None:
        """What differs between the run in the folder and the one asked for (``None``: nothing)."""
        from selib.training.config import TrainConfig

        try:
            previous = TrainConfig.from_dict(manifest["config"])
        except Exception:  # noqa: BLE001 - any unreadable config is a difference
            return "its config cannot be read"
        diffs = previous.differences(config)
        if diffs:
            return "another config (" + ", ".join(diffs[:4]) + (", ..." if len(diffs) > 4 else "") + ")"
        old = manifest.get("data", {})
        if old.get("fingerprint") != data.get("fingerprint"):
            return (f"another dataset: it was started on {old.get('root')} ({old.get('files')} files, "
                    f"fingerprint {str(old.get('fingerprint'))[:10]}) but the data now is {data.get('root')} "
                    f"({data.get('files')} files, fingerprint {str(data.get('fingerprint'))[:10]})")
        return None

    # -- starting -------------------------------------------------------------------------------
    def begin(self, config, data: dict, class_names: list[str], preprocessing: dict, *,
              overwrite: bool = False) -> str:
        """Decide and prepare: ``"finished"``, ``"resume"`` or ``"fresh"`` (see the module doc).

        Refuses, in one line, a folder holding another run (other config or data) unless
        ``overwrite``; a run that was never started properly is started afresh.
        """
        self._drop_stale_temporaries()
        manifest = None if overwrite else self.manifest()
        if manifest is None:
            foreign = [n for n in _RUN_FILES if self.file(n).exists()] + (["backup/"] if self.backup.exists() else [])
            if foreign and not overwrite:
                raise RunFolderError(f"{self.path} holds files of a run selib cannot verify "
                                     f"({', '.join(foreign)}); pass --overwrite to replace them, "
                                     "or use another --out")
            return self._fresh(config, data, class_names, preprocessing)
        problem = self.mismatch(manifest, config, data)
        if problem:
            what = "a finished run" if manifest.get("state") == "finished" else "an unfinished run"
            raise RunFolderError(f"{self.path} holds {what} of {problem}; pass --overwrite to replace "
                                 "it, or use another --out")
        if manifest.get("state") == "finished":
            return self._check_finished(manifest, config, preprocessing)
        state = self.load_state()
        if state is None:   # killed before its first epoch was committed
            return self._fresh(config, data, class_names, preprocessing)
        self.publish(state)   # finish a publish that a crash after the commit interrupted
        return "resume"

    def _check_finished(self, manifest: dict, config, preprocessing: dict) -> str:
        """``"finished"`` for an intact run; re-derive config/preprocessing files that fail their
        check (``"refinish"`` when metrics.json must be made again by testing the model);
        refuse in one line a run whose model or history is damaged."""
        self._drop_backup()
        bad = self.damage(manifest)
        lost = {n: p for n, p in bad.items() if n not in REDERIVABLE}
        if lost:
            raise RunFolderError(f"{self.path} holds a finished run that is damaged ({'; '.join(lost.values())}) "
                                 "and cannot be re-derived; pass --overwrite to train it again, or use another --out")
        if not bad:
            return "finished"
        import warnings

        warnings.warn(f"{self.path}: {'; '.join(bad.values())}; re-deriving it", RuntimeWarning, stacklevel=4)
        files = dict(manifest.get("files") or {})
        if "config.json" in bad:
            files["config.json"] = fingerprint(atomic_write(self.file("config.json"), config.to_json()))
        if "preprocessing.json" in bad:
            files["preprocessing.json"] = fingerprint(write_json(self.file("preprocessing.json"), preprocessing))
        self._write_manifest({**manifest, "files": files})
        return "refinish" if "metrics.json" in bad else "finished"

    def _fresh(self, config, data: dict, class_names: list[str], preprocessing: dict) -> str:
        # an older run's backup goes before anything else: once the new manifest is written, a
        # backup in the folder is taken as this run's own and would be resumed
        self._drop_backup()
        # then the new manifest: from here on the folder says "this run, unfinished", so a crash
        # below can never leave an older run's model looking like this run's result
        # (it records the fingerprints of the two files below before they are written: until
        # they are, a reader finds the older files refused, never taken for this run's)
        config_text, spec_text = config.to_json(), _json_text(preprocessing)
        self._write_manifest({
            "format": FORMAT, "state": "training", "config": config.to_dict(),
            "class_names": list(class_names), "data": data, "started": _now(),
            "files": {"config.json": fingerprint_bytes(config_text.encode()),
                      "preprocessing.json": fingerprint_bytes(spec_text.encode())}})
        crash_point("fresh:manifest")
        for name in _RUN_FILES[3:]:
            self.file(name).unlink(missing_ok=True)
        self._drop_backup()
        atomic_write(self.file("config.json"), config_text)
        atomic_write(self.file("preprocessing.json"), spec_text)
        return "fresh"

    def _drop_stale_temporaries(self) -> None:
        """Half-written files a killed process left (only the lock holder writes here)."""
        for tmp in self.path.glob(".tmp-*"):
            tmp.unlink(missing_ok=True)

    def _drop_backup(self) -> None:
        if self.backup.exists():
            shutil.rmtree(self.backup, ignore_errors=True)

    # -- the committed backup -------------------------------------------------------------------
    def load_state(self) -> ResumeState | None:
        """The committed state, or ``None`` (no backup, or a damaged one: then a clean restart)."""
        path = self.backup / "state.json"
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text())
            state = ResumeState(**unsealed(raw))
            if not state.weights or not (self.backup / state.weights).is_file():
                raise ValueError(f"{state.weights or 'the weights file'} is missing")
            if not isinstance(state.files, dict):
                raise ValueError("its file list is not a record")
        except (OSError, ValueError, TypeError) as exc:
            self.discard_backup(f"its state cannot be read ({exc})")
            return None
        if state.pending_model and not (self.backup / state.pending_model).is_file():
            # already published as model.keras (a crash came after the publish, before the next commit)
            state.files["model.keras"] = state.files.pop(state.pending_model, None)
            state.pending_model = None
        checks = [state.weights, *([state.pending_model] if state.pending_model else [])]
        bad = problems(self.backup, {n: state.files.get(n) for n in checks})
        if state.files.get("model.keras"):
            bad += problems(self.path, {"model.keras": state.files["model.keras"]})
        if bad:
            self.discard_backup("; ".join(bad))
            return None
        return state

    def discard_backup(self, why: str) -> None:
        """Drop a damaged backup with a one-line message, so the run restarts cleanly."""
        import warnings

        warnings.warn(f"the backup in {self.backup} is damaged: {why}; restarting this run from "
                      "epoch 1", RuntimeWarning, stacklevel=3)
        self._drop_backup()
        self.file("history.csv").unlink(missing_ok=True)
        self.file("model.keras").unlink(missing_ok=True)

    def commit_epoch(self, state: ResumeState, save_weights: Callable[[Path], Any],
                     save_model: Callable[[Path], Any] | None) -> None:
        """Write one epoch's backup, commit it, publish it (see the module docstring)."""
        self.backup.mkdir(exist_ok=True)
        tag = f"epoch{state.epoch:05d}"
        state.weights = f"{tag}.weights.h5"
        files = {"model.keras": state.files.get("model.keras")}
        files[state.weights] = fingerprint(atomic_save(self.backup / state.weights, save_weights))
        if save_model is not None:
            state.pending_model = f"best-{tag}.keras"
            files[state.pending_model] = fingerprint(atomic_save(self.backup / state.pending_model, save_model))
        state.files = {k: v for k, v in files.items() if v}
        crash_point("commit")
        write_json(self.backup / "state.json", sealed(state.__dict__))
        crash_point("committed")
        self.publish(state)

    def publish(self, state: ResumeState) -> None:
        """Make model.keras and history.csv agree with the committed state (idempotent)."""
        if state.pending_model and (self.backup / state.pending_model).exists():
            os.replace(self.backup / state.pending_model, self.file("model.keras"))
            _fsync_dir(self.path)
            crash_point("publish:model")
        if state.pending_model:
            state.files["model.keras"] = state.files.pop(state.pending_model, None)
        state.pending_model = None
        write_history(self.file("history.csv"), state.history)
        keep = {"state.json", state.weights}
        for old in self.backup.iterdir():
            if old.name not in keep:
                old.unlink(missing_ok=True)

    # -- finishing ------------------------------------------------------------------------------
    def finish(self, metrics: dict) -> None:
        """metrics.json, then the manifest says "finished" with the fingerprint of every file
        of the run, then the backup goes."""
        write_json(self.file("metrics.json"), metrics)
        m = self.manifest() or {}
        files, made_now = dict(m.get("files") or {}), ("model.keras", "history.csv", "metrics.json")
        files.update({n: fingerprint(self.file(n)) for n in FINISHED_FILES
                      if self.file(n).is_file() and (n in made_now or n not in files)})
        m.update(state="finished", finished=_now(), files=files)
        self._write_manifest(m)
        crash_point("finished")
        self._drop_backup()


def refuse_out_inside_data(data_dir: str | os.PathLike, out_dir: str | os.PathLike) -> None:
    """A run folder is never part of its own data: its files would change the data's fingerprint
    (and could be scanned as a class), so no later run could resume or re-run it."""
    data, out = Path(data_dir).resolve(), Path(out_dir).resolve()
    if out == data or data in out.parents:
        raise RunFolderError(f"--out {out_dir} lies inside --data {data_dir}: a run folder must not be "
                             "part of its own data; choose an --out outside the data folder")


def write_history(path: Path, rows: list[dict]) -> None:
    """history.csv from the committed rows (one per epoch, columns in first-seen order)."""
    cols: list[str] = []
    for row in rows:
        cols += [k for k in row if k not in cols]
    lines = [",".join(cols)]
    for row in rows:
        lines.append(",".join(_csv(row.get(c)) for c in cols))
    atomic_write(path, "\n".join(lines) + "\n")


def _csv(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "nan" if math.isnan(v) else repr(v)
    return str(v)
