"""Decode one image file to a ``(H, W, C)`` uint8 array, upright, at the size a model wants.

Speed comes from well-kept tools rather than clever code: libjpeg's DCT scaling (OpenCV's
``IMREAD_REDUCED_*`` flags decode a 4000-px JPEG straight to 1/2, 1/4 or 1/8 of its size) and
``cv2.INTER_AREA`` for the last step. DCT scaling saves the inverse DCT and the big resize,
not the entropy (Huffman) decoding every JPEG decode must do. What OpenCV cannot decode goes
to Pillow; what neither can raises :class:`~selib.errors.DecodeError` with the reason.
"""
from __future__ import annotations

import io
import os

import cv2
import numpy as np
from PIL import Image

from selib.data.headers import JPEG_FORMATS, Header, jpeg_truncated, open_regular, read_header
from selib.errors import DecodeError

__all__ = ["DecodeError", "decode_image", "decode_bytes", "read_file"]

COLORS = ("grayscale", "rgb")
FITS = ("squash", "pad", "crop")


def image_size(size: int | tuple[int, int]) -> tuple[int, int]:
    """``size`` as ``(height, width)``; an int means a square."""
    h, w = (size, size) if isinstance(size, (int, np.integer)) else size
    if int(h) < 1 or int(w) < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return int(h), int(w)


def check_options(color: str, fit: str) -> None:
    """Reject an unknown ``color`` or ``fit`` before any file is touched."""
    if color not in COLORS:
        raise ValueError(f"color must be one of {COLORS}, got {color!r}")
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")


def _reduction(h: int, w: int, th: int, tw: int, fit: str) -> int:
    """The largest libjpeg scale-down (1, 2, 4, 8) that leaves enough pixels to resize from."""
    room = max(h / th, w / tw) if fit == "pad" else min(h / th, w / tw)
    return next((k for k in (8, 4, 2) if room >= k), 1)


_ORIENT = {
    2: lambda a: cv2.flip(a, 1),
    3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
    4: lambda a: cv2.flip(a, 0),
    5: lambda a: cv2.transpose(a),
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def _orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) so the image is upright."""
    op = _ORIENT.get(orientation)
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


def _header(data: bytes) -> Header:
    try:
        return read_header(data)
    except Exception as exc:
        raise DecodeError(f"not an image Pillow can identify ({type(exc).__name__}: {exc})"
                          ) from exc


def _imread_flag(hd: Header, size: tuple[int, int], color: str, fit: str) -> int:
    """OpenCV flag: a reduced JPEG decode when the target is small, alpha kept when present."""
    gray = color == "grayscale"
    if hd["format"] in JPEG_FORMATS and hd["mode"] in ("L", "RGB", "CMYK", "YCbCr"):
        k = _reduction(hd["height"], hd["width"], *size, fit)
        return {1: cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR,
                2: cv2.IMREAD_REDUCED_GRAYSCALE_2 if gray else cv2.IMREAD_REDUCED_COLOR_2,
                4: cv2.IMREAD_REDUCED_GRAYSCALE_4 if gray else cv2.IMREAD_REDUCED_COLOR_4,
                8: cv2.IMREAD_REDUCED_GRAYSCALE_8 if gray else cv2.IMREAD_REDUCED_COLOR_8}[k]
    if hd["alpha"]:  # UNCHANGED keeps the alpha channel (composited on white later)
        return cv2.IMREAD_UNCHANGED
    # PNG/TIFF/WebP...: these flags also bring 16-bit down to 8-bit and CMYK to BGR
    return cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR


def _to_color(img: np.ndarray, color: str) -> np.ndarray:
    """Any OpenCV result (gray, gray+alpha, BGR, BGRA; 8 or 16 bit) -> uint8 gray or RGB."""
    img = _to_uint8(img)
    if img.ndim == 3 and img.shape[2] == 2:  # gray + alpha (some TIFFs)
        img = np.dstack([img[..., 0]] * 3 + [img[..., 1]])
    if img.ndim == 3 and img.shape[2] == 4:
        img = _on_white(img)
    if color == "grayscale":
        img = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        return img[..., None]
    return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB if img.ndim == 2 else cv2.COLOR_BGR2RGB)


def decode_bytes(data: bytes, size: tuple[int, int], color: str, fit: str, pad_value: int,
                 header: Header | None = None) -> np.ndarray:
    """Decode a file's bytes; ``header`` (from the scan) saves reading it again."""
    if not data:
        raise DecodeError("empty file (0 bytes)")
    hd = header or _header(data)
    if hd["format"] in JPEG_FORMATS and jpeg_truncated(data):
        raise DecodeError("truncated JPEG (the file ends before the image data does)")
    # We rotate ourselves (below), from the orientation Pillow read: whether OpenCV applies
    # EXIF orientation depends on the flags, the format and its version, so it never does here.
    flag = _imread_flag(hd, size, color, fit) | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        img = None
    if img is None or img.size == 0:
        try:
            img = _pillow_decode(data)
        except Exception as exc:
            raise DecodeError(f"cannot decode ({type(exc).__name__}: {exc})") from exc
    img = _to_color(img, color)
    if hd["format"] != "TIFF":  # libtiff hands OpenCV the picture upright, whatever the flags
        img = _orient(img, hd["orientation"])
    return _fit(img, *size, fit, pad_value)


def read_file(path: str | os.PathLike) -> bytes:
    """All of a regular file's bytes; :class:`DecodeError` for a missing file, a FIFO..."""
    try:  # bytes, not cv2.imread: non-ASCII paths work on Windows
        with open_regular(path) as f:
            return f.read()
    except OSError as exc:
        raise DecodeError(f"cannot read {path}: {exc.strerror or exc}") from exc


def decode_image(path: str | os.PathLike, size: int | tuple[int, int] = 128,
                 color: str = "grayscale", fit: str = "squash", *,
                 pad_value: int = 0) -> np.ndarray:
    """Decode one image file to a ``(H, W, C)`` uint8 array, upright, ready for a model.

    ``color="grayscale"`` gives C=1, ``"rgb"`` gives C=3 in RGB order (Keras' convention).
    ``fit``: ``"squash"`` resizes to exactly ``size`` like the seed report (aspect ratio lost);
    ``"pad"`` keeps the aspect ratio and pads with ``pad_value``; ``"crop"`` keeps it and cuts
    the centre. Raises :class:`DecodeError` (a ValueError) saying why a file is unusable.
    """
    check_options(color, fit)
    return decode_bytes(read_file(path), image_size(size), color, fit, pad_value)
