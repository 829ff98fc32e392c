"""The on-disk cache of decoded images: what makes the second ``load_images`` nearly free.

A cache is two files named by a key: ``<key>.npy`` (the images, a plain array NumPy reads
straight into memory, about twice as fast as out of a zip member) and ``<key>.npz`` (labels,
relative paths, load-time failures and a ``meta`` record). The ``.npz`` is written last, by
an atomic rename, so it marks a complete cache.

The cache checks itself on every load, because a cache that trusts itself serves damage as
data: ``meta`` records the images' shape, dtype and CRC-32, and the load compares all three
(and the shape the caller's options imply) before a single image is served. A mismatch warns
in one line and the images are decoded again. The ``.npz`` members need no extra checksum:
the zip format stores a CRC-32 per member and NumPy's reader verifies it. CRC-32 is there to
catch accidents (a bad disk, a half-copied file, a stray write), not an attacker: whoever can
write the array can write its checksum too.

The CRC is computed chunk by chunk (4 MiB) while the file is read into the array, while each
chunk is still in the CPU cache, so the check costs about as much as reading the array once more
from memory: far less than decoding the photos again. (CRC-32 is the cheapest of the common
checksums in Python's standard library; sha256 and blake2b take two to three times as long.)

The key: every file's relative path, label, size, ``mtime_ns`` and ``ctime_ns`` (the status
change time, which ``touch``/``os.utime``/``cp -p`` cannot set back, so a file rewritten at
the same size with its old mtime restored still gets a new key), plus the options, the cache
format and OpenCV's version. The key does *not* hash the files' contents, a conscious choice:
reading and hashing every original would make each cached load several times slower than the
``stat`` calls the key needs on a warm disk, far slower on a cold disk or a network share, and
it grows with the size of the originals (4000-px photos: gigabytes), not with the size of the
cache. What it would add, a same-size rewrite whose mtime *and* ctime both stay put, needs a
clock change or a raw disk write; ``load_images(..., use_cache=False)`` (``--no-cache``) or
:func:`clear_cache` (``selib cache clear``) cover that. Copying the folder elsewhere changes
ctime, so a copied cache is rebuilt once: slower, never wrong.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

__all__ = ["CACHE_VERSION", "cache_file", "clear_cache", "default_cache_dir", "read_cache",
           "write_cache"]

CACHE_VERSION = 2
_CHUNK = 1 << 22  # 4 MiB: large enough to keep syscalls few, small enough to stay in cache
_PATTERN = "images-*.np[yz]"


class _Damaged(Exception):
    """Why a cache file cannot be trusted (turned into one warning line)."""


def cache_file(rows: pd.DataFrame, class_names: list[str], options: dict,
               cache_dir: Path) -> Path:
    """The ``.npz`` path for these files and options.

    The name starts with the options (readable, and one prefix per option set), then a hash
    of every file's relative path, label, size, mtime and ctime: any added, removed, renamed
    or rewritten file gives a new name.
    """
    opts = hashlib.sha256(json.dumps({"v": CACHE_VERSION, "cv2": cv2.__version__, **options},
                                     sort_keys=True).encode()).hexdigest()[:8]
    lines = "\n".join(f"{r}\0{lab}\0{b}\0{m}\0{c}" for r, lab, b, m, c in zip(
        rows["rel_path"].tolist(), rows["label"].tolist(), rows["_bytes"].tolist(),
        rows["_mtime"].tolist(), rows["_ctime"].tolist()))
    h = hashlib.sha256(json.dumps(class_names).encode() + b"\n" + lines.encode())
    th, tw = options["size"]
    prefix = f"images-{options['color']}-{th}x{tw}-{options['fit']}-{opts}-"
    return cache_dir / f"{prefix}{h.hexdigest()[:16]}.npz"


def _read_npy_checked(path: Path, shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Read a ``.npy`` of uint8 ``shape`` into a fresh array, with its CRC-32 on the way."""
    with open(path, "rb", buffering=0) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            got, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            got, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise _Damaged(f"unsupported .npy format {version}")
        if tuple(got) != tuple(shape) or dtype != np.uint8 or fortran:
            raise _Damaged(f"images are {tuple(got)} {dtype}, expected {tuple(shape)} uint8")
        out = np.empty(shape, np.uint8)
        view, crc, at = memoryview(out.reshape(-1)), 0, 0
        while at < len(view):
            n = f.readinto(view[at:at + _CHUNK])
            if not n:
                raise _Damaged(f"the images file ends early ({at} of {len(view)} bytes)")
            crc = zlib.crc32(view[at:at + n], crc)
            at += n
        if f.read(1):
            raise _Damaged("the images file is longer than its header says")
    return out, crc


