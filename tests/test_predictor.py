"""Predictor: a run folder's model used on new photos exactly as it was trained, and the saved
model as a self-contained Keras file (issue 12, part 1)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from selib.errors import ClassMismatchError, ModelFileError
from toyfolder import CLASSES, ENV, REPO, make_toy_folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """New photos at exactly the trained size (16² gray): the model's raw input, no resizing."""
    return make_toy_folder(tmp_path_factory.mktemp("photos") / "new", per_class=3, size=16, seed=5)


def test_load_from_folder_or_file(trained_run):
    from selib.predictor import Predictor

    a, b = Predictor.load(trained_run), Predictor.load(trained_run / "model.keras")
    assert a.class_names == b.class_names == list(CLASSES) and a.size == b.size == (16, 16)
    assert a.spec["color"] == "grayscale" and a.spec["input_dtype"] == "uint8"


def test_prepare_matches_the_training_images(trained_run, toy_data):
    from selib.predictor import Predictor
    from selib.training.trainer import prepare_data
    from toyfolder import tiny_config

    p = Predictor.load(trained_run)
    prepared = prepare_data(tiny_config(), toy_data)
    k = 5
    x = p.prepare(prepared.data.paths[k])
    assert x.dtype == np.uint8 and x.shape == (16, 16, 1)
    np.testing.assert_array_equal(x, prepared.data.images[k])        # the photo is resized as in training


def test_predict_files_and_evaluate_folder_agree(trained_run, photos):
    from selib.predictor import Predictor

    p = Predictor.load(trained_run)
    files = sorted(photos.rglob("*.png"))
    res = p.predict_files(files, top_k=4)
    assert all(r.ok and len(r.top) == 4 for r in res)
    assert all(abs(sum(q for _, q in r.top) - 1) < 1e-4 for r in res)
    ev, loaded = p.evaluate_folder(photos, use_cache=False)
    by_path = {str(f): r.top[0][0] for f, r in zip(files, res)}
    assert [CLASSES[i] for i in ev.y_pred] == [by_path[str(q)] for q in loaded.paths]
    assert ev.accuracy == np.mean([by_path[str(q)] == q.parent.name for q in map(type(files[0]), loaded.paths)])


def test_evaluate_a_subset_and_refuse_unknown_classes(trained_run, tmp_path):
    from selib.predictor import Predictor

    p = Predictor.load(trained_run)
    sub = make_toy_folder(tmp_path / "sub", classes=("chair", "sofa"), per_class=2, size=16)
    ev, loaded = p.evaluate_folder(sub, use_cache=False)
    assert sorted(set(ev.y_true.tolist())) == [1, 3] and ev.class_names == list(CLASSES)  # the model's indices
    wrong = make_toy_folder(tmp_path / "wrong", classes=("chair", "stool"), per_class=2, size=16)
    with pytest.raises(ClassMismatchError, match="stool unknown"):
        p.evaluate_folder(wrong, use_cache=False)


def test_inconsistent_or_foreign_folder_is_refused(run_copy, tmp_path):
    from selib.predictor import Predictor

    spec = json.loads((run_copy / "preprocessing.json").read_text())
    (run_copy / "manifest.json").unlink()    # no fingerprints to check: the model is asked
    (run_copy / "preprocessing.json").write_text(json.dumps({**spec, "class_names": ["a", "b"]}))
    with pytest.raises(ModelFileError, match="names 2 classes but the model predicts 4"):
        Predictor.load(run_copy)
    (run_copy / "preprocessing.json").write_text("{")
    with pytest.raises(ModelFileError, match="is damaged"):
        Predictor.load(run_copy)
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(run_copy / "model.keras", bare)
    with pytest.raises(ModelFileError, match="is not a selib run folder"):
        Predictor.load(bare / "model.keras")


# The check runs in a fresh interpreter with plain Keras. selib's own layers (SqueezeExcite,
# ECA, RandomAffine) are registered Keras serializables ("selib>SqueezeExcite"), and Keras
# resolves a registered name only once the package that registers it is imported, so plain
# `keras.saving.load_model` without `import selib` cannot rebuild them: the script records that
# first, then loads with only the layers registered (`import selib.layers`).
PLAIN_KERAS = r"""
import json, sys
import cv2, numpy as np, keras
path, files = sys.argv[1], sys.argv[2:]
x = np.stack([cv2.imread(f, cv2.IMREAD_GRAYSCALE)[..., None] for f in files])   # raw uint8, no scaling
try:
    keras.saving.load_model(path, safe_mode=True)
    without = "loaded"
except Exception as exc:
    without = f"{type(exc).__name__}: {exc}"
before = sorted(m for m in sys.modules if m.split(".")[0] == "selib")
import selib.layers  # registers selib's layer classes, nothing else is used
model = keras.saving.load_model(path, safe_mode=True)
probs = model.predict(x, verbose=0)
print(json.dumps({"without_selib": without, "selib_before": before, "dtype": str(model.input.dtype),
                  "shape": list(model.input.shape[1:]), "probs": probs.tolist()}))
"""


@pytest.mark.slow
def test_saved_model_is_self_contained_with_plain_keras(trained_run, photos):
    from selib.predictor import Predictor

    files = [str(f) for f in sorted(photos.rglob("*.png"))]
    out = subprocess.run([sys.executable, "-c", PLAIN_KERAS, str(trained_run / "model.keras"), *files],
                         capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["selib_before"] == []                       # the raw-image part ran without selib
    assert got["without_selib"] == "loaded" or "selib>" in got["without_selib"], got["without_selib"]
    assert got["dtype"] == "uint8" and got["shape"] == [16, 16, 1]
    probs = np.array(got["probs"])
    ref = Predictor.load(trained_run)
    expected = ref.predict_proba(np.stack([ref.prepare(f) for f in files]))
    np.testing.assert_allclose(probs, expected, atol=1e-3)   # 1e-3: this process may run on a GPU
    assert [r.top[0][0] for r in ref.predict_files(files)] == [CLASSES[i] for i in probs.argmax(1)]
