"""Decode a scanned photo folder into one uint8 array, fast, with an on-disk cache.

This module is the orchestration: which rows to decode, a thread pool (OpenCV releases the
GIL while it decodes), the cache lookup and the bookkeeping that keeps
``len(images) + len(skipped) == files seen``. Decoding one file lives in
:mod:`selib.data.decoding`, the self-checking cache in :mod:`selib.data.image_cache`. A cold
load is bounded by JPEG entropy decoding and the number of cores; the cache is what makes the
second load nearly free. A file that fails to decode is reported in ``skipped`` with the
reason; the run goes on and nothing else is lost.
"""
from __future__ import annotations

import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from selib.data import image_cache
from selib.data.decoding import check_options, decode_bytes, decode_image, image_size, read_file
from selib.data.headers import Header, has_alpha
from selib.data.image_cache import clear_cache
from selib.data.scanning import COLUMNS, ScanResult, scan
from selib.errors import DecodeError

__all__ = ["DecodeError", "LoadedImages", "clear_cache", "decode_image", "load_images"]


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


def _as_table(source: ScanResult | pd.DataFrame | str | os.PathLike
              ) -> tuple[pd.DataFrame, list[str], Path | None]:
    """(scan table, class names, data folder) from whatever :func:`load_images` was given.

    A filtered table keeps the class names of its scan (``attrs``), so labels stay the same
    indices even when a class is filtered out; the folder decides where the cache lives.
    """
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


def _header_from_row(row: dict) -> Header | None:
    """The scan already read the header: reuse it when the file is unchanged since the scan."""
    try:
        if row["bytes"] != row["_bytes"] or row["mtime_ns"] != row["_mtime"]:
            return None
        return Header(width=int(row["width"]), height=int(row["height"]),
                      channels=int(row["channels"]), format=row["format"], mode=row["mode"],
                      orientation=int(row["orientation"]),
                      alpha=has_alpha(int(row["channels"]), row["mode"]))
    except (KeyError, TypeError, ValueError):  # a hand-made table: read the header again
        return None


def _split_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows to decode, rows the scan already skipped), the latter with the scan columns."""
    if "status" in table:
        rows = table[table["status"] == "ok"].copy()
        skipped = table[table["status"] != "ok"].copy()
    else:
        rows, skipped = table.copy(), pd.DataFrame(columns=COLUMNS)
    skipped = skipped.reindex(columns=[c for c in COLUMNS if c in table.columns] or COLUMNS)
    return rows.reset_index(drop=True), skipped


def _stat_rows(rows: pd.DataFrame) -> dict[int, str]:
    """Add each file's size, mtime and ctime now (the cache key); report vanished files."""
    failed: dict[int, str] = {}  # row position -> reason
    stats = []
    for n, p in enumerate(rows["path"].tolist()):
        try:
            st = os.stat(p)
            stats.append((st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        except OSError as exc:
            failed[n] = f"file disappeared since the scan ({exc.strerror})"
            stats.append((-1, -1, -1))
    cols = list(zip(*stats)) if stats else ([], [], [])
    rows["_bytes"], rows["_mtime"], rows["_ctime"] = (list(c) for c in cols)
    return failed


def _from_cache(cached: dict, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(good rows, rows that failed when the cache was built), or None if they disagree."""
    if len(cached["paths"]) + len(cached["failed"]) != len(rows):
        return None
    reasons = dict(zip(cached["failed"].tolist(), cached["failed_reason"].tolist()))
    bad = rows["rel_path"].isin(reasons)
    good = rows[~bad]
    if good["rel_path"].tolist() != cached["paths"].tolist():
        warnings.warn("ignoring a cache whose file list disagrees with its name; "
                      "decoding the images again", stacklevel=3)
        return None
    lost = rows[bad].assign(status="skipped", label=-1,
                            reason=rows.loc[bad, "rel_path"].map(reasons))
    return good, lost


def _decode_all(rows: pd.DataFrame, failed: dict[int, str], size: tuple[int, int], color: str,
                fit: str, pad_value: int, workers: int | None,
                progress: bool | None) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Decode every row not already failed: (images, their rows, failed rows with a reason)."""
    th, tw = size
    images = np.empty((len(rows), th, tw, 1 if color == "grayscale" else 3), np.uint8)
    todo = [(n, row) for n, row in enumerate(rows.to_dict("records")) if n not in failed]

    def work(n: int, row: dict) -> None:
        try:
            images[n] = decode_bytes(read_file(row["path"]), size, color, fit, pad_value,
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
    good, lost = rows[keep], rows[~keep].assign(status="skipped", label=-1)
    lost["reason"] = [failed[i] for i in lost.index]
    return (images if keep.all() else images[keep]), good, lost


def _default_workers() -> int:
    """The cores this process may use (not the machine's: containers and taskset limit it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def load_images(source: ScanResult | pd.DataFrame | str | os.PathLike,
                size: int | tuple[int, int] = 128, color: str = "grayscale",
                fit: str = "squash", *, pad_value: int = 0,
                cache_dir: str | os.PathLike | None = None, use_cache: bool = True,
                workers: int | None = None, progress: bool | None = None) -> LoadedImages:
    """Decode every loadable file of a scan to one ``(N, H, W, C)`` uint8 array.

    ``source`` is a :class:`~selib.data.scanning.ScanResult`, its ``table`` (or a filtered part
    of it), or a folder path (scanned first). Options are those of :func:`decode_image`. Files
    that fail to decode land in ``skipped`` with a reason, next to the rows the scan already
    skipped, so ``len(images) + len(skipped)`` is the number of files seen.

    The result is cached on disk in ``cache_dir`` (default ``<root>/.cache``, which scans
    ignore; ``~/.cache/selib/...`` for a read-only folder), keyed by every file's relative
    path, size, mtime and ctime and by the options, and checked against its checksum on every
    load (see :mod:`selib.data.image_cache`). ``use_cache=False`` neither reads nor writes it;
    :func:`clear_cache` deletes it. ``progress=None`` shows a tqdm bar only when loading takes
    more than a second; ``workers`` defaults to the CPU count.
    """
    check_options(color, fit)
    th, tw = image_size(size)
    t0 = time.perf_counter()
    table, class_names, root = _as_table(source)
    rows, skipped = _split_rows(table)
    failed = _stat_rows(rows)
    options = {"size": [th, tw], "color": color, "fit": fit, "pad_value": int(pad_value)}
    cache_path = None
    if use_cache:
        where = Path(cache_dir) if cache_dir is not None else image_cache.default_cache_dir(root)
        cache_path = image_cache.cache_file(rows, class_names, options, where)
    shape = (th, tw, 1 if color == "grayscale" else 3)
    cached = image_cache.read_cache(cache_path, shape)
    parts = _from_cache(cached, rows) if cached is not None else None
    if parts is not None:
        good, lost = parts
        return LoadedImages(
            images=cached["images"], labels=cached["labels"].astype(np.int64),
            class_names=class_names, paths=good["path"].tolist(), skipped=_join(skipped, lost),
            from_cache=True, seconds=time.perf_counter() - t0, options=options)

    images, good, lost = _decode_all(rows, failed, (th, tw), color, fit, pad_value, workers,
                                     progress)
    labels = good["label"].to_numpy(np.int64)
    if cache_path is not None:
        image_cache.write_cache(cache_path, images, labels=labels,
                                paths=np.array(good["rel_path"].tolist(), dtype=str),
                                failed=np.array(lost["rel_path"].tolist(), dtype=str),
                                failed_reason=np.array(lost["reason"].tolist(), dtype=str))
    return LoadedImages(images=images, labels=labels, class_names=class_names,
                        paths=good["path"].tolist(), skipped=_join(skipped, lost),
                        from_cache=False, seconds=time.perf_counter() - t0, options=options)


def _join(skipped: pd.DataFrame, lost: pd.DataFrame) -> pd.DataFrame:
    """The scan's skipped rows, then the load-time failures, without the key columns."""
    lost = lost.drop(columns=["_bytes", "_mtime", "_ctime"], errors="ignore")
    if lost.empty:
        return skipped.reset_index(drop=True)
    if skipped.empty:
        return lost.reset_index(drop=True)
    return pd.concat([skipped, lost], ignore_index=True)
