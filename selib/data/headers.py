"""What an image file is, from its header alone: the one place selib reads EXIF and JPEG markers.

The scan (:mod:`selib.data.scanning`) and the decoder (:mod:`selib.data.decoding`) both need
the upright size, the mode, the format, the alpha and the EXIF orientation; reading them in
two places once let the two disagree, so both call :func:`read_header`. The same goes for the
JPEG end-of-image check: :func:`jpeg_truncated` walks bytes already in memory (the decoder),
:func:`jpeg_file_truncated` reads just the head and the tail of a file (the scan).

:func:`open_regular` is how selib opens a photo: it refuses anything that is not a regular
file (a FIFO would block ``open`` forever, a device file can be endless) without hanging.
"""
from __future__ import annotations

import io
import os
import stat
from typing import BinaryIO, TypedDict

from PIL import Image

__all__ = ["Header", "JPEG_FORMATS", "file_kind", "has_alpha", "jpeg_file_truncated",
           "jpeg_truncated", "open_regular", "read_header"]

#: Pillow format names whose pixels are JPEG scan data (MPO: multi-picture JPEG).
JPEG_FORMATS = frozenset({"JPEG", "MPO"})

_EXIF_ORIENTATION = 0x0112

# Decoded channel count per Pillow mode ("P" is a palette: it decodes to colour).
_CHANNELS = {"1": 1, "L": 1, "P": 3, "PA": 3, "LA": 2, "La": 2, "RGB": 3, "RGBA": 4,
             "RGBa": 4, "RGBX": 3, "CMYK": 4, "YCbCr": 3, "LAB": 3, "HSV": 3,
             "I": 1, "I;16": 1, "I;16L": 1, "I;16B": 1, "I;16N": 1, "F": 1}

# How much of a JPEG's end the scan reads to find the end-of-image marker in one seek, and
# how much of its start to find the start of scan (EXIF and ICC segments are at most 64 KiB).
_TAIL = 4096
_HEAD = 65536


class Header(TypedDict):
    """Header facts; ``width``/``height`` are the upright size (after EXIF orientation)."""

    width: int
    height: int
    channels: int
    mode: str
    format: str
    orientation: int
    alpha: bool


def read_header(source: str | os.PathLike | bytes | BinaryIO) -> Header:
    """Read size, mode, format, EXIF orientation and alpha without decoding the pixels.

    ``source`` is a path, the file's bytes or an open binary file (left open). Pillow's own
    exceptions propagate (``UnidentifiedImageError`` for a non-image) so each caller can word
    its message. A broken EXIF block counts as orientation 1: it must not hide a good image.
    """
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    with Image.open(fp) as im:  # lazy: reads the header, not the pixels
        w, h = im.size
        mode, fmt = im.mode, im.format or ""
        try:
            orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1) or 1)
        except Exception:  # a broken EXIF block must not hide a decodable image
            orientation = 1
        alpha = "A" in im.getbands() or "transparency" in im.info
    if orientation not in range(1, 9):
        orientation = 1
    if orientation >= 5:  # 5-8 swap the axes when shown upright
        w, h = h, w
    channels = _CHANNELS.get(mode, len(mode))
    if alpha and channels in (1, 3):  # a palette or tRNS transparency: counts as alpha
        channels += 1
    return Header(width=w, height=h, channels=channels, mode=mode, format=fmt,
                  orientation=orientation, alpha=bool(alpha))


def has_alpha(channels: int, mode: str) -> bool:
    """Whether a scan row's ``channels`` and ``mode`` mean an alpha channel.

    The inverse of :func:`read_header`'s count, kept beside it so the two cannot drift: the
    table stores the channel count, not the flag, and CMYK is the one 4-channel mode
    without alpha.
    """
    return channels in (2, 4) and mode != "CMYK"


def file_kind(mode: int) -> str:
    """A reader's name for a non-regular file type, for skip reasons."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "a special file"


def open_regular(path: str | os.PathLike, buffering: int = -1) -> BinaryIO:
    """Open a regular file (or a link to one) for reading; ``OSError`` for anything else.

    The open is non-blocking, so a FIFO swapped in after a scan cannot hang the caller; the
    type is checked on the open descriptor, so there is no window between check and read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"not a regular file: {file_kind(st.st_mode)}")
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def _scan_start(data: bytes) -> int | None:
    """Offset where the first scan's entropy data begins, -1 when the bytes are not a plain
    JPEG marker stream (leave the verdict to the decoder), None when they end before it."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return -1
        marker = data[i + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
            i += 1 if marker == 0xFF else 2
            continue
        seg = int.from_bytes(data[i + 2:i + 4], "big")
        if marker == 0xDA:  # start of scan
            return i + 2 + seg
        i += 2 + seg
    return None


def jpeg_truncated(data: bytes) -> bool:
    """True when a JPEG's scan data has no end-of-image marker.

    OpenCV 5 refuses such files, but OpenCV 4 decodes them with a grey bottom and only prints
    a warning; this walk over the header segments makes both versions report them. Entropy
    data can never contain FF D9, so any FF D9 after the start of scan ends the image; data
    after it (e.g. a phone's "motion photo" video) is fine.
    """
    start = _scan_start(data)
    if start is None:
        return True
    return start >= 0 and data.rfind(b"\xff\xd9", start) < 0  # from the end: found at once


def jpeg_file_truncated(f: BinaryIO, size: int) -> bool:
    """:func:`jpeg_truncated` for an open file, reading its head and one block at its tail.

    The head (already in the OS cache: Pillow just read the header from it) locates the start
    of scan, so an EXIF thumbnail's own FF D9 is never mistaken for the image's end. Only when
    the tail has no marker (data appended after the image, a truncated file) is the rest read.
    """
    f.seek(0)
    head = f.read(min(size, _HEAD))
    start = _scan_start(head)
    if start is None and size > len(head):  # headers larger than the head block: rare
        f.seek(0)
        return jpeg_truncated(f.read())
    if start is None or start < 0:
        return start is None
    if len(head) == size:  # a small file: all of it is in memory already
        return head.rfind(b"\xff\xd9", start) < 0
    f.seek(max(start, size - _TAIL))
    if f.read(_TAIL).find(b"\xff\xd9") >= 0:
        return False
    f.seek(start)  # no marker near the end: appended data, or truly truncated
    return f.read().rfind(b"\xff\xd9") < 0
