"""Scan a photo folder laid out as ``root/<class>/<image>``: what is there, and what is not usable.

Only image *headers* are read (Pillow opens files lazily), so scanning thousands of
4000-px photos takes seconds. Every file seen ends up in one table row, either ``ok`` or
``skipped`` with a reason, so ``loaded + skipped == seen`` always holds.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from PIL import Image, UnidentifiedImageError

__all__ = ["DataFolderError", "DataFolderWarning", "ScanResult", "Summary", "scan", "summarize"]

#: Columns of :attr:`ScanResult.table`, in order.
COLUMNS = [
    "path", "rel_path", "class_name", "label", "width", "height", "channels", "mode",
    "format", "orientation", "bytes", "mtime_ns", "status", "reason",
]

# Decoded channel count per Pillow mode ("P" is a palette: it decodes to colour).
_CHANNELS = {"1": 1, "L": 1, "P": 3, "PA": 3, "LA": 2, "La": 2, "RGB": 3, "RGBA": 4,
             "RGBa": 4, "RGBX": 3, "CMYK": 4, "YCbCr": 3, "LAB": 3, "HSV": 3,
             "I": 1, "I;16": 1, "I;16L": 1, "I;16B": 1, "I;16N": 1, "F": 1}

_EXIF_ORIENTATION = 0x0112


class DataFolderError(ValueError):
    """The data folder cannot be used at all (missing, or no class folders with images)."""


class DataFolderWarning(UserWarning):
    """Something in the data folder's layout is off but the scan goes on."""


_SIDECAR_SUFFIXES = {".csv", ".json", ".txt", ".md", ".yml", ".yaml"}


def _hidden(name: str) -> bool:
    # Covers .DS_Store, .ipynb_checkpoints, macOS "._*" resource forks and our own .cache.
    return name.startswith(".")


@dataclass
class ScanResult:
    """What :func:`scan` found: one row per file seen, the classes, and layout warnings."""

    root: Path
    table: pd.DataFrame
    class_names: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> pd.DataFrame:
        """Rows whose header could be read: these are the ones to load."""
        return self.table[self.table["status"] == "ok"]

    @property
    def skipped(self) -> pd.DataFrame:
        """Rows that will not be loaded, each with a ``reason``."""
        return self.table[self.table["status"] == "skipped"]

    @property
    def n_seen(self) -> int:
        return len(self.table)

    def report(self, max_skipped: int = 20) -> str:
        """A plain-text account, stating ``loaded + skipped == seen``."""
        ok, sk = len(self.ok), len(self.skipped)
        lines = [
            f"{self.root}: {self.n_seen} files seen = {ok} loadable + {sk} skipped "
            f"({ok} + {sk} == {self.n_seen}: {ok + sk == self.n_seen})",
        ]
        counts = self.ok["class_name"].value_counts()
        lines.append(f"{len(self.class_names)} classes: " + ", ".join(
            f"{c} {int(counts.get(c, 0))}" for c in self.class_names))
        if sk:
            lines.append("skipped:")
            for row in self.skipped.head(max_skipped).itertuples():
                lines.append(f"  {row.rel_path}: {row.reason}")
            if sk > max_skipped:
                lines.append(f"  ... and {sk - max_skipped} more (see .skipped)")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def _read_header(path: Path) -> dict:
    """Width/height (upright, after EXIF orientation), mode and format from the header only."""
    with Image.open(path) as im:  # lazy: reads the header, not the pixels
        w, h = im.size
        mode, fmt = im.mode, im.format
        try:
            orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1) or 1)
        except Exception:  # a broken EXIF block must not hide a decodable image
            orientation = 1
        has_alpha = "A" in im.getbands() or "transparency" in im.info
    if orientation not in range(1, 9):
        orientation = 1
    if orientation >= 5:  # 5-8 swap the axes when shown upright
        w, h = h, w
    channels = _CHANNELS.get(mode, len(mode))
    if has_alpha and channels in (1, 3):  # a palette or tRNS transparency: counts as alpha
        channels += 1
    return {"width": w, "height": h, "channels": channels, "mode": mode, "format": fmt,
            "orientation": orientation}


