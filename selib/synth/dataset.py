"""Public API: render one image, write a whole dataset folder, or make sure the built-in one exists.

The folder layout is exactly what a user's own photos use (`<root>/<class>/*.jpg`), so every
notebook runs the same loader on either. Each image gets its own RNG seeded from
(seed, class, index): images are independent, generation parallelises across processes, and the
same seed and count give byte-identical files whatever the number of workers.
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import cv2
import numpy as np

from selib._children import interrupts_held, worker_pool
from selib.synth.render import render_scene

CLASSES: tuple[str, ...] = ("bench", "chair", "office_chair", "sofa")
DEFAULT_DIR = Path("data") / "synthchairs"
DEFAULT_PER_CLASS = 300
SHORT_RANGE = (300, 1200)          # output short side, pixels
QUALITY_RANGE = (60, 95)           # JPEG quality
MANIFEST = "synth.json"


def _renderer_version() -> str:
    """A digest of the renderer's source files.

    Derived rather than a hand-bumped number: a renderer edit that changes the pictures but
    forgets the bump left a stale built-in folder that `ensure_builtin` took for current (it
    happened). Any edit to these files now regenerates the folder on next use."""
    import hashlib

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("geometry.py", "furniture.py", "render.py", "dataset.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


RENDERER_VERSION = _renderer_version()


def _rng(class_name: str, index: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), CLASSES.index(class_name), int(index), 0x5E1B])


def render_image(class_name: str, index: int, seed: int = 0,
                 short_range: tuple[int, int] = SHORT_RANGE) -> tuple[np.ndarray, dict]:
    """Render image `index` of `class_name`: (H, W) uint8 grey image and its sampled parameters."""
    if class_name not in CLASSES:
        raise ValueError(f"unknown class {class_name!r}; expected one of {CLASSES}")
    rng = _rng(class_name, index, seed)
    img, params = render_scene(class_name, rng, short_range)
    params = {"class": class_name, "index": int(index), "seed": int(seed), **params,
              "quality": int(rng.integers(QUALITY_RANGE[0], QUALITY_RANGE[1] + 1))}
    return img, params


def encode_jpeg(img: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality),
                                          cv2.IMWRITE_JPEG_OPTIMIZE, 0])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _job(args: tuple[str, int, int, str, tuple[int, int]]) -> dict:
    class_name, index, seed, out_dir, short_range = args
    img, params = render_image(class_name, index, seed, short_range)
    rel = f"{class_name}/{class_name}_{index:04d}.jpg"
    _write_atomic(Path(out_dir) / rel, encode_jpeg(img, params["quality"]))
    return {"path": rel, **params}


def _write_atomic(path: Path, data: bytes) -> None:
    """Write then rename, so a reader (or a second generator) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already; OpenCV's own threads only fight them


def _manifest(per_class: int, seed: int, short_range: tuple[int, int]) -> dict:
    return {"renderer_version": RENDERER_VERSION, "classes": list(CLASSES), "per_class": per_class,
            "seed": seed, "short_range": list(short_range), "quality_range": list(QUALITY_RANGE)}


def is_current(out_dir: str | os.PathLike, per_class: int = DEFAULT_PER_CLASS, seed: int = 0,
               short_range: tuple[int, int] = SHORT_RANGE) -> bool:
    """True when `out_dir` holds a complete dataset made with these settings by this renderer."""
    out = Path(out_dir)
    try:
        if json.loads((out / MANIFEST).read_text()) != _manifest(per_class, seed, tuple(short_range)):
            return False
    except (OSError, ValueError):
        return False
    if not (out / "metadata.csv").is_file():
        return False
    return all((out / c / f"{c}_{i:04d}.jpg").is_file() for c in CLASSES for i in range(per_class))


def generate(out_dir: str | os.PathLike = DEFAULT_DIR, per_class: int = DEFAULT_PER_CLASS,
             seed: int = 0, workers: int | None = None, progress: bool = True,
             short_range: tuple[int, int] = SHORT_RANGE, force: bool = False) -> Path:
    """Write `out_dir/<class>/<class>_<index>.jpg` for every class plus `metadata.csv`.

    Skips the work when the folder is already complete and current (see `synth.json`), unless
    `force`. `workers` defaults to all cores; 1 renders in this process.
    """
    out = Path(out_dir)
    short_range = (int(short_range[0]), int(short_range[1]))
    if not force and is_current(out, per_class, seed, short_range):
        return out
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)          # incomplete until the end
    for c in CLASSES:
        (out / c).mkdir(exist_ok=True)
        for stale in (out / c).glob(f"{c}_*.jpg"):     # a smaller or older set must not linger
            stale.unlink()
    jobs = [(c, i, seed, str(out), short_range) for c in CLASSES for i in range(per_class)]
    workers = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    rows: list[dict] = []
    bar = _bar(len(jobs), progress, f"synth -> {out}")
    if workers == 1 or len(jobs) < 8:
        for j in jobs:
            rows.append(_job(j))
            bar.update(1)
    else:
        # spawn, never fork: a process forked after TensorFlow's or OpenCV's thread pools have
        # run can deadlock on a lock one of those threads held (seen in the test suite). Each
        # worker pays one `import selib` (a few seconds) instead.
        # (workers die with this process, even after kill -9: selib._children)
        with worker_pool(workers, _init_worker) as ex:
            with interrupts_held():
                results = ex.map(_job, jobs, chunksize=8)
            for row in results:
                rows.append(row)
                bar.update(1)
    bar.close()
    _write_metadata(out / "metadata.csv", rows)
    _write_atomic(out / MANIFEST, (json.dumps(_manifest(per_class, seed, short_range), indent=1)
                                   + "\n").encode())
    return out


def _bar(total: int, progress: bool, desc: str):
    from tqdm import tqdm   # tqdm.auto warns into notebooks without ipywidgets
    return tqdm(total=total, desc=desc, unit="img", disable=not progress)


def _write_metadata(path: Path, rows: list[dict]) -> None:
    """One row per image; columns are the union over classes (blank where a class has no such part)."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})
    _write_atomic(path, buf.getvalue().encode())


def ensure_builtin(root: str | os.PathLike = "data", name: str = "synthchairs",
                   per_class: int = DEFAULT_PER_CLASS, seed: int = 0, progress: bool = True) -> Path:
    """The built-in dataset at `root/name`, generated on first use (about half a minute)."""
    return generate(Path(root) / name, per_class=per_class, seed=seed, progress=progress)
