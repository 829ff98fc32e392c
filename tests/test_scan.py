"""selib.data.scanning: every file seen is either loadable or skipped with a reason; layout problems are clear.

All fixtures are generated here with NumPy/OpenCV/Pillow: no binary files to keep.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from selib.data.scanning import DataFolderError, DataFolderWarning, ScanResult, scan, summarize


def jpg(path: Path, h: int = 40, w: int = 60, value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((h, w, 3), value, np.uint8)
    img[: h // 4, : w // 4] = 0
    assert cv2.imwrite(str(path), img)
    return path


def quiet_scan(root, **kw) -> ScanResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFolderWarning)
        return scan(root, **kw)


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> ScanResult:
    """A folder with one of each layout/file problem next to good images."""
    root = tmp_path_factory.mktemp("messy")
    for c in ("bench", "chair", "sofa"):
        for i in range(3):
            jpg(root / c / f"{i}.jpg", 40 + i, 60)
    (root / "chair" / "zero.jpg").write_bytes(b"")
    (root / "chair" / "notes.jpg").write_text("this is not a picture\n")
    data = cv2.imencode(".jpg", np.random.default_rng(0).integers(0, 255, (200, 300, 3), np.uint8))[1]
    (root / "sofa" / "truncated.jpg").write_bytes(data.tobytes()[: len(data) * 2 // 3])
    Image.new("L", (1, 1), 200).save(root / "sofa" / "pixel.png")
    jpg(root / "sofa" / "sofá_ünï_椅子.jpg")
    jpg(root / "bench" / "nested" / "deep.jpg")
    (root / "empty_class").mkdir()
    jpg(root / "stray_at_root.jpg")
    (root / "README.txt").write_text("photos of seats\n")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "chair" / "._0.jpg").write_bytes(b"\0\5\26\7")
    jpg(root / ".ipynb_checkpoints" / "x.jpg")
    jpg(root / "chair" / ".ipynb_checkpoints" / "y.jpg")
    with pytest.warns(DataFolderWarning):
        return scan(root)


def row(result: ScanResult, rel: str):
    rows = result.table[result.table["rel_path"] == rel]
    assert len(rows) == 1, f"{rel} should be seen exactly once"
    return rows.iloc[0]


def test_columns_and_types(messy):
    t = messy.table
    for col in ("path", "rel_path", "class_name", "label", "width", "height", "channels",
                "mode", "bytes", "status", "reason"):
        assert col in t.columns
    assert set(t["status"]) == {"ok", "skipped"}
    assert t["label"].dtype == np.int64
    assert (t.loc[t["status"] == "skipped", "label"] == -1).all()
    assert (t.loc[t["status"] == "skipped", "reason"].str.len() > 0).all()
    r = row(messy, "chair/1.jpg")
    assert (r.width, r.height, r.channels, r["mode"], r.status) == (60, 41, 3, "RGB", "ok")
    assert r.bytes == Path(r.path).stat().st_size


def test_loaded_plus_skipped_equals_seen(messy):
    # 9 good + zero + notes + truncated + pixel + unicode + nested + 2 root files = 17
    assert messy.n_seen == 17
    assert len(messy.ok) + len(messy.skipped) == messy.n_seen
    assert len(messy.ok) == 10  # 9 good + unicode name (the truncated JPEG is caught now)
    text = messy.report()
    assert "17 files seen = 10 loadable + 7 skipped" in text and str(messy) == text


def test_classes_sorted_and_labelled(messy):
    assert messy.class_names == ["bench", "chair", "sofa"]
    ok = messy.ok
    assert (ok["label"] == ok["class_name"].map({"bench": 0, "chair": 1, "sofa": 2})).all()


def test_hidden_files_and_folders_ignored(messy):
    rels = set(messy.table["rel_path"])
    assert not any(part.startswith(".") for r in rels for part in r.split("/"))


def test_zero_byte_file(messy):
    r = row(messy, "chair/zero.jpg")
    assert r.status == "skipped" and "empty" in r.reason and r.bytes == 0


def test_text_file_named_jpg(messy):
    r = row(messy, "chair/notes.jpg")
    assert r.status == "skipped" and "not an image" in r.reason


def test_truncated_jpeg_found_by_scan(messy):
    # The header reads fine, but the end-of-image marker is missing: `selib inspect` says so.
    r = row(messy, "sofa/truncated.jpg")
    assert r.status == "skipped" and r.reason.startswith("truncated JPEG")
    assert (r.width, r.height) == (300, 200)  # the header facts are still there


def test_one_by_one_image_skipped_by_default(messy):
    r = row(messy, "sofa/pixel.png")
    assert r.status == "skipped" and "too small" in r.reason and "1x1" in r.reason


def test_one_by_one_image_allowed_with_min_side(tmp_path):
    jpg(tmp_path / "a" / "ok.jpg")
    jpg(tmp_path / "b" / "ok.jpg")
    Image.new("L", (1, 1), 200).save(tmp_path / "a" / "pixel.png")
    r = quiet_scan(tmp_path, min_side=1)
    assert row(r, "a/pixel.png").status == "ok"


def test_non_ascii_file_name(messy):
    r = row(messy, "sofa/sofá_ünï_椅子.jpg")
    assert r.status == "ok" and Path(r.path).exists()


def test_nested_folder_skipped_with_reason(messy):
    r = row(messy, "bench/nested/deep.jpg")
    assert r.status == "skipped" and "nested" in r.reason
    assert any("nested" in w for w in messy.warnings)


def test_nested_folder_included_when_recursive(messy):
    r = quiet_scan(messy.root, recursive=True)
    assert row(r, "bench/nested/deep.jpg").status == "ok"
    assert row(r, "bench/nested/deep.jpg").label == 0


def test_empty_class_folder_warned_and_not_a_class(messy):
    assert "empty_class" not in messy.class_names
    assert any("empty_class" in w for w in messy.warnings)
    with pytest.warns(DataFolderWarning) as record:
        scan(messy.root)
    assert any("empty_class" in str(w.message) for w in record)


def test_files_at_root_skipped(messy):
    for rel in ("stray_at_root.jpg", "README.txt"):
        r = row(messy, rel)
        assert r.status == "skipped" and "root" in r.reason


def test_dangling_symlink_skipped(tmp_path):
    jpg(tmp_path / "a" / "ok.jpg")
    try:
        (tmp_path / "a" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    except OSError:
        pytest.skip("symlinks not allowed here")
    r = row(quiet_scan(tmp_path), "a/gone.jpg")
    assert r.status == "skipped" and "cannot read" in r.reason


def test_root_without_class_folders_is_a_clear_error(tmp_path):
    jpg(tmp_path / "a.jpg")
    with pytest.raises(DataFolderError, match="no class folders"):
        scan(tmp_path)


def test_root_with_only_empty_class_folders_is_an_error(tmp_path):
    (tmp_path / "chair").mkdir()
    (tmp_path / "sofa").mkdir()
    (tmp_path / "sofa" / "bad.jpg").write_text("nope")
    with pytest.raises(DataFolderError, match="readable image"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFolderWarning)
        scan(tmp_path)


def test_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(DataFolderError, match="not found") as e:
        scan(tmp_path / "nope")
    assert isinstance(e.value, ValueError)


def test_exif_rotated_size_is_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 60 wide x 40 high, shown 40 wide x 60 high
    jpg(tmp_path / "a" / "x.jpg")
    Image.fromarray(np.zeros((40, 60), np.uint8)).save(tmp_path / "a" / "rot.jpg", exif=exif.tobytes())
    jpg(tmp_path / "b" / "y.jpg")
    r = row(quiet_scan(tmp_path), "a/rot.jpg")
    assert (r.width, r.height, r.orientation) == (40, 60, 6)


def test_channels_and_modes(tmp_path):
    (tmp_path / "c").mkdir()
    Image.new("RGBA", (20, 20)).save(tmp_path / "c" / "rgba.png")
    Image.new("L", (20, 20)).save(tmp_path / "c" / "gray.png")
    Image.new("CMYK", (20, 20)).save(tmp_path / "c" / "cmyk.jpg")
    cv2.imwrite(str(tmp_path / "c" / "g16.png"), np.zeros((20, 20), np.uint16))
    t = quiet_scan(tmp_path).table.set_index("rel_path")
    assert t.loc["c/rgba.png", "channels"] == 4
    assert t.loc["c/gray.png", "channels"] == 1
    assert (t.loc["c/cmyk.jpg", "mode"], t.loc["c/cmyk.jpg", "channels"]) == ("CMYK", 4)
    assert t.loc["c/g16.png", "mode"].startswith("I;16")


def test_class_order_matches_keras(tmp_path):
    keras = pytest.importorskip("keras")
    names = ["sofa", "Bench", "office_chair", "chair", "_misc", "Zeta"]
    for n in names:
        jpg(tmp_path / n / "a.jpg")
    ds = keras.utils.image_dataset_from_directory(tmp_path, image_size=(8, 8), batch_size=2,
                                                  verbose=False)
    assert quiet_scan(tmp_path).class_names == ds.class_names


def test_summarize_min_max_are_true_extremes(tmp_path):
    # The seed's buggy loop reported the *last* image's height; make the last one not the min.
    sizes = {"a/1.jpg": (300, 200), "a/2.jpg": (120, 500), "b/3.jpg": (250, 90),
             "b/4.jpg": (473, 400)}
    for rel, (h, w) in sizes.items():
        jpg(tmp_path / rel, h, w)
    s = summarize(quiet_scan(tmp_path))
    o = s.overall
    assert (o["min_height"], o["max_height"], o["min_width"], o["max_width"]) == (120, 473, 90, 500)
    assert (o["min_side"], o["max_side"]) == (90, 500)
    assert list(s.per_class.index) == ["a", "b"]
    assert s.per_class.loc["a", "min_height"] == 120 and s.per_class.loc["b", "max_width"] == 400
    aspect = dict(zip(s.sizes["rel_path"], s.sizes["aspect"]))
    assert aspect == pytest.approx({rel: w / h for rel, (h, w) in sizes.items()})


def test_summarize_counts_balance_and_reasons(messy):
    s = summarize(messy)
    assert s.per_class["count"].to_dict() == {"bench": 3, "chair": 3, "sofa": 4}
    assert s.per_class["share"].sum() == pytest.approx(1.0)
    assert s.per_class.loc["chair", "skipped"] == 2 and s.per_class.loc["bench", "skipped"] == 1
    assert s.per_class.loc["sofa", "skipped"] == 2  # the 1x1 pixel and the truncated JPEG
    assert s.imbalance == pytest.approx(4 / 3)
    assert s.skip_reasons.sum() == len(messy.skipped) == s.overall["n_skipped"]
    assert s.overall["n_ok"] + s.overall["n_skipped"] == s.overall["n_seen"]
    assert "imbalance" in str(s)
    # a plain table works too
    assert summarize(messy.table).per_class["count"].to_dict() == s.per_class["count"].to_dict()


@pytest.mark.realdata
def test_scan_real_photos(realdata):
    r = quiet_scan(realdata)
    assert r.class_names == ["chair", "office_chair", "sofa"]
    assert len(r.ok) + len(r.skipped) == r.n_seen > 2000
    s = summarize(r)
    assert s.overall["min_side"] >= 8 and s.overall["max_side"] > s.overall["min_side"]


def test_dataset_sidecar_files_are_listed_but_not_warned_about(tmp_path):
    for name in ("chair", "sofa"):
        (tmp_path / name).mkdir()
        cv2.imwrite(str(tmp_path / name / "a.png"), np.zeros((20, 20), np.uint8))
    (tmp_path / "metadata.csv").write_text("class,seed\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataFolderWarning)
        result = scan(tmp_path)                      # a metadata file is expected: no warning
    row = result.skipped.set_index("rel_path").loc["metadata.csv"]
    assert "root" in row["reason"] and result.n_seen == 3
    cv2.imwrite(str(tmp_path / "stray.png"), np.zeros((20, 20), np.uint8))
    with pytest.warns(DataFolderWarning, match="at the root"):
        scan(tmp_path)                               # an image left at the root is worth a warning


# ---------------------------------------------------------------- truncated JPEGs (issue 15 C)
def _jpeg_bytes(h: int = 200, w: int = 300, **save_kw) -> bytes:
    import io

    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (h, w, 3), np.uint8)).save(buf, "JPEG", **save_kw)
    return buf.getvalue()


@pytest.mark.parametrize("kw", [{}, {"progressive": True}], ids=["baseline", "progressive"])
@pytest.mark.parametrize("side", [24, 400], ids=["small-file", "big-file"])
def test_scan_finds_truncated_jpeg_with_exif_thumbnail(tmp_path, kw, side):
    """An EXIF thumbnail ends with its own FF D9: it must not pass for the image's end."""
    thumb = _jpeg_bytes(16, 16)
    exif = Image.Exif()
    exif[0x0112] = 1
    whole = _jpeg_bytes(side, side, exif=exif.tobytes(), **kw)
    # splice a thumbnail-like APP segment (with FF D9 inside) right after SOI
    app = b"\xff\xe1" + (len(thumb) + 2).to_bytes(2, "big") + thumb
    whole = whole[:2] + app + whole[2:]
    jpg(tmp_path / "b" / "ok.jpg")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "whole.jpg").write_bytes(whole)
    (tmp_path / "a" / "cut.jpg").write_bytes(whole[: len(whole) - 40])  # cut inside the scan
    r = quiet_scan(tmp_path)
    assert row(r, "a/whole.jpg").status == "ok"
    cut = row(r, "a/cut.jpg")
    assert cut.status == "skipped" and cut.reason.startswith("truncated JPEG")


