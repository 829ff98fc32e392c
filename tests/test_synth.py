"""selib.synth: a deterministic, correctly drawn, learnable built-in dataset.

Small sizes (`short_range`) keep the whole file to a few seconds plus one tiny training run.
"""
from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from selib.synth import CLASSES, generate, is_current, render_image
from selib.synth.furniture import BUILDERS
from selib.synth.geometry import Camera, box, rasterize, rod

SMALL = (64, 112)   # short side range for the fast sets


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("synth") / "set", per_class=6, seed=7, workers=2,
                    progress=False, short_range=SMALL)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _rows(root: Path) -> list[dict]:
    with (root / "metadata.csv").open() as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------ determinism and layout
def test_same_seed_same_bytes_whatever_the_worker_count(small_set, tmp_path):
    again = generate(tmp_path / "again", per_class=6, seed=7, workers=1, progress=False,
                     short_range=SMALL)
    a, b = _files(small_set), _files(again)
    assert a.keys() == b.keys()
    assert all(a[k] == b[k] for k in a), "a file differs between two runs with the same seed"
    other = generate(tmp_path / "other", per_class=6, seed=8, workers=1, progress=False,
                     short_range=SMALL)
    assert _files(other)["chair/chair_0000.jpg"] != a["chair/chair_0000.jpg"]


def test_images_are_independent_of_the_set_size(small_set):
    img, _ = render_image("sofa", 3, seed=7, short_range=SMALL)
    on_disk = cv2.imread(str(small_set / "sofa" / "sofa_0003.jpg"), cv2.IMREAD_GRAYSCALE)
    assert on_disk.shape == img.shape
    assert np.abs(on_disk.astype(int) - img).mean() < 6      # the same picture, up to JPEG


def test_layout_counts_metadata_and_manifest(small_set):
    assert sorted(p.name for p in small_set.iterdir() if p.is_dir()) == sorted(CLASSES)
    for c in CLASSES:
        names = sorted(p.name for p in (small_set / c).iterdir())
        assert names == [f"{c}_{i:04d}.jpg" for i in range(6)]
    rows = _rows(small_set)
    assert len(rows) == 6 * len(CLASSES)
    assert {r["class"] for r in rows} == set(CLASSES)
    assert all(r["path"] == f"{r['class']}/{r['class']}_{int(r['index']):04d}.jpg" for r in rows)
    assert all(60 <= int(r["quality"]) <= 95 for r in rows)
    manifest = json.loads((small_set / "synth.json").read_text())
    assert manifest["per_class"] == 6 and manifest["seed"] == 7


def test_every_file_decodes_to_a_grey_image_of_the_recorded_size(small_set):
    for r in _rows(small_set):
        img = cv2.imread(str(small_set / r["path"]), cv2.IMREAD_UNCHANGED)
        assert img is not None and img.ndim == 2 and img.dtype == np.uint8
        assert img.shape == (int(r["height_px"]), int(r["width_px"]))
        assert img.std() > 5, "a blank image"


def test_sizes_and_aspect_ratios_vary_within_the_range(small_set):
    shapes = [(int(r["height_px"]), int(r["width_px"])) for r in _rows(small_set)]
    shorts = [min(s) for s in shapes]
    aspects = {round(w / h, 2) for h, w in shapes}
    assert SMALL[0] <= min(shorts) and max(shorts) <= SMALL[1]
    assert len(set(shorts)) > 8 and len(aspects) > 8
    assert any(w > h for h, w in shapes) and any(w < h for h, w in shapes)
    default = [render_image(c, i, seed=1)[0].shape for c in CLASSES for i in range(3)]
    assert all(300 <= min(s) <= 1200 for s in default)


def test_skips_a_current_folder_and_regenerates_a_stale_one(tmp_path):
    out = generate(tmp_path / "s", per_class=2, seed=0, workers=1, progress=False, short_range=SMALL)
    stamp = (out / "chair" / "chair_0001.jpg").stat().st_mtime_ns
    assert is_current(out, 2, 0, SMALL)
    generate(out, per_class=2, seed=0, workers=1, progress=False, short_range=SMALL)
    assert (out / "chair" / "chair_0001.jpg").stat().st_mtime_ns == stamp
    generate(out, per_class=1, seed=0, workers=1, progress=False, short_range=SMALL)
    assert not (out / "chair" / "chair_0001.jpg").exists()      # no stale leftovers
    assert is_current(out, 1, 0, SMALL) and not is_current(out, 2, 0, SMALL)
    (out / "sofa" / "sofa_0000.jpg").unlink()
    assert not is_current(out, 1, 0, SMALL)


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="unknown class"):
        render_image("stool", 0)


# ------------------------------------------------------------------ class rules
def _build(c: str, n: int = 150):
    for i in range(n):
        yield BUILDERS[c](np.random.default_rng([i, 99]))


def _tags(parts) -> list[str]:
    return [p.tag for p in parts]


