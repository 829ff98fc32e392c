"""Make a downsized copy of a photo folder, small enough to travel to a GPU machine.

    python bench/downsize_photos.py ../shared/realdata gpu_data/realdata256     # short side <= 256 px
    python bench/downsize_photos.py SRC DST --short-side 224 --quality 85       # smaller still

A GPU machine that is handed a copy of the repository can take along only a few tens of MiB of
ignored files, so the photos go as a copy whose short side is at most ``--short-side`` pixels
(never enlarged), re-encoded as JPEG, with the same ``<class>/<file>`` layout. Every profile
trains at 224 px or less, so nothing it sees is lost. Images are decoded as selib decodes them
(EXIF orientation ignored, :mod:`selib.data.decoding`), so the copy has the pixels selib would
have read from the original. Files that do not decode are left out and counted, not fatal.

The destination belongs in a git-ignored folder (``gpu_data/`` is ignored): photos are never
committed. An existing destination is refused unless ``--force``, so a copy is never half-mixed
with an older one.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def downsized(img, short_side: int):
    """``img`` scaled so that its short side is at most ``short_side`` (area filter; never enlarged)."""
    import cv2

    h, w = img.shape[:2]
    scale = short_side / min(h, w)
    if scale >= 1:
        return img
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def downsize_folder(src: Path, dst: Path, short_side: int = 256, quality: int = 85) -> dict:
    """Copy every class folder of ``src`` to ``dst`` as downsized JPEGs; what was written."""
    import cv2
    import numpy as np

    classes = sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise ValueError(f"{src} has no class folders (<class>/<image>)")
    written, skipped, per_class = 0, [], {}
    for cls in classes:
        (dst / cls.name).mkdir(parents=True, exist_ok=True)
        n = 0
        for f in sorted(cls.iterdir()):
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            img = cv2.imdecode(np.fromfile(f, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            if img is None:
                skipped.append(str(f.relative_to(src)))
                continue
            ok, buf = cv2.imencode(".jpg", downsized(img, short_side), [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                skipped.append(str(f.relative_to(src)))
                continue
            buf.tofile(dst / cls.name / (f.stem + ".jpg"))
            n += 1
        per_class[cls.name] = n
        written += n
    total = sum(p.stat().st_size for p in dst.rglob("*.jpg"))
    return {"images": written, "per_class": per_class, "skipped": skipped,
            "bytes": total, "mib": round(total / 2**20, 2), "short_side": short_side, "quality": quality}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="photo folder <src>/<class>/<image>")
    ap.add_argument("dst", type=Path, help="where the copy goes (a git-ignored folder, e.g. gpu_data/realdata256)")
    ap.add_argument("--short-side", type=int, default=256, help="largest short side in pixels (default 256)")
    ap.add_argument("--quality", type=int, default=85, help="JPEG quality 1-100 (default 85)")
    ap.add_argument("--force", action="store_true", help="replace an existing destination")
    a = ap.parse_args(argv)
    if not a.src.is_dir():
        ap.exit(2, f"selib: error: no photo folder at {a.src}\n")
    if not 1 <= a.quality <= 100 or a.short_side < 8:
        ap.exit(2, "selib: error: --quality must be 1-100 and --short-side at least 8\n")
    if a.dst.exists():
        if not a.force:
            ap.exit(2, f"selib: error: {a.dst} exists; pass --force to replace it\n")
        shutil.rmtree(a.dst)
    try:
        res = downsize_folder(a.src, a.dst, a.short_side, a.quality)
    except ValueError as e:
        ap.exit(2, f"selib: error: {e}\n")
    print(f"{res['images']} images ({', '.join(f'{k} {v}' for k, v in res['per_class'].items())}) "
          f"-> {a.dst}: {res['mib']} MiB, short side <= {a.short_side} px, JPEG quality {a.quality}"
          + (f"; {len(res['skipped'])} undecodable file(s) left out" if res["skipped"] else ""))
    return res


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
