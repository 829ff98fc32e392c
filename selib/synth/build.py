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

__all__ = ["generate", "ensure_builtin", "builtin_size", "PROFILE_PER_CLASS"]

#: The built-in set's images per class under a profile, where it is not the full set. The ``ci``
#: profile trains on 40 images per class and the dataset's learnability test reads 150, so a
#: test run renders half the scenes (the renders are the same: image ``i`` of a class depends
#: only on the seed, the class and ``i``). Every other profile gets the full set.
PROFILE_PER_CLASS: dict[str, int] = {"ci": 150}


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


def builtin_size(profile: str | None = None) -> tuple[str, int]:
    """(folder name, images per class) of the built-in set that ``profile`` trains on: the full
    set in ``synthchairs``, or a smaller one in ``synthchairs_<per class>`` (:data:`PROFILE_PER_CLASS`),
    so that a small profile never replaces the full set a learner has rendered."""
    per_class = PROFILE_PER_CLASS.get(profile or "", DEFAULT_PER_CLASS)
    return ("synthchairs" if per_class == DEFAULT_PER_CLASS else f"synthchairs_{per_class}"), per_class


def ensure_builtin(root: str | os.PathLike = "data", name: str | None = None,
                   per_class: int | None = None, seed: int = 0, progress: bool = True,
                   profile: str | None = None) -> Path:
    """The built-in dataset at `root/name`, generated on first use (about half a minute).

    ``profile`` (a resolved profile name) picks the set's size and folder (:func:`builtin_size`);
    ``name`` and ``per_class`` override them."""
    sized_name, sized_per_class = builtin_size(profile)
    return generate(Path(root) / (name or sized_name), per_class=per_class or sized_per_class, seed=seed,
                    progress=progress)