def _row(path: Path, root: Path, class_name: str | None, min_side: int,
         skip: str = "") -> dict:
    row = {"path": str(path), "rel_path": path.relative_to(root).as_posix(),
           "class_name": class_name, "label": -1, "width": 0, "height": 0, "channels": 0,
           "mode": "", "format": "", "orientation": 1, "bytes": 0, "mtime_ns": 0,
           "status": "skipped", "reason": ""}
    try:
        st = path.stat()
    except OSError as exc:  # e.g. a dangling symlink
        row["reason"] = f"cannot read file: {exc.strerror}"
        return row
    row.update(bytes=st.st_size, mtime_ns=st.st_mtime_ns)
    if class_name is None:
        skip = "file at the root, not inside a class folder"
    if skip:  # no need to open it
        row["reason"] = skip
        return row
    if st.st_size == 0:
        row["reason"] = "empty file (0 bytes)"
        return row
    try:
        row.update(_read_header(path))
    except UnidentifiedImageError:
        row["reason"] = "not an image (Pillow cannot identify the format)"
        return row
    except Exception as exc:  # truncated header, permission, odd format: say which
        row["reason"] = f"unreadable header: {type(exc).__name__}: {exc}"
        return row
    if min(row["width"], row["height"]) < min_side:
        row["reason"] = f"too small ({row['width']}x{row['height']} px, min_side={min_side})"
        return row
    row["status"] = "ok"
    return row


def scan(root: str | os.PathLike, *, recursive: bool = False, min_side: int = 8) -> ScanResult:
    """List every file under ``root/<class>/`` with its header facts and a status.

    Classes are the sorted names of the sub-folders that hold at least one readable image;
    the order is the one ``keras.utils.image_dataset_from_directory`` uses, so labels agree.
    Hidden files and folders (``.DS_Store``, ``.ipynb_checkpoints``, ``._*``, ``.cache``) are
    ignored; every other file that is not a usable image is kept as ``skipped`` with a reason:
    files at the root, files in nested folders (unless ``recursive=True``, Keras' behaviour),
    empty files, non-images, unreadable headers and images with a side under ``min_side``
    (a 1x1 "photo" is a broken download or a tracking pixel, not a seat).

    Raises :class:`DataFolderError` when ``root`` is missing or has no usable class folder.
    """
    root = Path(root).expanduser().absolute()
    if not root.is_dir():
        raise DataFolderError(f"data folder not found: {root} (expected {root}/<class>/<image>)")
    rows: list[dict] = []
    notes: list[str] = []
    entries = sorted(os.scandir(root), key=lambda e: e.name)
    class_dirs = [e for e in entries if e.is_dir() and not _hidden(e.name)]
    root_files = [e for e in entries if e.is_file() and not _hidden(e.name)]
    for e in root_files:
        rows.append(_row(Path(e.path), root, None, min_side))
    # Every root file is listed as skipped; only image-like ones are worth a warning (a dataset's
    # own metadata.csv / README next to its class folders is expected, not a mistake).
    stray = [e for e in root_files if Path(e.name).suffix.lower() not in _SIDECAR_SUFFIXES]
    if stray:
        notes.append(f"{len(stray)} file(s) at the root are not in a class folder: skipped")
    if not class_dirs:
        raise DataFolderError(
            f"no class folders in {root}: expected {root}/<class>/<image>, e.g. data/chair/1.jpg"
            + (f" (found {len(root_files)} file(s) at the root)" if root_files else ""))

    for d in class_dirs:
        nested = 0
        for dirpath, dirnames, filenames in os.walk(d.path):
            dirnames[:] = sorted(n for n in dirnames if not _hidden(n))
            inside = Path(dirpath) != Path(d.path)
            for name in sorted(filenames):
                if _hidden(name):
                    continue
                skip = ""
                if inside and not recursive:
                    nested += 1
                    skip = ("in a nested folder (only files directly inside a class folder "
                            "are used; scan(recursive=True) to include them)")
                rows.append(_row(Path(dirpath) / name, root, d.name, min_side, skip))
        if nested:
            notes.append(f"{nested} file(s) in nested folders under '{d.name}/': skipped")

    table = pd.DataFrame(rows, columns=COLUMNS)
    usable = set(table.loc[table["status"] == "ok", "class_name"])
    class_names = sorted(n.name for n in class_dirs if n.name in usable)
    for d in class_dirs:
        if d.name not in usable:
            notes.append(f"'{d.name}/' has no readable images: it is not a class")
    if not class_names:
        raise DataFolderError(f"no class folder in {root} holds a readable image")
    if len(class_names) == 1:
        notes.append(f"only one class ('{class_names[0]}'): a classifier needs two or more")
    index = {c: i for i, c in enumerate(class_names)}
    ok = table["status"] == "ok"
    table.loc[ok, "label"] = table.loc[ok, "class_name"].map(index)
    table = table.sort_values("rel_path", kind="stable").reset_index(drop=True)
    table = table.astype({"label": "int64", "width": "int64", "height": "int64",
                          "channels": "int64", "orientation": "int64", "bytes": "int64",
                          "mtime_ns": "int64"})
    table.attrs["root"] = str(root)
    table.attrs["class_names"] = list(class_names)
    for note in notes:
        warnings.warn(note, DataFolderWarning, stacklevel=2)
    return ScanResult(root=root, table=table, class_names=class_names, warnings=notes)


