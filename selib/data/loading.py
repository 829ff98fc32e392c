"""Decode a scanned photo folder into one uint8 array, fast, with an on-disk cache.

Speed comes from well-kept tools rather than clever code: libjpeg's DCT scaling (OpenCV's
``IMREAD_REDUCED_*`` flags decode a 4000-px JPEG straight to 1/2, 1/4 or 1/8 of its size),
``cv2.INTER_AREA`` for the last step, a thread pool (OpenCV releases the GIL while it decodes)
and, above all, an on-disk cache. DCT scaling saves the inverse DCT and the big resize, not
the entropy (Huffman) decoding every JPEG decode must do, so a cold load is bounded by that
and by the number of cores; the cache is what makes the second load nearly free.
A file that fails to decode is reported in ``skipped`` with the reason; the run goes on and
nothing else is lost.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from selib.data.scanning import COLUMNS, ScanResult, scan

__all__ = ["DecodeError", "LoadedImages", "decode_image", "load_images"]

_CACHE_VERSION = 1
_COLORS = ("grayscale", "rgb")
_FITS = ("squash", "pad", "crop")
_JPEG_FORMATS = {"JPEG", "MPO"}


class DecodeError(ValueError):
    """An image file could not be decoded; the message says why."""


def _hw(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, (int, np.integer)) else size
    if int(h) < 1 or int(w) < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return int(h), int(w)


def _check(color: str, fit: str) -> None:
    if color not in _COLORS:
        raise ValueError(f"color must be one of {_COLORS}, got {color!r}")
    if fit not in _FITS:
        raise ValueError(f"fit must be one of {_FITS}, got {fit!r}")


def _reduction(h: int, w: int, th: int, tw: int, fit: str) -> int:
    """The largest libjpeg scale-down (1, 2, 4, 8) that leaves enough pixels to resize from."""
    room = max(h / th, w / tw) if fit == "pad" else min(h / th, w / tw)
    return next((k for k in (8, 4, 2) if room >= k), 1)


def _orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) so the image is upright."""
    ops = {
        2: lambda a: cv2.flip(a, 1),
        3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
        4: lambda a: cv2.flip(a, 0),
        5: lambda a: cv2.transpose(a),
        6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
        7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),
        8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    op = ops.get(orientation)
    if op is None:
        return img
    out = op(img)
    return out[..., None] if img.ndim == 3 and out.ndim == 2 else out