def read_cache(path: Path | None, image_shape: tuple[int, int, int]) -> dict | None:
    """The cached arrays, or None when there is no cache or it fails its own checks.

    ``image_shape`` is ``(H, W, C)`` as the caller's options imply; the image count comes from
    the labels. Every check failure warns once and returns None, so the caller rebuilds.
    """
    if path is None:
        return None
    images = path.with_suffix(".npy")
    if not (path.is_file() and images.is_file()):
        return None
    try:
        with np.load(path, allow_pickle=False) as z:  # zip members: CRC-checked by zipfile
            out = {k: z[k] for k in ("labels", "paths", "failed", "failed_reason", "meta")}
        meta = json.loads(str(out.pop("meta")))
        shape = (len(out["labels"]), *image_shape)
        if (meta.get("version") != CACHE_VERSION or tuple(meta.get("shape", ())) != shape
                or meta.get("dtype") != "uint8"):
            raise _Damaged(f"its record says {meta.get('shape')} {meta.get('dtype')} "
                           f"(v{meta.get('version')}), expected {list(shape)} uint8 "
                           f"(v{CACHE_VERSION})")
        out["images"], crc = _read_npy_checked(images, shape)
        if crc != meta.get("crc32"):
            raise _Damaged(f"the images fail their checksum (crc32 {crc}, recorded "
                           f"{meta.get('crc32')}): the file was damaged after it was written")
        return out
    except Exception as exc:  # a half-written, damaged or foreign file: rebuild it
        warnings.warn(f"ignoring unreadable cache {path}: {exc}; decoding the images again",
                      stacklevel=3)
        return None


def write_cache(path: Path, images: np.ndarray, **arrays: np.ndarray) -> None:
    """Write both files atomically (the ``.npz`` last), then drop older caches of these options.

    A failure to write (read-only or full disk) warns and goes on: the cache is a speed-up.
    """
    images = np.ascontiguousarray(images, np.uint8)
    meta = {"version": CACHE_VERSION, "shape": list(images.shape), "dtype": "uint8",
            "crc32": zlib.crc32(memoryview(images.reshape(-1)))}
    tag = f".tmp{os.getpid()}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path.with_suffix(f"{tag}.npy"), images)
        np.savez(path.with_suffix(f"{tag}.npz"), meta=np.array(json.dumps(meta)), **arrays)
        # atomic renames, the .npz last: a crash never leaves a cache that looks complete
        os.replace(path.with_suffix(f"{tag}.npy"), path.with_suffix(".npy"))
        os.replace(path.with_suffix(f"{tag}.npz"), path)
        prefix = path.stem.rsplit("-", 1)[0]  # the options part of the name
        for old in path.parent.glob(f"{prefix}-*.np[yz]"):
            if old.stem != path.stem:  # one cache per option set, not a pile
                old.unlink(missing_ok=True)
    except OSError as exc:
        warnings.warn(f"could not write the image cache to {path.parent}: {exc}", stacklevel=3)


def default_cache_dir(root: Path | None) -> Path:
    """``<root>/.cache`` next to the photos, unless the folder is read-only (shared or mounted
    data, marked so on purpose): then a per-user cache, so nothing is written into it."""
    if root is None:
        return Path("data") / ".cache"
    try:
        writable = os.access(root, os.W_OK) and bool(root.stat().st_mode & 0o222)
    except OSError:
        writable = False
    return root / ".cache" if writable else user_cache_dir(root)


def user_cache_dir(root: Path) -> Path:
    """The per-user cache folder for a data folder (``$XDG_CACHE_HOME/selib/<hash>``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "selib" / hashlib.sha256(str(root).encode()).hexdigest()[:16]


def clear_cache(root_or_cache_dir: str | os.PathLike) -> int:
    """Delete selib's cached images for a data folder (or in a cache folder); return the count.

    Given a data folder, both places its cache can be are cleared: ``<root>/.cache`` and the
    per-user folder used when the data is read-only. Given a cache folder (one that holds
    ``images-*.npy``/``.npz`` files), that folder. Only selib's own ``images-*.np[yz]`` files
    (and half-written ``.tmp`` ones) are removed, so a wrong folder loses nothing else; a
    cache folder left empty is removed too. This is what ``selib cache clear`` calls.
    """
    given = Path(root_or_cache_dir).expanduser().absolute()
    if not given.is_dir():
        return 0
    folders = [given] if any(given.glob(_PATTERN)) else [given / ".cache", user_cache_dir(given)]
    removed = 0
    for folder in folders:
        for f in sorted(folder.glob(_PATTERN)) if folder.is_dir() else []:
            f.unlink(missing_ok=True)
            removed += 1
        if folder != given and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed
