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

from selib.errors import RunFolderError, RunLockedError
from selib.training.config import as_recorded

__all__ = ["RunFolder", "ResumeState", "atomic_write", "crash_point", "SimulatedCrash"]

FORMAT = 1
CRASH_ENV = "SELIB_CRASH_AT"           # e.g. "commit#2": the 2nd time that point is reached
CRASH_MODE_ENV = "SELIB_CRASH_MODE"    # "exit" (default: os._exit, like kill -9) or "raise"
_RUN_FILES = ("manifest.json", "config.json", "preprocessing.json", "model.keras", "history.csv",
              "metrics.json", "classes.json")
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
    return atomic_write(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


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
            return {**m, "config": as_recorded(m["config"])} if "config" in m else m
        except (OSError, ValueError) as exc:
            raise RunFolderError(f"{path} is damaged ({exc}); pass --overwrite to start this run "
                                 "afresh, or use another --out") from exc

    def is_finished(self, config_dict: dict | None = None, fingerprint: str | None = None) -> bool:
        """Finished = the manifest says so, the model is there, and (if given) config and data match."""
        try:
            m = self.manifest()
        except RunFolderError:
            return False
        if m is None or m.get("state") != "finished" or not self.file("model.keras").exists():
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
        if manifest.get("state") == "finished" and self.file("model.keras").exists():
            self._drop_backup()
            return "finished"
        state = self.load_state()
        if state is None:   # killed before its first epoch was committed
            return self._fresh(config, data, class_names, preprocessing)
        self.publish(state)   # finish a publish that a crash after the commit interrupted
        return "resume"

    def _fresh(self, config, data: dict, class_names: list[str], preprocessing: dict) -> str:
        # an older run's backup goes before anything else: once the new manifest is written, a
        # backup in the folder is taken as this run's own and would be resumed
        self._drop_backup()
        # then the new manifest: from here on the folder says "this run, unfinished", so a crash
        # below can never leave an older run's model looking like this run's result
        write_json(self.file("manifest.json"), {
            "format": FORMAT, "state": "training", "config": config.to_dict(),
            "class_names": list(class_names), "data": data, "started": _now()})
        crash_point("fresh:manifest")
        for name in _RUN_FILES[3:]:
            self.file(name).unlink(missing_ok=True)
        self._drop_backup()
        atomic_write(self.file("config.json"), config.to_json())
        write_json(self.file("preprocessing.json"), preprocessing)
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
            state = ResumeState(**raw)
            if not state.weights or not (self.backup / state.weights).is_file():
                raise ValueError(f"{state.weights or 'the weights file'} is missing")
            if state.pending_model and not (self.backup / state.pending_model).is_file():
                state.pending_model = None   # already published as model.keras
            return state
        except (OSError, ValueError, TypeError) as exc:
            self.discard_backup(f"its state cannot be read ({exc})")
            return None

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
        atomic_save(self.backup / state.weights, save_weights)
        if save_model is not None:
            state.pending_model = f"best-{tag}.keras"
            atomic_save(self.backup / state.pending_model, save_model)
        crash_point("commit")
        write_json(self.backup / "state.json", state.__dict__)
        crash_point("committed")
        self.publish(state)

    def publish(self, state: ResumeState) -> None:
        """Make model.keras and history.csv agree with the committed state (idempotent)."""
        if state.pending_model and (self.backup / state.pending_model).exists():
            os.replace(self.backup / state.pending_model, self.file("model.keras"))
            _fsync_dir(self.path)
            crash_point("publish:model")
        state.pending_model = None
        write_history(self.file("history.csv"), state.history)
        keep = {"state.json", state.weights}
        for old in self.backup.iterdir():
            if old.name not in keep:
                old.unlink(missing_ok=True)

    # -- finishing ------------------------------------------------------------------------------
    def finish(self, metrics: dict) -> None:
        """metrics.json, then the manifest says "finished", then the backup goes."""
        write_json(self.file("metrics.json"), metrics)
        m = self.manifest() or {}
        m.update(state="finished", finished=_now())
        write_json(self.file("manifest.json"), m)
        crash_point("finished")
        self._drop_backup()


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


def _try_lock(fd: int) -> bool:
    try:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False


def _unlock(fd: int) -> None:
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
    except ImportError:
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 32).decode().strip() or "unknown"
    except OSError:
        return "unknown"