def test_scan_keeps_jpeg_with_data_after_its_end(tmp_path):
    """Motion photos append a video after FF D9: whole images, even with no marker in the tail."""
    data = _jpeg_bytes()
    jpg(tmp_path / "b" / "ok.jpg")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "motion.jpg").write_bytes(data + b"ftypmp42" * 5000)  # 40 kB after EOI
    (tmp_path / "a" / "padded.jpg").write_bytes(data + b"\0" * 100)
    r = quiet_scan(tmp_path)
    assert row(r, "a/motion.jpg").status == "ok" and row(r, "a/padded.jpg").status == "ok"


def test_scan_reads_one_block_at_the_tail_of_a_big_jpeg(tmp_path, monkeypatch):
    """The check is cheap: the head Pillow already read, then one seek to the end."""
    from selib.data import headers

    data = _jpeg_bytes(600, 800)
    assert len(data) > 2 * headers._HEAD
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "big.jpg").write_bytes(data)
    (tmp_path / "b").mkdir()
    Image.new("L", (20, 20)).save(tmp_path / "b" / "ok.png")
    reads = []
    real = headers.jpeg_file_truncated

    class Spy:
        def __init__(self, f):
            self.f = f

        def seek(self, pos):
            return self.f.seek(pos)

        def read(self, n=-1):
            reads.append(n)
            return self.f.read(n)

    monkeypatch.setattr("selib.data.scanning.jpeg_file_truncated", lambda f, size: real(Spy(f), size))
    r = quiet_scan(tmp_path)
    assert row(r, "a/big.jpg").status == "ok"
    assert reads == [headers._HEAD, headers._TAIL]  # the head (cached) and one tail block


# ---------------------------------------------------------------- links and special files (D)
def _threaded_scan(root, timeout: float = 20.0, **kw) -> ScanResult:
    """Scan in a daemon thread: a scan that hangs (an opened FIFO) fails the test, not CI."""
    import threading

    out: dict = {}

    def go():
        try:
            out["r"] = quiet_scan(root, **kw)
        except BaseException as exc:  # re-raised below
            out["e"] = exc

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"scan hung for {timeout} s (it opened a FIFO?)"
    if "e" in out:
        raise out["e"]
    return out["r"]


def _symlink(link: Path, target) -> None:
    try:
        link.symlink_to(target)
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not allowed here")


def _accounted(r: ScanResult) -> None:
    assert len(r.ok) + len(r.skipped) == r.n_seen
    assert (r.skipped["reason"].str.len() > 0).all()
    assert r.table["rel_path"].is_unique


def test_symlinks_to_files_are_followed_wherever_they_point(tmp_path):
    root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    jpg(root / "a" / "real.jpg")
    jpg(root / "b" / "ok.jpg")
    jpg(elsewhere / "outside.jpg", 50, 70)
    _symlink(root / "a" / "in.jpg", root / "a" / "real.jpg")
    _symlink(root / "a" / "out.jpg", elsewhere / "outside.jpg")
    _symlink(root / "a" / "relative.jpg", "real.jpg")
    r = _threaded_scan(root)
    for rel in ("a/in.jpg", "a/out.jpg", "a/relative.jpg"):
        assert row(r, rel).status == "ok", rel
    assert (row(r, "a/out.jpg").width, row(r, "a/out.jpg").path) == (70, str(root / "a" / "out.jpg"))
    _accounted(r)