def test_every_part_stands_on_or_above_the_floor():
    for c in CLASSES:
        for parts, _ in _build(c, 60):
            ys = np.concatenate([p.verts[:, 1] for p in parts])
            assert ys.min() > -1e-6 and ys.min() < 1e-6, f"{c} floats or sinks"


def test_office_chairs_have_a_five_spoke_base_with_casters(small_set):
    for parts, p in _build("office_chair"):
        tags = _tags(parts)
        assert p["n_spokes"] == 5 and tags.count("spoke") == 5
        assert tags.count("caster") == 10                     # a wheel and a stem per spoke
        assert "column" in tags and "back" in tags and "seat" in tags
        assert (tags.count("arm") > 0) == p["has_arms"]
    assert {r["n_spokes"] for r in _rows(small_set) if r["class"] == "office_chair"} == {"5"}


def test_chairs_have_four_legs_a_squarish_seat_and_a_back():
    arms = 0
    for parts, p in _build("chair"):
        assert _tags(parts).count("leg") == 4 and p["n_legs"] == 4
        assert 0.85 <= p["depth"] / p["width"] <= 1.15
        assert 0.40 <= p["seat_height"] <= 0.50
        assert "back" in _tags(parts) or "post" in _tags(parts)
        arms += p["has_arms"]
    assert 0 < arms < 150 * 0.5


def test_benches_are_long_and_shallow_and_half_have_backs():
    backs = 0
    for parts, p in _build("bench", 200):
        assert 2.0 <= p["length_ratio"] <= 5.0
        assert p["length"] == pytest.approx(p["depth"] * p["length_ratio"])
        xs = np.concatenate([q.verts[:, 0] for q in parts if q.tag == "seat"])
        assert np.ptp(xs) == pytest.approx(p["length"], rel=1e-6)
        tags = _tags(parts)
        if p["support"] == "slabs":
            assert tags.count("leg") == 2
        else:
            assert tags.count("leg") == p["n_legs"] in (4, 6)
        backs += p["has_back"]
        assert ("back" in tags) == p["has_back"]
    assert 0.35 < backs / 200 < 0.65


def test_sofas_are_wide_deep_cushioned_with_two_arms():
    armchairs = 0
    for parts, p in _build("sofa"):
        tags = _tags(parts)
        assert tags.count("arm") == 2 and p["n_arms"] == 2
        assert 1 <= p["n_cushions"] <= 3
        assert tags.count("cushion") in (p["n_cushions"], 2 * p["n_cushions"])
        assert p["depth"] >= 0.75
        if p["armchair"]:
            armchairs += 1
            assert p["n_cushions"] == 1
        else:
            assert p["width"] > 1.2 and p["width"] > p["depth"]
    assert 0 < armchairs < 75


# ------------------------------------------------------------------ drawing correctness
def _table():
    """A seat with four legs well inside its footprint: from above, no leg may show."""
    seat = box(-0.3, 0.3, 0.40, 0.45, -0.3, 0.3, tag="seat")
    legs = [rod((x, 0, z), (x, 0.40, z), 0.03, tag="leg") for x in (-0.2, 0.2) for z in (-0.2, 0.2)]
    return [seat] + legs


def _visible_tags(parts, pos) -> set[str]:
    cam = Camera(pos, (0, 0.2, 0), focal=300, cx=120, cy=120, width=240, height=240)
    ids, _, table = rasterize(parts, cam)
    return {parts[table[i][0]].tag for i in np.unique(ids[ids >= 0])}


@pytest.mark.parametrize("order", [1, -1])
@pytest.mark.parametrize("azimuth", [0, 50, 135, 220, 300])
def test_seat_hides_the_legs_from_above_from_every_side(order, azimuth):
    parts = _table()[::order]
    a = np.radians(azimuth)
    above = (2.5 * np.sin(a) * 0.05, 3.0, 2.5 * np.cos(a) * 0.05)
    assert _visible_tags(parts, above) == {"seat"}
    side = (2.5 * np.sin(a), 0.25, 2.5 * np.cos(a))
    assert _visible_tags(parts, side) == {"seat", "leg"}
    below = (0.1 * np.sin(a), -2.0, 0.1 * np.cos(a))         # under a glass floor
    assert "leg" in _visible_tags(parts, below)


def test_nearer_part_wins_whatever_the_drawing_order():
    near = box(-0.2, 0.2, 0.0, 0.4, 0.4, 0.5, tag="near")
    far = box(-0.5, 0.5, -0.3, 0.7, -0.6, -0.5, tag="far")
    cam = Camera((0, 0.2, 3), (0, 0.2, 0), focal=300, cx=120, cy=120, width=240, height=240)
    for parts in ([near, far], [far, near]):
        ids, _, table = rasterize(parts, cam)
        assert parts[table[ids[120, 120]][0]].tag == "near"
        assert parts[table[ids[120, 85]][0]].tag == "far"       # beside the near box
        assert ids[120, 10] == -1                                   # beyond both: background


