"""selib.data.loading: correct pixels for every odd file, nothing lost silently, and a cache that invalidates.

All fixtures are generated here with NumPy/OpenCV/Pillow: no binary files to keep.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageOps

from selib.data import decoding, headers
from selib.data.loading import DecodeError, LoadedImages, clear_cache, decode_image, load_images
from selib.data.scanning import DataFolderWarning, scan


def quiet_scan(root, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFolderWarning)
        return scan(root, **kw)


def save(path: Path, arr: np.ndarray, **kw) -> Path:
    """Save an RGB/L uint8 array with Pillow (which can also write EXIF, CMYK, palettes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, **kw)
    return path


def smooth(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A photo-like smooth colour image (so JPEG round trips stay close)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (4, 4, 3), np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def quadrants(h: int, w: int) -> np.ndarray:
    """Four flat quadrants 20/90/160/230: any rotation or flip moves them distinguishably."""
    a = np.empty((h, w), np.uint8)
    a[: h // 2, : w // 2], a[: h // 2, w // 2:] = 20, 90
    a[h // 2:, : w // 2], a[h // 2:, w // 2:] = 160, 230
    return a


def quadrant_means(img: np.ndarray) -> list[float]:
    img = img[..., 0].astype(float)
    h, w = img.shape
    y, x = h // 4, w // 4
    return [img[y, x], img[y, 3 * x], img[3 * y, x], img[3 * y, 3 * x]]


@pytest.fixture()
def folder(tmp_path) -> Path:
    for c, v in (("bench", 40), ("chair", 120), ("sofa", 220)):
        for i in range(2):
            save(tmp_path / c / f"{i}.jpg", np.full((30 + i, 50, 3), v, np.uint8))
    return tmp_path


# ---------------------------------------------------------------- basic shapes and options
def test_grayscale_and_rgb_shapes_labels(folder):
    r = quiet_scan(folder)
    g = load_images(r, size=16, use_cache=False)
    assert isinstance(g, LoadedImages)
    assert g.images.shape == (6, 16, 16, 1) and g.images.dtype == np.uint8
    assert g.labels.dtype == np.int64 and g.labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert g.class_names == ["bench", "chair", "sofa"] and len(g.paths) == 6
    assert abs(int(g.images[2].mean()) - 120) <= 2
    c = load_images(r, size=(12, 20), color="rgb", use_cache=False)
    assert c.images.shape == (6, 12, 20, 3)
    assert "6 images" in c.report() and "0 skipped == 6 seen" in str(c)


def test_rgb_channel_order_is_rgb(tmp_path):
    red = np.zeros((20, 20, 3), np.uint8)
    red[..., 0] = 255
    p = save(tmp_path / "red.png", red)
    out = decode_image(p, 8, color="rgb")
    assert out[..., 0].min() == 255 and out[..., 1:].max() == 0
    assert abs(int(decode_image(p, 8)[0, 0, 0]) - 76) <= 1  # luma of pure red


@pytest.mark.parametrize("bad", [dict(color="bgr"), dict(fit="stretch"), dict(size=0)])
def test_bad_options_rejected(tmp_path, bad):
    p = save(tmp_path / "x.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError):
        decode_image(p, **{"size": 8, **bad})


def test_fit_squash_pad_crop(tmp_path):
    a = np.full((40, 80), 255, np.uint8)
    a[:, :20] = 0  # left quarter black
    p = save(tmp_path / "wide.png", a)
    squash = decode_image(p, 32, fit="squash")[..., 0]
    assert squash[:, :6].max() < 30 and squash[:, 10:].min() > 225
    pad = decode_image(p, 32, fit="pad", pad_value=7)[..., 0]
    assert (pad[:8] == 7).all() and (pad[24:] == 7).all()
    assert pad[8:24, :6].max() < 30 and pad[8:24, 10:].min() > 225
    crop = decode_image(p, 32, fit="crop")[..., 0]
    assert crop.min() > 225  # the black quarter lies outside the centre square


def test_workers_do_not_change_results(folder):
    r = quiet_scan(folder)
    one = load_images(r, size=16, workers=1, use_cache=False)
    many = load_images(r, size=16, workers=4, use_cache=False)
    assert np.array_equal(one.images, many.images) and one.paths == many.paths


def test_accepts_table_subset_and_path(folder):
    r = quiet_scan(folder)
    sub = r.ok[r.ok["class_name"] != "chair"]
    li = load_images(sub, size=8, use_cache=False)
    assert len(li) == 4 and li.labels.tolist() == [0, 0, 2, 2]
    assert li.class_names == ["bench", "chair", "sofa"]
    assert len(load_images(str(folder), size=8, use_cache=False)) == 6


def test_progress_false_is_silent(folder, capsys):
    load_images(quiet_scan(folder), size=8, use_cache=False, progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- reduced decode
def test_reduction_factor():
    red = decoding._reduction
    assert red(4000, 3000, 473, 473, "squash") == 4
    assert red(4000, 3000, 128, 128, "squash") == 8
    assert red(1500, 1500, 473, 473, "squash") == 2
    assert red(900, 900, 473, 473, "squash") == 1
    assert red(4000, 1000, 473, 473, "crop") == 2       # the short side decides
    assert red(4000, 1000, 473, 473, "pad") == 8        # the long side decides


def test_big_jpeg_uses_reduced_decode_and_matches_full(tmp_path, monkeypatch):
    p = tmp_path / "big.jpg"
    cv2.imwrite(str(p), smooth(1200, 1600), [cv2.IMWRITE_JPEG_QUALITY, 95])
    flags = []
    real = cv2.imdecode
    monkeypatch.setattr(decoding.cv2, "imdecode", lambda b, f: flags.append(f) or real(b, f))
    out = decode_image(p, 100)[..., 0]
    assert flags and flags[0] & ~cv2.IMREAD_IGNORE_ORIENTATION == cv2.IMREAD_REDUCED_GRAYSCALE_8
    reference = cv2.resize(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), (100, 100),
                           interpolation=cv2.INTER_AREA)
    assert np.abs(out.astype(int) - reference).mean() < 2.0
    flags.clear()
    decode_image(p, 500, color="rgb")
    assert flags[0] & ~cv2.IMREAD_IGNORE_ORIENTATION == cv2.IMREAD_REDUCED_COLOR_2


# ---------------------------------------------------------------- bad input, one test each
def test_zero_byte_file(folder):
    (folder / "chair" / "zero.jpg").write_bytes(b"")
    with pytest.raises(DecodeError, match="empty"):
        decode_image(folder / "chair" / "zero.jpg")
    li = load_images(quiet_scan(folder), size=8, use_cache=False)
    assert len(li) == 6 and li.skipped["rel_path"].tolist() == ["chair/zero.jpg"]


def test_text_file_named_jpg(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("not a photo")
    with pytest.raises(DecodeError, match="not an image"):
        decode_image(p)


def test_missing_file(tmp_path):
    with pytest.raises(DecodeError, match="cannot read"):
        decode_image(tmp_path / "gone.jpg")


def test_row_that_lies_is_skipped_not_crashed(folder):
    """A table row marked ok whose file is not an image (or vanished) ends in skipped."""
    r = quiet_scan(folder)
    (folder / "chair" / "0.jpg").write_text("replaced by text after the scan")
    (folder / "sofa" / "1.jpg").unlink()
    li = load_images(r, size=8, use_cache=False)
    assert len(li) == 4 and len(li) + len(li.skipped) == r.n_seen
    reasons = dict(zip(li.skipped["rel_path"], li.skipped["reason"]))
    assert "not an image" in reasons["chair/0.jpg"] and "disappeared" in reasons["sofa/1.jpg"]
    assert (li.skipped["status"] == "skipped").all() and (li.skipped["label"] == -1).all()


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg(folder, progressive):
    good = save(folder / "sofa" / "whole.jpg", smooth(200, 300), quality=90,
                progressive=progressive)
    data = good.read_bytes()
    (folder / "sofa" / "truncated.jpg").write_bytes(data[: len(data) * 3 // 4])
    r = quiet_scan(folder)
    assert len(r.ok) == 7  # the header is fine, but the scan checks the end marker too
    li = load_images(r, size=16, use_cache=False)
    assert len(li) == 7 and li.n_seen == r.n_seen
    assert li.skipped["rel_path"].tolist() == ["sofa/truncated.jpg"]
    assert li.skipped["reason"].iloc[0].startswith("truncated JPEG")
    with pytest.raises(DecodeError, match="truncated"):
        decode_image(folder / "sofa" / "truncated.jpg")


def test_truncated_after_the_scan_is_still_caught_by_the_decoder(folder):
    """A stale scan table (file cut after it) still cannot sneak a grey-bottomed image in."""
    r = quiet_scan(folder)
    p = folder / "sofa" / "0.jpg"
    save(p, smooth(200, 300), quality=90)
    p.write_bytes(p.read_bytes()[:-600])
    li = load_images(r, size=16, use_cache=False)
    assert len(li) == 5 and li.n_seen == r.n_seen
    assert li.skipped["reason"].iloc[0].startswith("truncated JPEG")


def test_truncation_check_itself():
    """Independent of OpenCV's version (4.x decodes truncated JPEGs with a grey bottom)."""
    data = cv2.imencode(".jpg", smooth(64, 64))[1].tobytes()
    assert not headers.jpeg_truncated(data)
    assert not headers.jpeg_truncated(data + b"\0" * 100 + b"ftypmp42" * 50)  # motion photo
    assert headers.jpeg_truncated(data[:-2])
    assert headers.jpeg_truncated(data[: len(data) // 2])


def test_data_after_end_of_image_still_loads(tmp_path):
    p = tmp_path / "motion.jpg"
    p.write_bytes(cv2.imencode(".jpg", smooth(64, 64))[1].tobytes() + os.urandom(5000))
    assert decode_image(p, 16).shape == (16, 16, 1)


@pytest.mark.parametrize("channels", [1, 3])
def test_png_16_bit(tmp_path, channels):
    v = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    arr = v if channels == 1 else np.dstack([v, v, v])
    p = tmp_path / "deep.png"
    cv2.imwrite(str(p), arr)
    out = decode_image(p, 64)[..., 0].astype(int)
    assert np.abs(out - v / 257).max() <= 1.5


@pytest.mark.parametrize("kind", ["RGBA", "LA", "P", "RGBA16"])
def test_png_with_alpha_composited_on_white(tmp_path, kind):
    p = tmp_path / "alpha.png"
    if kind == "RGBA":
        a = np.zeros((20, 20, 4), np.uint8)
        a[:, :10] = (255, 0, 0, 255)        # opaque red | fully transparent black
        a[:, 10:15, 3] = 128                # half-transparent black
        Image.fromarray(a, "RGBA").save(p)
    elif kind == "LA":
        a = np.zeros((20, 20, 2), np.uint8)
        a[:, :10] = (0, 255)
        a[:, 10:15, 1] = 128
        Image.fromarray(a, "LA").save(p)
    elif kind == "P":
        im = Image.new("P", (20, 20), 1)
        im.putpalette([255, 0, 0, 0, 0, 0] + [0] * 762)
        im.paste(0, (0, 0, 10, 20))
        im.save(p, transparency=1)          # index 1 (black) is transparent
    else:
        a = np.zeros((20, 20, 4), np.uint16)
        a[:, :10] = (0, 0, 65535, 65535)    # BGRA: opaque red
        a[:, 10:15, 3] = 32896
        cv2.imwrite(str(p), a)
    out = decode_image(p, 20, color="rgb").astype(int)
    left = (255, 0, 0) if kind != "LA" else (0, 0, 0)
    assert np.abs(out[:, 2] - left).max() <= 2
    assert (out[:, 17] >= 253).all()        # transparent -> white, not black
    if kind != "P":
        assert np.abs(out[:, 12] - 127).max() <= 3


def test_cmyk_jpeg(tmp_path):
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:16] = (200, 40, 40)
    rgb[16:] = (30, 90, 210)
    p = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(p, quality=95)
    with Image.open(p) as im:
        assert im.mode == "CMYK"
        reference = np.asarray(im.convert("RGB")).astype(int)
    out = decode_image(p, 32, color="rgb").astype(int)
    assert np.abs(out - reference)[4:12].mean() < 6 and np.abs(out - reference)[20:28].mean() < 6
    assert out[8, 8, 0] > 150 and out[24, 24, 2] > 150


_INVERSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_270}


@pytest.mark.parametrize("scale", [1, 10], ids=["full-decode", "reduced-decode"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_rotated_jpeg_loaded_upright(tmp_path, orientation, scale):
    upright = Image.fromarray(quadrants(48 * scale, 32 * scale))
    stored = upright.transpose(_INVERSE[orientation]) if orientation > 1 else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = tmp_path / "rot.jpg"
    stored.save(p, exif=exif.tobytes(), quality=95)
    with Image.open(p) as im:  # Pillow's own reading agrees that this is the upright picture
        assert ImageOps.exif_transpose(im).size == (32 * scale, 48 * scale)
    out = decode_image(p, (48, 32))
    assert quadrant_means(out) == pytest.approx([20, 90, 160, 230], abs=8)


@pytest.mark.parametrize("ext", ["png", "webp", "tif"])
def test_exif_rotated_other_formats_loaded_upright(tmp_path, ext):
    """OpenCV rotates some formats itself (and fails on rotated TIFFs): rotate exactly once."""
    exif = Image.Exif()
    exif[0x0112] = 6
    p = tmp_path / f"rot.{ext}"
    Image.fromarray(quadrants(48, 32)).transpose(_INVERSE[6]).save(
        p, exif=exif.tobytes(), **({"lossless": True} if ext == "webp" else {}))
    assert quadrant_means(decode_image(p, (48, 32))) == pytest.approx([20, 90, 160, 230], abs=8)


def test_one_by_one_image(tmp_path):
    p = save(tmp_path / "c" / "pixel.png", np.full((1, 1), 200, np.uint8))
    save(tmp_path / "d" / "ok.png", np.full((10, 10), 50, np.uint8))
    out = decode_image(p, 16)
    assert out.shape == (16, 16, 1) and (out == 200).all()
    default = load_images(quiet_scan(tmp_path), size=16, use_cache=False)
    assert "too small" in default.skipped["reason"].iloc[0] and len(default) == 1
    allowed = load_images(quiet_scan(tmp_path, min_side=1), size=16, use_cache=False)
    assert len(allowed) == 2 and (allowed.images[0] == 200).all()


def test_non_ascii_file_name(folder):
    name = folder / "chair" / "Stühle_椅子 (1).jpg"
    save(name, np.full((20, 20, 3), 99, np.uint8))
    li = load_images(quiet_scan(folder), size=8, use_cache=False)
    assert str(name) in li.paths
    assert abs(int(li.images[li.paths.index(str(name))].mean()) - 99) <= 2


def test_nested_folder(folder):
    save(folder / "chair" / "more" / "x.jpg", np.full((20, 20, 3), 9, np.uint8))
    li = load_images(quiet_scan(folder), size=8, use_cache=False)
    assert len(li) == 6 and "nested" in li.skipped["reason"].iloc[0]
    li = load_images(quiet_scan(folder, recursive=True), size=8, use_cache=False)
    assert len(li) == 7 and len(li.skipped) == 0


def test_empty_class_folder_and_root_files(folder):
    (folder / "stool").mkdir()
    save(folder / "loose.jpg", np.zeros((20, 20, 3), np.uint8))
    li = load_images(quiet_scan(folder), size=8, use_cache=False)
    assert li.class_names == ["bench", "chair", "sofa"] and len(li) == 6
    assert li.skipped["rel_path"].tolist() == ["loose.jpg"]


@pytest.mark.parametrize("ext", ["gif", "webp", "bmp", "tif"])
def test_other_formats(tmp_path, ext):
    rgb = np.zeros((24, 24, 3), np.uint8)
    rgb[..., 2] = 255
    p = save(tmp_path / f"blue.{ext}", rgb, **({"lossless": True} if ext == "webp" else {}))
    out = decode_image(p, 8, color="rgb")
    assert out[..., 2].min() >= 250 and out[..., :2].max() <= 5


@pytest.mark.parametrize("mode, fmt, info", [
    ("L", "PNG", {}), ("LA", "PNG", {}), ("RGB", "PNG", {}), ("RGBA", "PNG", {}),
    ("P", "PNG", {}), ("P", "PNG", {"transparency": 0}), ("L", "PNG", {"transparency": 0}),
    ("RGB", "PNG", {"transparency": (0, 0, 0)}), ("CMYK", "JPEG", {}), ("I;16", "PNG", {}),
    ("RGB", "JPEG", {})])
def test_alpha_recovered_from_a_scan_row_matches_the_header(mode, fmt, info):
    """load_images rebuilds the header from the scan's channels + mode: it must agree."""
    import io

    buf = io.BytesIO()
    Image.new(mode, (8, 6)).save(buf, fmt, **info)
    hd = headers.read_header(buf.getvalue())
    assert headers.has_alpha(hd["channels"], hd["mode"]) == hd["alpha"]


def test_load_images_agrees_with_decode_image_on_odd_files(tmp_path):
    """load_images reuses the scan's header facts; the pixels must match a fresh decode."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.fromarray(quadrants(480, 320)).save(tmp_path / "a" / "rot.jpg", exif=exif.tobytes())
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :10] = (255, 0, 0, 255)
    save(tmp_path / "a" / "rgba.png", rgba)
    la = np.zeros((20, 30, 2), np.uint8)
    la[:, :10, 1] = 255
    Image.fromarray(la, "LA").save(tmp_path / "a" / "la.png")
    pal = Image.new("P", (30, 20), 1)
    pal.putpalette([255, 0, 0, 0, 0, 0] + [0] * 762)
    pal.save(tmp_path / "b" / "p.png", transparency=1)
    rgb_t = Image.new("RGB", (30, 20), (0, 0, 0))
    rgb_t.save(tmp_path / "b" / "trns.png", transparency=(0, 0, 0))
    Image.fromarray(smooth(40, 60)).convert("CMYK").save(tmp_path / "b" / "cmyk.jpg")
    cv2.imwrite(str(tmp_path / "b" / "g16.png"), np.full((20, 30), 40000, np.uint16))
    r = quiet_scan(tmp_path)
    assert len(r.ok) == 7
    for color in ("grayscale", "rgb"):
        li = load_images(r, size=(24, 16), color=color, use_cache=False)
        assert len(li) == 7
        for img, path in zip(li.images, li.paths):
            assert np.array_equal(img, decode_image(path, (24, 16), color)), path
    trns = li.images[li.paths.index(str(tmp_path / "b" / "trns.png"))]
    assert trns.min() >= 250  # tRNS transparency in an RGB PNG counts as alpha too


# ---------------------------------------------------------------- cache
def test_cache_hit_is_identical(folder):
    r = quiet_scan(folder)
    first = load_images(r, size=16)
    assert not first.from_cache and len(list((folder / ".cache").glob("*.np[yz]"))) == 2
    again = load_images(quiet_scan(folder), size=16)
    assert again.from_cache
    assert np.array_equal(first.images, again.images)
    assert np.array_equal(first.labels, again.labels) and first.paths == again.paths
    assert quiet_scan(folder).n_seen == r.n_seen  # the hidden .cache folder is not data


def test_cache_invalidated_by_changed_file(folder):
    load_images(quiet_scan(folder), size=16)
    p = folder / "chair" / "0.jpg"
    save(p, np.full((30, 50, 3), 250, np.uint8))
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache and abs(int(li.images[2].mean()) - 250) <= 2
    assert len(list((folder / ".cache").glob("*.np[yz]"))) == 2  # the stale cache was removed


def test_cache_invalidated_by_added_or_removed_file(folder):
    load_images(quiet_scan(folder), size=16)
    (folder / "sofa" / "1.jpg").unlink()
    assert not load_images(quiet_scan(folder), size=16).from_cache
    assert load_images(quiet_scan(folder), size=16).from_cache


@pytest.mark.parametrize("change", [dict(size=17), dict(color="rgb"), dict(fit="pad"),
                                    dict(fit="pad", pad_value=255)])
def test_cache_invalidated_by_options(folder, change):
    base = dict(size=16, color="grayscale", fit="pad")
    load_images(quiet_scan(folder), **base)
    li = load_images(quiet_scan(folder), **{**base, **change})
    same = change == dict(fit="pad")
    assert li.from_cache == same
    assert len(list((folder / ".cache").glob("*.npz"))) == (1 if same else 2)  # both kept
    assert len(list((folder / ".cache").glob("*.npy"))) == (1 if same else 2)


def _broken_png(path: Path) -> Path:
    """A PNG whose header is fine but whose pixel data is garbage: only a decode finds out."""
    data = bytearray(cv2.imencode(".png", smooth(40, 60))[1].tobytes())
    at = data.find(b"IDAT") + 40
    data[at:at + 200] = bytes(200)
    path.write_bytes(bytes(data))
    return path


def test_cache_keeps_load_time_failures(folder):
    _broken_png(folder / "chair" / "broken.png")
    r = quiet_scan(folder)
    assert len(r.ok) == 7  # the scan reads headers only: it cannot know
    first = load_images(r, size=16)
    again = load_images(quiet_scan(folder), size=16)
    assert again.from_cache and len(again) == len(first) == 6
    assert again.skipped["reason"].tolist() == first.skipped["reason"].tolist()
    assert "cannot decode" in again.skipped["reason"].iloc[0]


@pytest.mark.parametrize("part", ["npz", "npy"])
def test_corrupt_cache_is_rebuilt(folder, part):
    load_images(quiet_scan(folder), size=16)
    (bad,) = (folder / ".cache").glob(f"*.{part}")
    bad.write_bytes(bad.read_bytes()[:100])  # cut short, as by a crash or a full disk
    with pytest.warns(UserWarning, match="unreadable cache"):
        li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache and len(li) == 6
    assert load_images(quiet_scan(folder), size=16).from_cache


def test_incomplete_cache_is_rebuilt_quietly(folder):
    load_images(quiet_scan(folder), size=16)
    (images,) = (folder / ".cache").glob("*.npy")
    images.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache and len(li) == 6


def test_unwritable_cache_dir_warns_and_goes_on(folder):
    blocker = folder / ".blocker"
    blocker.write_text("a file where a folder should be")
    with pytest.warns(UserWarning, match="could not write"):
        li = load_images(quiet_scan(folder), size=16, cache_dir=blocker / "cache")
    assert len(li) == 6


def test_read_only_folder_gets_a_per_user_cache(folder, tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    mode = folder.stat().st_mode
    folder.chmod(0o555)  # like ../shared/realdata: data to read, not to write into
    try:
        first = load_images(quiet_scan(folder), size=16)
        again = load_images(quiet_scan(folder), size=16)
    finally:
        folder.chmod(mode)
    assert not (folder / ".cache").exists()
    assert len(list((home / "selib").glob("*/*.npz"))) == 1
    assert not first.from_cache and again.from_cache


def test_use_cache_false_writes_nothing(folder, tmp_path_factory):
    where = tmp_path_factory.mktemp("cache")
    load_images(quiet_scan(folder), size=16, cache_dir=where, use_cache=False)
    assert not list(where.iterdir()) and not (folder / ".cache").exists()


# ---------------------------------------------------------------- the cache checks itself (issue 15 A)
def _only(folder: Path, ext: str) -> Path:
    (path,) = (folder / ".cache").glob(f"*.{ext}")
    return path


def test_same_length_corruption_of_cached_images_is_rebuilt(folder):
    first = load_images(quiet_scan(folder), size=16)
    npy = _only(folder, "npy")
    data = bytearray(npy.read_bytes())
    data[-500:-400] = bytes(100)  # a stray write: same length, valid header, wrong pixels
    npy.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="unreadable cache .*checksum"):
        li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache and np.array_equal(li.images, first.images)
    again = load_images(quiet_scan(folder), size=16)  # rebuilt, and trusted again
    assert again.from_cache and np.array_equal(again.images, first.images)


def test_cached_array_of_another_shape_is_not_served(folder):
    load_images(quiet_scan(folder), size=17)
    (other,) = (folder / ".cache").glob("*17x17*.npy")
    saved = np.load(other)
    load_images(quiet_scan(folder), size=16)
    np.save(_only_16(folder), saved)  # a 17x17 array where the 16x16 one should be
    with pytest.warns(UserWarning, match=r"unreadable cache .*\(6, 17, 17, 1\) uint8, "
                                         r"expected \(6, 16, 16, 1\)"):
        li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache and li.images.shape == (6, 16, 16, 1)


def _only_16(folder: Path) -> Path:
    (path,) = (folder / ".cache").glob("*16x16*.npy")
    return path


def test_whole_cache_of_another_shape_under_this_name_is_not_served(folder):
    """Both files of a 17x17 cache where the 16x16 one should be: its own record gives it away."""
    load_images(quiet_scan(folder), size=17)
    seventeen = _only(folder, "npz")
    load_images(quiet_scan(folder), size=16)
    sixteen = _only_16(folder).with_suffix(".npz")
    os.replace(seventeen.with_suffix(".npy"), sixteen.with_suffix(".npy"))
    os.replace(seventeen, sixteen)
    with pytest.warns(UserWarning, match=r"unreadable cache .*record says \[6, 17, 17, 1\] uint8"):
        li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache and li.images.shape == (6, 16, 16, 1)


def test_cached_array_of_another_dtype_is_not_served(folder):
    first = load_images(quiet_scan(folder), size=16)
    npy = _only(folder, "npy")
    np.save(npy, np.load(npy).astype(np.float32) / 255)  # right shape, wrong values and dtype
    with pytest.warns(UserWarning, match=r"unreadable cache .*float32, expected \(6, 16, 16, 1\) uint8"):
        li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache and li.images.dtype == np.uint8
    assert np.array_equal(li.images, first.images)


def test_damaged_labels_in_the_npz_are_caught(folder):
    load_images(quiet_scan(folder), size=16)
    npz = _only(folder, "npz")
    data = bytearray(npz.read_bytes())
    labels = np.array([0, 0, 1, 1, 2, 2], np.int64).tobytes()
    at = data.find(labels)
    assert at > 0
    data[at + 8] = 2  # the second label flips from bench to sofa
    npz.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="unreadable cache .*CRC"):
        li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache and li.labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_cache_key_sees_a_same_size_rewrite_with_its_mtime_restored(folder):
    """``cp -p``-style: new pixels, same byte count, old mtime; the ctime still changes."""
    first = load_images(quiet_scan(folder), size=16)
    p = folder / "chair" / "0.jpg"
    st, data = p.stat(), bytearray(p.read_bytes())
    at = data.find(b"\xff\xdb") + 5  # the first quantisation table: doubling it changes
    data[at:at + 64] = bytes(min(2 * v, 255) for v in data[at:at + 64])  # every pixel
    p.write_bytes(bytes(data))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (p.stat().st_size, p.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    li = load_images(quiet_scan(folder), size=16)
    assert not li.from_cache
    assert not np.array_equal(li.images[2], first.images[2])


def test_clear_cache_removes_only_selib_cache_files(folder, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
    load_images(quiet_scan(folder), size=16)
    load_images(quiet_scan(folder), size=8)
    (folder / ".cache" / "notes.txt").write_text("mine")
    assert clear_cache(folder) == 4
    assert [p.name for p in (folder / ".cache").iterdir()] == ["notes.txt"]
    assert not load_images(quiet_scan(folder), size=16).from_cache
    assert clear_cache(folder / ".cache") == 2  # a cache folder itself works too
    (folder / ".cache" / "notes.txt").unlink()
    load_images(quiet_scan(folder), size=16)
    assert clear_cache(str(folder)) == 2 and not (folder / ".cache").exists()  # empty: removed
    assert clear_cache(folder) == 0 and clear_cache(folder / "nope") == 0
    assert len(list(folder.rglob("*.jpg"))) == 6  # the photos are untouched


def test_clear_cache_finds_the_per_user_cache_of_a_read_only_folder(folder, tmp_path_factory,
                                                                   monkeypatch):
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    mode = folder.stat().st_mode
    folder.chmod(0o555)
    try:
        load_images(quiet_scan(folder), size=16)
        assert clear_cache(folder) == 2
    finally:
        folder.chmod(mode)
    assert not list((home / "selib").rglob("*.np[yz]"))


def test_decode_and_load_never_open_a_fifo(folder):
    import threading

    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    r = quiet_scan(folder)
    p = folder / "chair" / "0.jpg"
    p.unlink()
    os.mkfifo(p)  # swapped in after the scan: the table still says ok
    out = {}
    t = threading.Thread(target=lambda: out.update(
        li=load_images(r, size=8, use_cache=False)), daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "load_images hung on a FIFO"
    assert "not a regular file" in out["li"].skipped["reason"].iloc[0]
    assert len(out["li"]) + len(out["li"].skipped) == r.n_seen
    with pytest.raises(DecodeError, match="named pipe"):
        decode_image(p)


# ---------------------------------------------------------------- real photos (optional)
@pytest.mark.realdata
def test_real_photos_sample(realdata):
    r = quiet_scan(realdata)
    ok = r.ok
    sample = pd.concat([ok.groupby("class_name").head(15), ok[ok["mode"] != "RGB"]]).drop_duplicates("path")
    li = load_images(sample, size=64, color="rgb", use_cache=False, progress=False)
    assert len(li) == len(sample) and len(li.skipped) == 0
    assert li.images.shape[1:] == (64, 64, 3) and li.images.std() > 10
    assert li.class_names == ["chair", "office_chair", "sofa"]