def test_symlink_loop_skipped_with_reason(tmp_path):
    jpg(tmp_path / "a" / "ok.jpg")
    jpg(tmp_path / "b" / "ok.jpg")
    _symlink(tmp_path / "a" / "self.jpg", tmp_path / "a" / "self.jpg")
    _symlink(tmp_path / "a" / "ping.jpg", tmp_path / "a" / "pong.jpg")
    _symlink(tmp_path / "a" / "pong.jpg", tmp_path / "a" / "ping.jpg")
    r = _threaded_scan(tmp_path)
    for rel in ("a/self.jpg", "a/ping.jpg", "a/pong.jpg"):
        assert row(r, rel).status == "skipped" and "loop" in row(r, rel).reason
    _accounted(r)


def test_links_to_folders_inside_class_folders_are_listed_not_followed(tmp_path):
    root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    jpg(root / "a" / "ok.jpg")
    jpg(root / "a" / "sub" / "deep.jpg")
    jpg(root / "b" / "ok.jpg")
    jpg(elsewhere / "x.jpg")
    _symlink(root / "a" / "outside", elsewhere)
    _symlink(root / "a" / "again", root / "a" / "sub")
    _symlink(root / "a" / "loop", root / "a")
    _symlink(root / "a" / "sub" / "up", root)
    for recursive in (False, True):
        r = _threaded_scan(root, recursive=recursive)
        assert "outside the class folder" in row(r, "a/outside").reason
        assert "inside its class folder" in row(r, "a/again").reason
        assert "a loop" in row(r, "a/loop").reason and "a loop" in row(r, "a/sub/up").reason
        assert row(r, "a/sub/deep.jpg").status == ("ok" if recursive else "skipped")
        assert not any(p.startswith(("a/outside/", "a/again/", "a/loop/")) for p in r.table.rel_path)
        _accounted(r)
    assert any("not followed" in w for w in r.warnings)


