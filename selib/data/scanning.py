"""Scan a photo folder laid out as ``root/<class>/<image>``: what is there, and what is not usable.

Only image *headers* are read (Pillow opens files lazily), plus one block at the end of each
JPEG to check that it is whole, so scanning thousands of 4000-px photos takes seconds. Every
entry seen ends up in one table row, either ``ok`` or ``skipped`` with a reason, so
``loaded + skipped == seen`` always holds.

The end-of-image check (:func:`~selib.data.headers.jpeg_file_truncated`) is what lets
``selib inspect`` report a truncated photo before a load does. It reads one small block per
JPEG, so it adds tens of microseconds per file to a scan: worth it, since a truncated photo
found at load time would otherwise surface only half-way through decoding.

What counts as an entry, and what happens to the odd ones (hidden names, starting with ``.``,
are never looked at):

* a regular file: read (its header, and its tail if it is a JPEG);
* a symbolic link to a regular file, wherever the file is: followed and read like the file
  (datasets are often assembled from links); the row keeps the link's path;
* a broken link or a link loop: skipped, "cannot read file: broken symbolic link ..." /
  "... symbolic link loop";
* a FIFO, socket or device file (or a link to one): skipped and **never opened**: opening a
  FIFO blocks until someone writes to it, a device can be endless. Files are opened
  non-blocking and re-checked on the open descriptor, so a FIFO swapped in cannot hang a scan;
* a file or folder that cannot be read (permission denied): skipped with the OS's reason; a
  folder that cannot be listed is one row (its files cannot be counted) and a warning;
* at the root, a link to a folder is a class folder (followed), unless it points at the root
  or a folder above it (a loop) or overlaps another class folder (its images would count
  twice): then it is one skipped row;
* inside a class folder, a link to a folder is never followed (it could loop, or list files a
  second time): one skipped row says where it points. Real nested folders behave as before
  (skipped, or read with ``recursive=True``); a folder reached twice (a bind-mount loop) is
  listed once.

Folder rows have ``bytes == 0`` and a reason that says "folder" or "link to a folder".
"""
from __future__ import annotations

import errno
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from PIL import UnidentifiedImageError

from selib.data.headers import JPEG_FORMATS, file_kind, jpeg_file_truncated, open_regular, read_header
from selib.errors import DataFolderError

__all__ = ["COLUMNS", "DataFolderError", "DataFolderWarning", "ScanResult", "Summary", "scan",
           "summarize"]

#: Columns of :attr:`ScanResult.table`, in order.
COLUMNS = [
    "path", "rel_path", "class_name", "label", "width", "height", "channels", "mode",
    "format", "orientation", "bytes", "mtime_ns", "status", "reason",
]


class DataFolderWarning(UserWarning):
    """Something in the data folder's layout is off but the scan goes on."""


_SIDECAR_SUFFIXES = {".csv", ".json", ".txt", ".md", ".yml", ".yaml"}
_AT_ROOT = "file at the root, not inside a class folder"
_NESTED = ("in a nested folder (only files directly inside a class folder are used; "
           "scan(recursive=True) to include them)")
_UNLISTABLE = "cannot list folder"
_TRUNCATED = "truncated JPEG (the file ends before the image data does)"


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


def _blank(path: Path, root: Path, class_name: str | None, reason: str = "") -> dict:
    """A skipped row with no header facts: the start of every row."""
    return {"path": str(path), "rel_path": path.relative_to(root).as_posix(),
            "class_name": class_name, "label": -1, "width": 0, "height": 0, "channels": 0,
            "mode": "", "format": "", "orientation": 1, "bytes": 0, "mtime_ns": 0,
            "status": "skipped", "reason": reason}


def _stat_reason(path: Path, exc: OSError) -> str:
    """Why ``stat`` failed, in words: a broken link and a link loop say so."""
    if exc.errno == errno.ELOOP:
        return "cannot read file: symbolic link loop (the link leads back to itself)"
    if isinstance(exc, FileNotFoundError) and path.is_symlink():
        return (f"cannot read file: broken symbolic link (its target "
                f"{os.readlink(path)!r} does not exist)")
    return f"cannot read file: {exc.strerror or exc}"


def _header_facts(path: Path, size: int) -> tuple[dict, str]:
    """(header facts, "" or the reason the file is unusable), from one open of the file."""
    try:
        f = open_regular(path)
    except OSError as exc:
        return {}, f"cannot read file: {exc.strerror or exc}"
    with f:
        try:
            hd = read_header(f)
        except UnidentifiedImageError:
            return {}, "not an image (Pillow cannot identify the format)"
        except Exception as exc:  # truncated header, odd format: say which
            return {}, f"unreadable header: {type(exc).__name__}: {exc}"
        facts = {k: v for k, v in hd.items() if k != "alpha"}
        try:
            cut = hd["format"] in JPEG_FORMATS and jpeg_file_truncated(f, size)
        except OSError as exc:
            return facts, f"cannot read file: {exc.strerror or exc}"
    return facts, _TRUNCATED if cut else ""