@dataclass
class Summary:
    """Per-class counts, sizes and balance of a scan, as tables the notebooks can plot."""

    per_class: pd.DataFrame   # index class_name: count, share, skipped, min/max/median sizes
    overall: dict             # n_seen, n_ok, n_skipped, min/max height/width/side
    sizes: pd.DataFrame       # per loadable image: class_name, width, height, aspect, megapixels
    skip_reasons: pd.Series   # reason -> count
    imbalance: float          # largest class count / smallest class count (1.0 = balanced)

    def __str__(self) -> str:
        o = self.overall
        return "\n".join([
            f"{o['n_seen']} seen = {o['n_ok']} loadable + {o['n_skipped']} skipped",
            f"height {o['min_height']}..{o['max_height']} px, width {o['min_width']}.."
            f"{o['max_width']} px, shortest side {o['min_side']} px; "
            f"imbalance {self.imbalance:.2f}x",
            self.per_class.to_string(),
        ])


def summarize(result: ScanResult | pd.DataFrame) -> Summary:
    """Counts, size ranges, aspect ratios and class balance of a scan.

    The seed report rescaled every photo to "the minimum size" (473x473), but its size loop
    was wrong twice over: ``l_min`` started at 0, so ``if h < l_min`` could never fire, and
    a stray ``l_min = img.shape[0]`` inside the loop reset it on every image, so the number it
    printed was in effect the height of whichever image came last, not the minimum. Here the
    min/max come straight from the header sizes of all loadable images (upright, after EXIF
    orientation), per class and overall.
    """
    table = result.table if isinstance(result, ScanResult) else result
    class_names = (result.class_names if isinstance(result, ScanResult)
                   else table.attrs.get("class_names")
                   or sorted(table.loc[table["status"] == "ok", "class_name"].dropna().unique()))
    ok = table[table["status"] == "ok"]
    sizes = ok[["class_name", "rel_path", "width", "height"]].copy()
    sizes["aspect"] = sizes["width"] / sizes["height"]
    sizes["megapixels"] = sizes["width"] * sizes["height"] / 1e6
    sizes["min_side"] = sizes[["width", "height"]].min(axis=1)
    g = sizes.groupby("class_name")
    per_class = pd.DataFrame({
        "count": g.size(),
        "min_width": g["width"].min(), "max_width": g["width"].max(),
        "min_height": g["height"].min(), "max_height": g["height"].max(),
        "median_width": g["width"].median(), "median_height": g["height"].median(),
        "median_aspect": g["aspect"].median(),
    }).reindex(class_names)
    per_class["count"] = per_class["count"].fillna(0).astype("int64")
    per_class.insert(1, "share", per_class["count"] / max(int(per_class["count"].sum()), 1))
    skipped_per_class = table[table["status"] == "skipped"]["class_name"].value_counts()
    per_class.insert(2, "skipped", skipped_per_class.reindex(class_names).fillna(0).astype("int64"))
    per_class.index.name = "class_name"
    counts = per_class["count"]
    every_class_has_images = len(counts) and counts.min() > 0
    imbalance = float(counts.max() / counts.min()) if every_class_has_images else float("inf")

    def _int(series: pd.Series, how: str) -> int:
        return int(getattr(series, how)()) if len(series) else 0

    overall = {
        "n_seen": len(table), "n_ok": len(ok),
        "n_skipped": int((table["status"] == "skipped").sum()),
        "n_classes": len(class_names),
        "min_height": _int(ok["height"], "min"), "max_height": _int(ok["height"], "max"),
        "min_width": _int(ok["width"], "min"), "max_width": _int(ok["width"], "max"),
        "min_side": _int(sizes["min_side"], "min"),
        "max_side": _int(sizes[["width", "height"]].max(axis=1), "max"),
    }
    reasons = table.loc[table["status"] == "skipped", "reason"].value_counts()
    return Summary(per_class=per_class, overall=overall, sizes=sizes.reset_index(drop=True),
                   skip_reasons=reasons, imbalance=imbalance)
