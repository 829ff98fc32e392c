"""Build a rendered folder one process at a time.

Two processes that need the built-in dataset on a fresh machine (two notebooks opened at once,
two test workers) would otherwise both render it, and the second would delete the files the
first is writing. :func:`generate` takes a lock beside the folder first; the second process
waits, and :func:`selib.synth.dataset.generate` then finds the set current and returns.

The lock lives here, not in :mod:`selib.synth.dataset`, because that module's source is part of
the renderer's version: editing it would mark every rendered folder stale.
"""
from __future__ import annotations

import os
from pathlib import Path

from selib._locks import held
from selib.synth import dataset
from selib.synth.dataset import DEFAULT_DIR, DEFAULT_PER_CLASS, SHORT_RANGE

__all__ = ["generate", "ensure_builtin"]


def generate(out_dir: str | os.PathLike = DEFAULT_DIR, per_class: int = DEFAULT_PER_CLASS,
             seed: int = 0, workers: int | None = None, progress: bool = True,
             short_range: tuple[int, int] = SHORT_RANGE, force: bool = False) -> Path:
    """:func:`selib.synth.dataset.generate` under the folder's lock (``.<name>.lock`` beside it,
    so that scanning the folder never meets it)."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with held(out.parent / f".{out.name}.lock"):
        return dataset.generate(out, per_class=per_class, seed=seed, workers=workers, progress=progress,
                                short_range=short_range, force=force)


def ensure_builtin(root: str | os.PathLike = "data", name: str = "synthchairs",
                   per_class: int = DEFAULT_PER_CLASS, seed: int = 0, progress: bool = True) -> Path:
    """The built-in dataset at `root/name`, generated on first use (about half a minute)."""
    return generate(Path(root) / name, per_class=per_class, seed=seed, progress=progress)