def _pillow_decode(data: bytes) -> np.ndarray:
    """Fallback for what OpenCV cannot decode; returns OpenCV layout (gray, BGR or BGRA)."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()  # raises OSError("image file is truncated ...") on a cut-off file
        if im.mode.startswith("I") or im.mode == "F":
            arr = np.asarray(im)
            top = 65535 if im.mode.startswith("I;16") else max(float(arr.max()), 1.0)
            return np.clip(arr.astype(np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
        if "A" in im.getbands() or "transparency" in im.info:
            return cv2.cvtColor(np.asarray(im.convert("RGBA")), cv2.COLOR_RGBA2BGRA)
        return cv2.cvtColor(np.asarray(im.convert("RGB")), cv2.COLOR_RGB2BGR)


def _jpeg_truncated(data: bytes) -> bool:
    """True when a JPEG's scan data has no end-of-image marker.

    OpenCV 5 refuses such files, but OpenCV 4 decodes them with a grey bottom and only prints
    a warning; this walk over the header segments makes both versions report them. Data after
    the end marker (e.g. a phone's "motion photo" video) is fine.
    """
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return False  # not a plain marker stream: leave the verdict to the decoder
        marker = data[i + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
            i += 1 if marker == 0xFF else 2
            continue
        seg = int.from_bytes(data[i + 2:i + 4], "big")
        if marker == 0xDA:  # start of scan: entropy data can never contain FF D9
            return data.rfind(b"\xff\xd9", i + 2 + seg) < 0  # from the end: found at once
        i += 2 + seg
    return True


def _to_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return np.clip(img, 0, 255).astype(np.uint8)


def _on_white(bgra: np.ndarray) -> np.ndarray:
    """Composite BGRA on a white background (transparent product shots are white-backed)."""
    a = bgra[..., 3:4].astype(np.float32) / 255.0
    rgb = bgra[..., :3].astype(np.float32)
    return (rgb * a + 255.0 * (1.0 - a) + 0.5).astype(np.uint8)


def _fit(img: np.ndarray, th: int, tw: int, fit: str, pad_value: int) -> np.ndarray:
    h, w = img.shape[:2]
    if fit == "squash":
        nh, nw = th, tw
    else:
        s = min(th / h, tw / w) if fit == "pad" else max(th / h, tw / w)
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        if fit == "crop":
            nh, nw = max(nh, th), max(nw, tw)
        else:
            nh, nw = min(nh, th), min(nw, tw)
    if (nh, nw) != (h, w):
        interp = cv2.INTER_AREA if nh <= h and nw <= w else cv2.INTER_LINEAR
        img = cv2.resize(img, (nw, nh), interpolation=interp)
        if img.ndim == 2:
            img = img[..., None]
    if fit == "crop":
        y, x = (nh - th) // 2, (nw - tw) // 2
        img = img[y:y + th, x:x + tw]
    elif fit == "pad":
        out = np.full((th, tw, img.shape[2]), pad_value, np.uint8)
        y, x = (th - nh) // 2, (tw - nw) // 2
        out[y:y + nh, x:x + nw] = img
        img = out
    return np.ascontiguousarray(img)


def _header(data: bytes) -> dict:
    """What the decoder needs: upright size, format, mode, alpha and EXIF orientation."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            try:
                orientation = int(im.getexif().get(0x0112, 1) or 1)
            except Exception:  # a broken EXIF block must not hide a decodable image
                orientation = 1
            orientation = orientation if 1 <= orientation <= 8 else 1
            if orientation >= 5:
                w, h = h, w
            return {"width": w, "height": h, "format": im.format, "mode": im.mode,
                    "orientation": orientation,
                    "alpha": "A" in im.getbands() or "transparency" in im.info}
    except Exception as exc:
        raise DecodeError(f"not an image Pillow can identify ({type(exc).__name__}: {exc})"
                          ) from exc


def _header_from_row(row) -> dict | None:
    """The scan already read the header: reuse it when the file is unchanged since the scan."""
    try:
        if row["bytes"] != row["_bytes"] or row["mtime_ns"] != row["_mtime"]:
            return None
        alpha = row["channels"] in (2, 4) and row["mode"] != "CMYK"
        return {"width": int(row["width"]), "height": int(row["height"]),
                "format": row["format"], "mode": row["mode"],
                "orientation": int(row["orientation"]), "alpha": bool(alpha)}
    except (KeyError, TypeError, ValueError):  # a hand-made table: read the header again
        return None


def _decode(data: bytes, size: tuple[int, int], color: str, fit: str, pad_value: int,
            header: dict | None = None) -> np.ndarray:
    if not data:
        raise DecodeError("empty file (0 bytes)")
    hd = header or _header(data)
    fmt, mode, alpha, orientation = hd["format"], hd["mode"], hd["alpha"], hd["orientation"]
    uh, uw = hd["height"], hd["width"]  # upright size
    if fmt in _JPEG_FORMATS and _jpeg_truncated(data):
        raise DecodeError("truncated JPEG (the file ends before the image data does)")
    th, tw = size
    buf = np.frombuffer(data, np.uint8)
    if fmt in _JPEG_FORMATS and mode in ("L", "RGB", "CMYK", "YCbCr"):
        k = _reduction(uh, uw, th, tw, fit)
        gray = color == "grayscale"
        flag = {1: cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR,
                2: cv2.IMREAD_REDUCED_GRAYSCALE_2 if gray else cv2.IMREAD_REDUCED_COLOR_2,
                4: cv2.IMREAD_REDUCED_GRAYSCALE_4 if gray else cv2.IMREAD_REDUCED_COLOR_4,
                8: cv2.IMREAD_REDUCED_GRAYSCALE_8 if gray else cv2.IMREAD_REDUCED_COLOR_8}[k]
    elif alpha:  # UNCHANGED keeps the alpha channel (composited on white below)
        flag = cv2.IMREAD_UNCHANGED
    else:  # PNG/TIFF/WebP...: these flags also bring 16-bit down to 8-bit and CMYK to BGR
        flag = cv2.IMREAD_GRAYSCALE if color == "grayscale" else cv2.IMREAD_COLOR
    # We rotate ourselves (below), from the orientation Pillow read: whether OpenCV applies
    # EXIF orientation depends on the flags, the format and its version, so it never does here.
    try:
        img = cv2.imdecode(buf, flag | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        img = None
    if img is None or img.size == 0:
        try:
            img = _pillow_decode(data)
        except Exception as exc:
            raise DecodeError(f"cannot decode ({type(exc).__name__}: {exc})") from exc
    img = _to_uint8(img)
    if img.ndim == 3 and img.shape[2] == 2:  # gray + alpha (some TIFFs)
        img = np.dstack([img[..., 0]] * 3 + [img[..., 1]])
    if img.ndim == 3 and img.shape[2] == 4:
        img = _on_white(img)
    if color == "grayscale":
        img = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        img = img[..., None]
    else:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB if img.ndim == 2 else cv2.COLOR_BGR2RGB)
    if fmt != "TIFF":  # libtiff hands OpenCV the picture already upright, whatever the flags
        img = _orient(img, orientation)
    return _fit(img, th, tw, fit, pad_value)


def decode_image(path: str | os.PathLike, size: int | tuple[int, int] = 128,
                 color: str = "grayscale", fit: str = "squash", *,
                 pad_value: int = 0) -> np.ndarray:
    """Decode one image file to a ``(H, W, C)`` uint8 array, upright, ready for a model.

    ``color="grayscale"`` gives C=1, ``"rgb"`` gives C=3 in RGB order (Keras' convention).
    ``fit``: ``"squash"`` resizes to exactly ``size`` like the seed report (aspect ratio lost);
    ``"pad"`` keeps the aspect ratio and pads with ``pad_value``; ``"crop"`` keeps it and cuts
    the centre. Raises :class:`DecodeError` (a ValueError) saying why a file is unusable.
    """
    _check(color, fit)
    return _decode(_read(path), _hw(size), color, fit, pad_value)


def _read(path: str | os.PathLike) -> bytes:
    try:
        return Path(path).read_bytes()  # bytes, not cv2.imread: non-ASCII paths work on Windows
    except OSError as exc:
        raise DecodeError(f"cannot read {path}: {exc}") from exc


@dataclass
class LoadedImages:
    """Decoded images plus everything needed to trace them back to files."""

    images: np.ndarray            # (N, H, W, C) uint8: a quarter of float32's memory
    labels: np.ndarray            # (N,) int64 indices into class_names
    class_names: list[str]
    paths: list[str]              # one per image, same order
    skipped: pd.DataFrame         # every file not in ``images``, with a ``reason``
    from_cache: bool = False
    seconds: float = 0.0
    options: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def n_seen(self) -> int:
        return len(self.images) + len(self.skipped)

    def report(self) -> str:
        n, sk = len(self.images), len(self.skipped)
        counts = np.bincount(self.labels, minlength=len(self.class_names)) if n else []
        lines = [f"{n} images {tuple(self.images.shape[1:])} loaded + {sk} skipped == {n + sk} "
                 f"seen ({'cache' if self.from_cache else 'decoded'} in {self.seconds:.1f} s)",
                 ", ".join(f"{c} {int(k)}" for c, k in zip(self.class_names, counts))]
        lines += [f"  skipped {r.rel_path}: {r.reason}" for r in self.skipped.head(20).itertuples()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def _as_table(source) -> tuple[pd.DataFrame, list[str], Path | None]:
    if isinstance(source, (str, os.PathLike)):
        source = scan(source)
    if isinstance(source, ScanResult):
        return source.table, list(source.class_names), source.root
    if isinstance(source, pd.DataFrame):
        table = source
        names = table.attrs.get("class_names")
        if names is None:
            ok = table[table["status"] == "ok"] if "status" in table else table
            names = list(ok.drop_duplicates("label").sort_values("label")["class_name"])
        root = table.attrs.get("root")
        if root is None and len(table) and "rel_path" in table:
            first = table.iloc[0]
            p = Path(first["path"])
            root = p.parents[len(Path(first["rel_path"]).parts) - 1]
        return table, list(names), Path(root) if root else None
    raise TypeError(f"load_images needs a ScanResult, a scan table or a folder, "
                    f"not {type(source).__name__}")


def _cache_name(rows: pd.DataFrame, class_names: list[str], options: dict) -> tuple[str, str]:
    """(prefix, file name): the prefix names the options, the rest hashes the files.

    The file hash covers every file's relative path, label, size and modification time, so
    any added, removed, renamed or rewritten file gives a new name.
    """
    opts = hashlib.sha256(json.dumps({"v": _CACHE_VERSION, "cv2": cv2.__version__, **options},
                                     sort_keys=True).encode()).hexdigest()[:8]
    h = hashlib.sha256(json.dumps(class_names).encode())
    for rel, label, size, mtime in zip(rows["rel_path"], rows["label"], rows["_bytes"],
                                       rows["_mtime"]):
        h.update(f"{rel}\0{label}\0{size}\0{mtime}\n".encode())
    th, tw = options["size"]
    prefix = f"images-{options['color']}-{th}x{tw}-{options['fit']}-{opts}-"
    return prefix, f"{prefix}{h.hexdigest()[:16]}.npz"


def _read_cache(path: Path):
    """The cache is ``<key>.npz`` (labels, paths, failures) plus ``<key>.npy`` (the images).

    The images sit in a plain ``.npy`` because NumPy reads that straight into the array, about
    twice as fast as out of a zip member. The ``.npz`` is written last, so it marks a complete
    cache; the key names the content, so two files with the same key always agree.
    """
    images = path.with_suffix(".npy")
    if not (path.is_file() and images.is_file()):
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in ("labels", "paths", "failed", "failed_reason")}
        out["images"] = np.load(images, allow_pickle=False)
        if len(out["images"]) != len(out["labels"]):
            raise ValueError(f"{len(out['images'])} images for {len(out['labels'])} labels")
        return out
    except Exception as exc:  # a half-written or foreign file: rebuild it
        warnings.warn(f"ignoring unreadable cache {path}: {exc}", stacklevel=3)
        return None


def _write_cache(path: Path, prefix: str, images: np.ndarray, **arrays) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tag = f".tmp{os.getpid()}"
        np.save(path.with_suffix(f"{tag}.npy"), images)
        np.savez(path.with_suffix(f"{tag}.npz"), **arrays)
        # atomic renames, the .npz last: a crash never leaves a cache that looks complete
        os.replace(path.with_suffix(f"{tag}.npy"), path.with_suffix(".npy"))
        os.replace(path.with_suffix(f"{tag}.npz"), path)
        for old in path.parent.glob(f"{prefix}*.np[yz]"):  # one cache per option set, not a pile
            if old.stem != path.stem:
                old.unlink(missing_ok=True)
    except OSError as exc:
        warnings.warn(f"could not write the image cache to {path.parent}: {exc}", stacklevel=3)


def _default_cache_dir(root: Path | None) -> Path:
    """``<root>/.cache`` next to the photos, unless the folder is read-only (shared or mounted
    data, marked so on purpose): then a per-user cache, so nothing is written into it."""
    if root is None:
        return Path("data") / ".cache"
    try:
        writable = os.access(root, os.W_OK) and bool(root.stat().st_mode & 0o222)
    except OSError:
        writable = False
    if writable:
        return root / ".cache"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "selib" / hashlib.sha256(str(root).encode()).hexdigest()[:16]


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def load_images(source, size: int | tuple[int, int] = 128, color: str = "grayscale",
                fit: str = "squash", *, pad_value: int = 0,
                cache_dir: str | os.PathLike | None = None, use_cache: bool = True,
                workers: int | None = None, progress: bool | None = None) -> LoadedImages:
    """Decode every loadable file of a scan to one ``(N, H, W, C)`` uint8 array.

    ``source`` is a :class:`~selib.data.scanning.ScanResult`, its ``table`` (or a filtered part of it),
    or a folder path (scanned first). Options are those of :func:`decode_image`. Files that
    fail to decode (e.g. a truncated JPEG whose header was fine) land in ``skipped`` with a
    reason, next to the rows the scan already skipped, so ``len(images) + len(skipped)`` is the
    number of files seen.

    The result is cached on disk (``.npy`` + ``.npz``) in ``cache_dir`` (default
    ``<root>/.cache``, which scans ignore; ``~/.cache/selib/...`` for a read-only folder), keyed
    by every file's relative path, size and modification time and by the options: change a
    file or an option and it is decoded afresh. ``progress=None`` shows a
    tqdm bar only when loading takes more than a second; ``workers`` defaults to the CPU count.
    """
    _check(color, fit)
    th, tw = _hw(size)
    t0 = time.perf_counter()
    table, class_names, root = _as_table(source)
    if "status" in table:
        rows = table[table["status"] == "ok"].copy()
        skipped = table[table["status"] != "ok"].copy()
    else:
        rows, skipped = table.copy(), pd.DataFrame(columns=COLUMNS)
    skipped = skipped.reindex(columns=[c for c in COLUMNS if c in table.columns] or COLUMNS)
    rows = rows.reset_index(drop=True)
    failed: dict[int, str] = {}  # row position -> reason
    stats_b, stats_m = [], []
    for n, p in enumerate(rows["path"]):
        try:
            st = os.stat(p)
            stats_b.append(st.st_size)
            stats_m.append(st.st_mtime_ns)
        except OSError as exc:
            failed[n] = f"file disappeared since the scan ({exc.strerror})"
            stats_b.append(-1)
            stats_m.append(-1)
    rows["_bytes"], rows["_mtime"] = stats_b, stats_m
    options = {"size": [th, tw], "color": color, "fit": fit, "pad_value": int(pad_value)}
    prefix, name = _cache_name(rows, class_names, options)
    cache_path = None
    if use_cache:
        cache_path = Path(cache_dir if cache_dir is not None else _default_cache_dir(root)) / name

    cached = _read_cache(cache_path) if cache_path is not None else None
    if cached is not None and len(cached["paths"]) + len(cached["failed"]) == len(rows):
        reasons = dict(zip(cached["failed"].tolist(), cached["failed_reason"].tolist()))
        bad = rows["rel_path"].isin(reasons)
        lost = rows[bad].assign(status="skipped", label=-1,
                                reason=rows.loc[bad, "rel_path"].map(reasons))
        good = rows[~bad]
        return LoadedImages(
            images=cached["images"], labels=cached["labels"].astype(np.int64),
            class_names=class_names, paths=list(good["path"]),
            skipped=_join(skipped, lost), from_cache=True,
            seconds=time.perf_counter() - t0, options=options)

    c = 1 if color == "grayscale" else 3
    images = np.empty((len(rows), th, tw, c), np.uint8)
    todo = [(n, row) for n, row in enumerate(rows.to_dict("records")) if n not in failed]

    def work(n: int, row: dict) -> None:
        try:
            images[n] = _decode(_read(row["path"]), (th, tw), color, fit, pad_value,
                                _header_from_row(row))
        except Exception as exc:  # DecodeError or anything odd: report it, never crash the run
            failed[n] = (str(exc) if isinstance(exc, DecodeError)
                         else f"{type(exc).__name__}: {exc}")

    bar = tqdm(total=len(todo), desc="decoding images", unit="img", disable=progress is False,
               delay=0 if progress else 1.0, leave=False)
    with ThreadPoolExecutor(max_workers=workers or _default_workers()) as pool:
        for fut in as_completed([pool.submit(work, *t) for t in todo]):
            fut.result()
            bar.update()
    bar.close()

    keep = np.ones(len(rows), bool)
    keep[list(failed)] = False
    images = images[keep] if not keep.all() else images
    good = rows[keep]
    lost = rows[~keep].assign(status="skipped", label=-1)
    lost["reason"] = [failed[i] for i in lost.index]
    labels = good["label"].to_numpy(np.int64)
    if cache_path is not None:
        _write_cache(cache_path, prefix, images=images, labels=labels,
                     paths=np.array(list(good["rel_path"]), dtype=str),
                     failed=np.array(list(lost["rel_path"]), dtype=str),
                     failed_reason=np.array(list(lost["reason"]), dtype=str))
    return LoadedImages(images=images, labels=labels, class_names=class_names,
                        paths=list(good["path"]), skipped=_join(skipped, lost),
                        from_cache=False, seconds=time.perf_counter() - t0, options=options)


def _join(skipped: pd.DataFrame, lost: pd.DataFrame) -> pd.DataFrame:
    lost = lost.drop(columns=["_bytes", "_mtime"], errors="ignore")
    if lost.empty:
        return skipped.reset_index(drop=True)
    if skipped.empty:
        return lost.reset_index(drop=True)
    return pd.concat([skipped, lost], ignore_index=True)