def _row(path: Path, root: Path, class_name: str | None, min_side: int,
         skip: str = "") -> dict:
    """One file's row: stat (following links), then the header, unless a reason comes first.

    A non-regular file is never opened; a file to be skipped anyway (at the root, nested) is
    not opened either.
    """
    row = _blank(path, root, class_name)
    try:
        st = path.stat()
    except OSError as exc:
        row["reason"] = _stat_reason(path, exc)
        return row
    row.update(bytes=st.st_size, mtime_ns=st.st_mtime_ns)
    if not stat.S_ISREG(st.st_mode):
        row["reason"] = f"not a regular file ({file_kind(st.st_mode)}): never opened"
        return row
    row["reason"] = (skip or (_AT_ROOT if class_name is None else "")
                     or ("empty file (0 bytes)" if st.st_size == 0 else ""))
    if row["reason"]:
        return row
    facts, row["reason"] = _header_facts(path, st.st_size)
    row.update(facts)
    if not row["reason"] and min(row["width"], row["height"]) < min_side:
        row["reason"] = f"too small ({row['width']}x{row['height']} px, min_side={min_side})"
    row["status"] = "skipped" if row["reason"] else "ok"
    return row


def _kind(entry: os.DirEntry) -> str:
    """"dir" (a real folder), "dirlink" (a link to a folder) or "file" (anything else)."""
    try:
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        if entry.is_symlink() and entry.is_dir():
            return "dirlink"
    except OSError:  # a link loop: stat will say so in the file's row
        pass
    return "file"


def _list(folder: Path) -> list[os.DirEntry]:
    """The folder's entries, hidden ones left out, sorted by name (a stable row order)."""
    with os.scandir(folder) as it:
        return sorted((e for e in it if not _hidden(e.name)), key=lambda e: e.name)


def _link_target(link: Path) -> tuple[Path | None, str]:
    """(where a link to a folder leads, "") or (None, why it cannot be followed)."""
    try:
        return link.resolve(strict=True), ""
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop, on older Pythons
        return None, f"link to a folder that cannot be followed ({exc}): not followed"


def _inner_link_reason(link: Path, class_dir: Path) -> str:
    """Why a link to a folder inside a class folder is not followed, and where it points."""
    target, why = _link_target(link)
    if target is None:
        return why
    if link.parent.resolve().is_relative_to(target):
        return f"link to a folder above it ({target}): not followed (a loop)"
    if target.is_relative_to(class_dir.resolve()):
        return "link to a folder inside its class folder: not followed (its files count once)"
    return (f"link to a folder outside the class folder ({target}): not followed "
            "(link the image files themselves, or move the folder in)")


def _walk_class(class_dir: Path, root: Path, name: str, recursive: bool,
                min_side: int) -> tuple[list[dict], int]:
    """Rows for everything under one class folder, and how many were nested files skipped."""
    rows: list[dict] = []
    nested, visited, stack = 0, set(), [class_dir]
    while stack:
        folder = stack.pop()
        inside = folder != class_dir
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in visited:
                rows.append(_blank(folder, root, name, "folder already listed (a mount loop)"))
                continue
            visited.add((st.st_dev, st.st_ino))
            entries = _list(folder)
        except OSError as exc:
            rows.append(_blank(folder, root, name, f"{_UNLISTABLE}: {exc.strerror or exc} "
                                                   "(its files cannot be seen)"))
            continue
        for e in entries:
            path, kind = Path(e.path), _kind(e)
            if kind == "dir":
                stack.append(path)
            elif kind == "dirlink":
                rows.append(_blank(path, root, name, _inner_link_reason(path, class_dir)))
            else:
                nested += inside and not recursive
                rows.append(_row(path, root, name, min_side,
                                 _NESTED if inside and not recursive else ""))
    return rows, nested


def _root_link_reason(link: Path, root: Path, taken: dict[Path, str]) -> str:
    """"" when a link to a folder at the root can be a class folder, else why not."""
    target, why = _link_target(link)
    if target is None:
        return why
    real_root = root.resolve()
    if real_root.is_relative_to(target):
        return f"link to the data folder or a folder above it ({target}): not followed (a loop)"
    for real, name in taken.items():
        if target.is_relative_to(real) or real.is_relative_to(target):
            return (f"link to a folder that overlaps class folder '{name}' ({target}): "
                    "not followed (its images would count twice)")
    return ""