def test_sofa_legs_hide_under_the_sofa_from_above_and_show_from_the_floor():
    checked = 0
    for parts, p in _build("sofa", 40):
        if p["support"] != "legs":
            continue
        checked += 1
        top = _visible_tags(parts, (0.05, 4.0, 0.1))
        assert "leg" not in top and "cushion" in top
        low = _visible_tags(parts, (0.0, 0.03, 3.0))
        assert "leg" in low
    assert checked > 10


def test_two_renderers_of_one_folder_render_it_once(tmp_path, monkeypatch):
    """Two notebooks started at once on a fresh machine: the second waits for the first and
    finds the set current; it never deletes the files the first one is writing."""
    import threading

    import selib.synth.dataset as ds

    calls, original = [], ds._write_metadata

    def slow_finish(*args, **kw):          # the last step of a render, before the set is current
        calls.append(threading.get_ident())
        time.sleep(0.5)                    # long enough for the other thread to arrive
        return original(*args, **kw)

    monkeypatch.setattr(ds, "_write_metadata", slow_finish)
    out = tmp_path / "set"
    threads = [threading.Thread(target=generate, args=(out,), kwargs=dict(per_class=2, workers=1, progress=False))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(calls) == 1 and is_current(out, 2, 0, ds.SHORT_RANGE)
    assert sorted(p.name for p in (out / "sofa").iterdir()) == ["sofa_0000.jpg", "sofa_0001.jpg"]


def test_a_renderer_waits_for_the_folders_lock(tmp_path):
    import threading

    from selib._locks import held
    from selib.synth.dataset import SHORT_RANGE

    out = tmp_path / "set"
    done = []
    with held(tmp_path / ".set.lock"):
        t = threading.Thread(target=lambda: done.append(generate(out, per_class=1, workers=1, progress=False)))
        t.start()
        t.join(1.0)
        assert t.is_alive() and not done                 # waiting, not rendering
    t.join(60)
    assert done and is_current(out, 1, 0, SHORT_RANGE)


def test_a_small_profile_renders_the_first_images_of_the_full_set_in_its_own_folder(tmp_path, monkeypatch):
    """The ``ci`` profile's set holds the full set's first images, byte for byte, in a folder of
    its own: a test run never replaces the full set a learner rendered, nor the other way round."""
    from selib.synth import build, builtin_size, ensure_builtin
    from selib.synth.dataset import DEFAULT_PER_CLASS

    assert builtin_size("ci") == ("synthchairs_150", 150)
    assert builtin_size("cpu") == builtin_size("quick") == builtin_size(None) == ("synthchairs", DEFAULT_PER_CLASS)
    monkeypatch.setattr(build, "PROFILE_PER_CLASS", {"ci": 1})
    monkeypatch.setattr(build, "DEFAULT_PER_CLASS", 2)
    small = ensure_builtin(tmp_path, progress=False, profile="ci")
    full = ensure_builtin(tmp_path, progress=False, profile="cpu")
    assert (small.name, full.name) == ("synthchairs_1", "synthchairs")
    assert is_current(small, 1) and is_current(full, 2)       # neither replaced the other
    for c in CLASSES:
        assert [f.name for f in sorted((small / c).glob("*.jpg"))] == [f"{c}_0000.jpg"]
        assert (small / c / f"{c}_0000.jpg").read_bytes() == (full / c / f"{c}_0000.jpg").read_bytes()


# ------------------------------------------------------------------ learnable
@pytest.mark.slow
def test_a_tiny_cnn_beats_chance():
    """The built-in set that learners train on (data/synthchairs) is learnable. It is read, not
    rendered again for this test: the notebooks need it anyway, and rendering costs more than
    the training here."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from keras import layers

    from selib.paths import data_dir
    from selib.synth import ensure_builtin

    # on a fresh clone the set is rendered here or by the first notebook, whichever comes first;
    # under the ci profile (`make test`) that is its 150 images per class, all this test reads
    profile = os.environ.get("SELIB_PROFILE")
    size, root = 32, ensure_builtin(data_dir("synthchairs").parent, progress=False, profile=profile)

    def load(lo: int, hi: int):
        x, y = [], []
        for k, c in enumerate(CLASSES):
            files = sorted((root / c).iterdir())[lo:hi]
            assert len(files) == hi - lo, f"the built-in set has too few {c} images"
            for f in files:
                img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
                x.append(cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA))
                y.append(k)
        return np.stack(x)[..., None].astype("float32") / 255.0, np.array(y)

    x_train, y_train = load(0, 120)
    x_test, y_test = load(120, 150)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((size, size, 1)),
        layers.Conv2D(16, 3, activation="relu", padding="same"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu", padding="same"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu", padding="same"), layers.MaxPooling2D(),
        layers.GlobalAveragePooling2D(), layers.Dense(len(CLASSES), activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
    acc = float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean())
    # the set is meant to be hard (any view, clutter, overlapping classes): a 20-epoch toy on
    # 480 thumbnails of 32² lands around 0.55 (0.53 and 0.55 with seeds 0 and 1); blank,
    # mislabelled or class-independent images give 0.25
    assert acc > 0.35, f"test accuracy {acc:.2f} is not clearly above chance (0.25)"
