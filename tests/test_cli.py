"""The `selib` command: clear one-line errors, evaluate on another folder, predict with a bad file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from toyfolder import make_toy_folder

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def selib(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selib", *args], capture_output=True, text=True, env=ENV,
                          timeout=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = make_toy_folder(root / "seats", per_class=16, size=40)
    res = selib("train", "--data", str(data), "--profile", "ci", "--out", str(root / "run"), "--verbose", "0",
                "--set", "max_per_class=null")
    assert res.returncode == 0, res.stderr[-800:]
    assert "test accuracy" in res.stdout and "worst confusions" in res.stdout
    return root, data


def test_missing_folder_is_one_line(tmp_path):
    res = selib("inspect", str(tmp_path / "nope"))
    assert res.returncode == 2
    assert res.stderr.strip().startswith("selib: error:") and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_inspect_reports_counts(trained):
    root, data = trained
    res = selib("inspect", str(data), "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["class_names"] == ["bench", "chair", "office_chair", "sofa"] and info["loaded"] == 64


def test_evaluate_on_another_folder_and_mismatch(trained, tmp_path):
    root, data = trained
    # a different folder with the same class names (a subset is fine too)
    other = make_toy_folder(tmp_path / "other", classes=("bench", "chair"), per_class=6, size=40, seed=3)
    res = selib("evaluate", "--model", str(root / "run" / "model.keras"), "--data", str(other),
                "--out", str(tmp_path / "ev"), "--no-figures")
    assert res.returncode == 0, res.stderr[-800:]
    m = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert m["n"] == 12 and 0 <= m["accuracy"] <= 1 and len(m["confusion"]) == 4
    # different class names: a clear error, no traceback
    wrong = make_toy_folder(tmp_path / "wrong", classes=("cat", "dog"), per_class=3, size=40)
    res = selib("evaluate", "--model", str(root / "run" / "model.keras"), "--data", str(wrong))
    assert res.returncode == 2 and "class names differ" in res.stderr and "Traceback" not in res.stderr


def test_predict_keeps_going_past_a_bad_image(trained, tmp_path):
    root, data = trained
    good = sorted((data / "chair").iterdir())[0]
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    res = selib("predict", "--model", str(root / "run" / "model.keras"), str(good), str(bad), "--json",
                "--top-k", "2")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert len(out) == 2 and len(out[0]["top"]) == 2 and "error" in out[1]
    probs = [t["probability"] for t in out[0]["top"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
    assert {t["class"] for t in out[0]["top"]} <= {"bench", "chair", "office_chair", "sofa"}


def test_train_with_bad_setting_is_one_line(trained):
    root, data = trained
    res = selib("train", "--data", str(data), "--profile", "ci", "--set", "epochz=3", "--out", str(root / "x"))
    assert res.returncode == 2 and "unknown TrainConfig field" in res.stderr