def test_root_entries_links_and_oddities_are_all_accounted(tmp_path):
    root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    jpg(root / "chair" / "1.jpg")
    jpg(elsewhere / "sofa" / "1.jpg")
    jpg(elsewhere / "loose.jpg")
    _symlink(root / "sofa", elsewhere / "sofa")             # a class folder kept elsewhere
    _symlink(root / "chair_again", root / "chair")          # the same images twice
    _symlink(root / "everything", root)                     # a loop
    _symlink(root / "gone", tmp_path / "nowhere")           # broken, at the root
    _symlink(root / "loose.jpg", elsewhere / "loose.jpg")   # a file at the root, via a link
    os.mkfifo(root / "pipe")
    r = _threaded_scan(root)
    assert r.class_names == ["chair", "sofa"]
    assert row(r, "sofa/1.jpg").status == "ok" and row(r, "sofa/1.jpg").label == 1
    assert "overlaps class folder 'chair'" in row(r, "chair_again").reason
    assert "a loop" in row(r, "everything").reason
    assert "broken symbolic link" in row(r, "gone").reason
    assert "root" in row(r, "loose.jpg").reason
    assert "named pipe" in row(r, "pipe").reason
    assert r.n_seen == 7
    _accounted(r)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_in_class_folder_is_skipped_without_hanging(tmp_path):
    jpg(tmp_path / "a" / "ok.jpg")
    jpg(tmp_path / "b" / "ok.jpg")
    (tmp_path / "a" / "nested").mkdir()
    os.mkfifo(tmp_path / "a" / "pipe.jpg")
    os.mkfifo(tmp_path / "a" / "nested" / "pipe.jpg")
    _symlink(tmp_path / "b" / "to_pipe.jpg", tmp_path / "a" / "pipe.jpg")
    for recursive in (False, True):
        r = _threaded_scan(tmp_path, recursive=recursive)
        for rel in ("a/pipe.jpg", "a/nested/pipe.jpg", "b/to_pipe.jpg"):
            assert row(r, rel).status == "skipped" and "named pipe (FIFO)" in row(r, rel).reason
        _accounted(r)


