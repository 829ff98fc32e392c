"""Where things live: the project root, the built-in dataset, runs — from a notebook or a script."""
from __future__ import annotations

import os
from pathlib import Path


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The folder holding ``data/`` and ``notebooks/`` (a notebook runs in ``notebooks/``, a
    script in the repository root); ``SELIB_ROOT`` overrides; falls back to the current folder."""
    if os.environ.get("SELIB_ROOT"):
        return Path(os.environ["SELIB_ROOT"]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "data").is_dir():
            return folder
    return here


def data_dir(name: str | None = None) -> Path:
    """``SELIB_DATA_DIR`` if set, else ``data/<name>`` (default: the built-in ``synthchairs``)."""
    if name is None and os.environ.get("SELIB_DATA_DIR"):
        return Path(os.environ["SELIB_DATA_DIR"]).resolve()
    return project_root() / "data" / (name or "synthchairs")


def runs_dir() -> Path:
    return project_root() / "runs"