def _root_entries(root: Path, min_side: int) -> tuple[list[Path], list[dict]]:
    """(class folders, rows for everything else at the root)."""
    try:
        entries = _list(root)
    except OSError as exc:
        raise DataFolderError(f"cannot read data folder {root}: {exc.strerror or exc}") from exc
    kinds = [(Path(e.path), _kind(e)) for e in entries]
    class_dirs = [p for p, k in kinds if k == "dir"]
    taken = {}
    for p in class_dirs:
        try:
            taken[p.resolve()] = p.name
        except (OSError, RuntimeError):
            pass
    rows = []
    for p, k in kinds:
        if k == "dirlink":
            reason = _root_link_reason(p, root, taken)
            if reason:
                rows.append(_blank(p, root, None, reason))
            else:
                class_dirs.append(p)
                taken[p.resolve()] = p.name
        elif k == "file":
            rows.append(_row(p, root, None, min_side))
    return sorted(class_dirs, key=lambda p: p.name), rows


def _layout_notes(rows: list[dict]) -> list[str]:
    """Warnings about root files, folders that cannot be listed and links not followed."""
    notes = []
    stray = [r for r in rows if r["reason"] == _AT_ROOT
             and Path(r["rel_path"]).suffix.lower() not in _SIDECAR_SUFFIXES]
    # Only image-like root files are worth a warning (a dataset's own metadata.csv / README
    # next to its class folders is expected, not a mistake); all of them are listed as skipped.
    if stray:
        notes.append(f"{len(stray)} file(s) at the root are not in a class folder: skipped")
    unlisted = [r["rel_path"] for r in rows if r["reason"].startswith(_UNLISTABLE)]
    if unlisted:
        notes.append(f"cannot list {len(unlisted)} folder(s), their files are not seen: "
                     + ", ".join(unlisted[:5]))
    links = sum(r["reason"].startswith("link to a folder") for r in rows)
    if links:
        notes.append(f"{links} link(s) to folders not followed: skipped (see the reasons)")
    return notes


def scan(root: str | os.PathLike, *, recursive: bool = False, min_side: int = 8) -> ScanResult:
    """List every entry under ``root/<class>/`` with its header facts and a status.

    Classes are the sorted names of the sub-folders that hold at least one readable image;
    the order is the one ``keras.utils.image_dataset_from_directory`` uses, so labels agree.
    Hidden files and folders (``.DS_Store``, ``.ipynb_checkpoints``, ``._*``, ``.cache``) are
    ignored; every other entry that is not a usable image is kept as ``skipped`` with a
    reason: files at the root, files in nested folders (unless ``recursive=True``, Keras'
    behaviour), empty files, non-images, unreadable headers, truncated JPEGs, images with a
    side under ``min_side`` (a 1x1 "photo" is a broken download or a tracking pixel, not a
    seat), and the links, special files and unreadable entries described in the module doc.

    Raises :class:`DataFolderError` when ``root`` is missing or has no usable class folder.
    """
    root = Path(root).expanduser().absolute()
    if not root.is_dir():
        raise DataFolderError(f"data folder not found: {root} (expected {root}/<class>/<image>)")
    class_dirs, rows = _root_entries(root, min_side)
    if not class_dirs:
        raise DataFolderError(
            f"no class folders in {root}: expected {root}/<class>/<image>, e.g. data/chair/1.jpg"
            + (f" (found {len(rows)} file(s) at the root)" if rows else ""))
    nested_notes = []
    for d in class_dirs:
        more, nested = _walk_class(d, root, d.name, recursive, min_side)
        rows += more
        if nested:
            nested_notes.append(f"{nested} file(s) in nested folders under '{d.name}/': skipped")
    notes = _layout_notes(rows) + nested_notes
    table = pd.DataFrame(rows, columns=COLUMNS)
    usable = set(table.loc[table["status"] == "ok", "class_name"])
    class_names = sorted(d.name for d in class_dirs if d.name in usable)
    notes += [f"'{d.name}/' has no readable images: it is not a class"
              for d in class_dirs if d.name not in usable]
    if not class_names:
        raise DataFolderError(f"no class folder in {root} holds a readable image")
    if len(class_names) == 1:
        notes.append(f"only one class ('{class_names[0]}'): a classifier needs two or more")
    table = _finish_table(table, root, class_names)
    for note in notes:
        warnings.warn(note, DataFolderWarning, stacklevel=2)
    return ScanResult(root=root, table=table, class_names=class_names, warnings=notes)


def _finish_table(table: pd.DataFrame, root: Path, class_names: list[str]) -> pd.DataFrame:
    """Labels for ok rows, rows sorted by path, int64 columns, root and classes in attrs."""
    index = {c: i for i, c in enumerate(class_names)}
    ok = table["status"] == "ok"
    table.loc[ok, "label"] = table.loc[ok, "class_name"].map(index)
    table = table.sort_values("rel_path", kind="stable").reset_index(drop=True)
    table = table.astype({"label": "int64", "width": "int64", "height": "int64",
                          "channels": "int64", "orientation": "int64", "bytes": "int64",
                          "mtime_ns": "int64"})
    table.attrs["root"] = str(root)
    table.attrs["class_names"] = list(class_names)
    return table


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
