"""selib.data.scanning: every file seen is either loadable or skipped with a reason; layout problems are clear.

All fixtures are generated here with NumPy/OpenCV/Pillow: no binary files to keep.
"""
from __future__ import annotations

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
    assert len(messy.ok) == 11  # 9 good + truncated (header is fine) + unicode name
    text = messy.report()
    assert "17 files seen = 11 loadable + 6 skipped" in text and str(messy) == text


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


def test_truncated_jpeg_header_is_fine(messy):
    # The header reads fine; loading catches it (see test_loading).
    assert row(messy, "sofa/truncated.jpg").status == "ok"


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
    assert s.per_class["count"].to_dict() == {"bench": 3, "chair": 3, "sofa": 5}
    assert s.per_class["share"].sum() == pytest.approx(1.0)
    assert s.per_class.loc["chair", "skipped"] == 2 and s.per_class.loc["bench", "skipped"] == 1
    assert s.imbalance == pytest.approx(5 / 3)
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
