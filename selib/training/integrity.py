"""Fingerprints of the files a run depends on: a size and a CRC-32 of the bytes.

The run folder records one for every file it writes (``manifest.json`` for the run's files,
``backup/state.json`` for the backup's) and checks it before the file is used. A size and a
CRC-32 catch every accidental change — a truncated copy, a flipped byte, finite junk of the
same length written over a weights array — in one pass at disk speed; they are not meant to
stop someone who rewrites the fingerprint too. A file recorded without a fingerprint (by a
selib that did not write them yet) is *unverified* and trusted as it is.
"""
from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

__all__ = ["fingerprint", "fingerprint_bytes", "problem", "problems", "sealed", "unsealed"]

_CHUNK = 1 << 20


def fingerprint_bytes(data: bytes) -> dict[str, Any]:
    """``{"size": n, "crc32": "89abcdef"}`` of bytes about to be written."""
    return {"size": len(data), "crc32": f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"}


def fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """The fingerprint of a file on disk (read in 1 MiB chunks)."""
    crc, size = 0, 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
    return {"size": size, "crc32": f"{crc & 0xFFFFFFFF:08x}"}


def problem(path: str | os.PathLike, expected: dict | None) -> str | None:
    """Why ``path`` is not the file that was recorded (``None``: it is, or nothing was recorded)."""
    path = Path(path)
    if not path.is_file():
        return f"{path.name} is missing"
    if not expected:
        return None
    try:
        actual = fingerprint(path)
    except OSError as exc:
        return f"{path.name} cannot be read ({exc.strerror or exc})"
    if actual["size"] != expected.get("size"):
        return f"{path.name} has {actual['size']} bytes, {expected.get('size')} were written"
    if actual["crc32"] != expected.get("crc32"):
        return f"{path.name} changed after it was written (CRC-32 {actual['crc32']}, written {expected.get('crc32')})"
    return None


def problems(folder: str | os.PathLike, expected: dict[str, dict | None]) -> list[str]:
    """:func:`problem` of every recorded file of ``folder``."""
    return [p for name, fp in expected.items() if (p := problem(Path(folder) / name, fp))]


def sealed(record: dict) -> dict:
    """``record`` with a CRC-32 of its own canonical JSON, so a changed digit is seen on reading."""
    body = {k: v for k, v in record.items() if k != "seal"}
    return {**body, "seal": _seal(body)}


def unsealed(record: dict) -> dict:
    """``record`` without its seal, or ``ValueError`` if the seal does not match (no seal: trusted)."""
    body = {k: v for k, v in record.items() if k != "seal"}
    if "seal" in record and record["seal"] != _seal(body):
        raise ValueError("its contents changed after it was written")
    return body


def _plain(o):
    """NumPy scalars and paths as JSON writes them (``run_folder.write_json`` does the same)."""
    return o.item() if hasattr(o, "item") else str(o)


def _seal(body: dict) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_plain)
    return f"{zlib.crc32(text.encode()) & 0xFFFFFFFF:08x}"
