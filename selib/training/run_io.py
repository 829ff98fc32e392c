"""Reading a run back: its model, config, metrics and history, and the data's identity.

One module for everything that *uses* a run rather than trains it, so :class:`selib.Predictor`,
the CLI and the studies read a run without importing the trainer. The run folder's layout and
guarantees are :mod:`selib.training.run_folder`'s.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from selib.errors import ModelFileError
from selib.training.config import TrainConfig
from selib.training.run_folder import RunFolder

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from selib.data.loading import LoadedImages

__all__ = ["data_info", "load_model", "load_run", "read_history"]


def data_info(loaded: "LoadedImages", root: str | os.PathLike | None = None) -> dict:
    """The data's identity for the manifest: every file's relative path, size and modification
    time (loaded and skipped), hashed. Moving the folder keeps it; changing a file does not."""
    paths = [Path(p).absolute() for p in loaded.paths]
    base = Path(root).absolute() if root is not None else (paths[0].parents[1] if paths else Path("."))
    h = hashlib.sha256("\0".join(loaded.class_names).encode())
    for p in sorted(paths):
        st = p.stat()
        h.update(f"{p.relative_to(base).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for rel in sorted(map(str, loaded.skipped.get("rel_path", []))):
        h.update(f"skipped\0{rel}\n".encode())
    counts = np.bincount(loaded.labels, minlength=len(loaded.class_names)) if len(loaded) else []
    return {"root": str(base), "files": len(paths) + len(loaded.skipped), "loaded": len(paths),
            "per_class": {c: int(n) for c, n in zip(loaded.class_names, counts)},
            "fingerprint": h.hexdigest()}


def load_model(path: str | os.PathLike) -> "keras.Model":
    """A saved selib model (``safe_mode=True``); a missing or damaged file is one clear line."""
    import keras

    import selib.layers  # noqa: F401 - registers selib's layers before loading

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - zip, h5 and config errors all mean "damaged"
        raise ModelFileError(f"{path} is not a loadable Keras model (damaged or not a .keras file: "
                             f"{type(exc).__name__})") from exc


def read_history(run: RunFolder) -> "pd.DataFrame":
    """The run's ``history.csv`` (one row per finished epoch), empty if none was written yet."""
    import pandas as pd

    path = run.file("history.csv")
    return pd.read_csv(path) if path.exists() and path.stat().st_size else pd.DataFrame()


def load_run(run_dir: str | os.PathLike) -> tuple["keras.Model", TrainConfig, dict]:
    """The best model, config and metrics of a finished run."""
    run = RunFolder(run_dir)
    run.verify_finished()          # finished, and every file it records still matches its fingerprint
    metrics = json.loads(run.file("metrics.json").read_text())
    return load_model(run.file("model.keras")), TrainConfig.load(run.file("config.json")), metrics