def test_socket_and_device_files_are_skipped(tmp_path, monkeypatch):
    import socket

    jpg(tmp_path / "a" / "ok.jpg")
    jpg(tmp_path / "b" / "ok.jpg")
    if not hasattr(socket, "AF_UNIX") or not Path("/dev/null").exists():
        pytest.skip("no Unix sockets or /dev/null here")
    monkeypatch.chdir(tmp_path / "a")  # short relative name: socket paths are limited to ~100 bytes
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind("sock.jpg")
        _symlink(tmp_path / "a" / "null.jpg", "/dev/null")
        r = _threaded_scan(tmp_path)
    finally:
        s.close()
    assert "socket" in row(r, "a/sock.jpg").reason
    assert "character device" in row(r, "a/null.jpg").reason
    _accounted(r)


def test_permission_denied_file_and_folder_are_skipped_with_reason(tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root ignores file permissions (see the simulated test below)")
    jpg(tmp_path / "a" / "ok.jpg")
    jpg(tmp_path / "b" / "ok.jpg")
    jpg(tmp_path / "a" / "locked.jpg").chmod(0o000)
    jpg(tmp_path / "a" / "sub" / "x.jpg")
    (tmp_path / "a" / "sub").chmod(0o000)
    try:
        r = _threaded_scan(tmp_path, recursive=True)
    finally:
        (tmp_path / "a" / "sub").chmod(0o755)
        (tmp_path / "a" / "locked.jpg").chmod(0o644)
    assert "Permission denied" in row(r, "a/locked.jpg").reason
    assert "cannot list folder" in row(r, "a/sub").reason
    _accounted(r)


def test_permission_denied_simulated(tmp_path, monkeypatch):
    """The same paths as above, with the OS errors injected (so they run as root too)."""
    from selib.data import scanning

    jpg(tmp_path / "a" / "ok.jpg")
    jpg(tmp_path / "a" / "locked.jpg")
    jpg(tmp_path / "a" / "sub" / "x.jpg")
    jpg(tmp_path / "b" / "ok.jpg")
    jpg(tmp_path / "c" / "ok.jpg")
    real_scandir, real_open = os.scandir, scanning.open_regular
    denied = {str(tmp_path / "a" / "sub"), str(tmp_path / "c")}

    def scandir(path="."):
        if str(path) in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    def open_regular(path, *a):
        if Path(path).name == "locked.jpg":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(scanning, "open_regular", open_regular)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = scan(tmp_path, recursive=True)
    assert any("cannot list 2 folder(s)" in str(w.message) for w in caught)
    assert row(r, "a/locked.jpg").reason == "cannot read file: Permission denied"
    assert row(r, "a/sub").reason.startswith("cannot list folder: Permission denied")
    assert row(r, "c").reason.startswith("cannot list folder") and r.class_names == ["a", "b"]
    _accounted(r)


def test_unreadable_root_is_a_clear_error(tmp_path, monkeypatch):
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p=".": (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", str(p))) if Path(p) == tmp_path else real_scandir(p))
    with pytest.raises(DataFolderError, match="cannot read data folder .*Permission denied"):
        scan(tmp_path)
