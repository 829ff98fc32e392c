"""The prepared GPU run (bench/gpu_profiles.py) and its helpers, proven on a CPU.

The GPU machine runs Keras on JAX with no TensorFlow and no package registry, and gives one
try: so the whole script runs here on its ``--tiny --allow-cpu`` setting, once on the suite's
backend and once on JAX with ``import tensorflow`` made to fail, and the photo downsizing, the
goal arithmetic, the time budget and the missing-package message are checked on their own.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# downsize_photos
# ---------------------------------------------------------------------------------------------
def _photo(path: Path, h: int, w: int) -> None:
    import cv2

    img = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)


def test_downsize_keeps_classes_caps_the_short_side_and_never_enlarges(tmp_path):
    import cv2

    src = tmp_path / "src"
    _photo(src / "chair" / "big.png", 600, 400)       # portrait: short side is the width
    _photo(src / "sofa" / "small.jpg", 100, 80)
    (src / "sofa" / "broken.jpg").write_bytes(b"not a jpeg")
    (src / "sofa" / "notes.txt").write_text("not an image")
    res = _load("downsize_photos").downsize_folder(src, tmp_path / "dst", short_side=256, quality=85)
    assert res["per_class"] == {"chair": 1, "sofa": 1} and res["skipped"] == ["sofa/broken.jpg"]
    big = cv2.imread(str(tmp_path / "dst" / "chair" / "big.jpg"))
    small = cv2.imread(str(tmp_path / "dst" / "sofa" / "small.jpg"))
    assert big.shape[:2] == (384, 256)                  # aspect kept, short side 256
    assert small.shape[:2] == (100, 80)                 # never enlarged
    assert res["bytes"] == sum(p.stat().st_size for p in (tmp_path / "dst").rglob("*.jpg"))


def test_downsize_refuses_an_existing_destination_in_one_line(tmp_path, capsys):
    _photo(tmp_path / "src" / "chair" / "a.png", 50, 50)
    (tmp_path / "dst").mkdir()
    with pytest.raises(SystemExit) as e:
        _load("downsize_photos").main([str(tmp_path / "src"), str(tmp_path / "dst")])
    assert e.value.code == 2 and "exists; pass --force" in capsys.readouterr().err


def test_the_photo_copy_folder_and_the_wheels_are_git_ignored():
    for path in ("gpu_data/realdata256/chair/x.jpg", "gpu_wheels/keras.whl"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0, path


# ---------------------------------------------------------------------------------------------
# gpu_profiles: goal, budget, missing packages
# ---------------------------------------------------------------------------------------------
def test_goal_says_by_how_much_it_is_missed():
    g = _load("gpu_profiles")
    run = {"test_accuracy": 0.9712, "train_seconds": 75.0, "first_epoch_seconds": 30.0}
    v = g.goal_verdict(run)
    assert v["met"] is False and v["accuracy_short_by_points"] == pytest.approx(0.88)
    assert v["seconds_over"] == pytest.approx(15.0) and v["train_seconds_without_first_epoch"] == 45.0
    ok = g.goal_verdict({"test_accuracy": 0.985, "train_seconds": 59.0, "first_epoch_seconds": 20.0})
    assert ok["met"] is True and ok["accuracy_short_by_points"] == 0 and ok["seconds_over"] == 0


def test_a_missing_package_is_one_line_naming_it(monkeypatch, capsys):
    g = _load("gpu_profiles")
    monkeypatch.setattr(g, "REQUIRED", {**g.REQUIRED, "no_such_module_xyz": "no-such-wheel"})
    assert g.missing_packages("jax" if importlib.util.find_spec("jax") else "tensorflow") == ["no-such-wheel"]
    with pytest.raises(SystemExit) as e:
        g.main(["--tiny", "--allow-cpu"])
    assert "lacks no-such-wheel" in str(e.value.code) and "gpu_wheels.sh" in str(e.value.code)


def test_unknown_part_is_refused(capsys):
    with pytest.raises(SystemExit) as e:
        _load("gpu_profiles").parse_args(["--parts", "profile,nope"])
    assert e.value.code == 2 and "unknown part(s) nope" in capsys.readouterr().err


@pytest.mark.slow            # a TensorFlow start-up and a toy folder: several seconds
def test_budget_spent_leaves_trainings_out_and_says_so(tmp_path):
    """With no time left, no training starts: each left-out cell is named, the JSON still written."""
    out = tmp_path / "g.json"
    res = _load("gpu_profiles").main(["--tiny", "--allow-cpu", "--parts", "precision,se", "--budget-s", "0",
                                      "--json", str(out)])
    assert res["parts_done"] == ["precision", "se"] and json.loads(out.read_text())["parts_done"] == ["precision", "se"]
    assert all(c["skipped"] == c["label"] for c in res["precision"])
    assert [x["skipped"] for x in res["left_out"]["precision"]] == ["float32", "mixed_bfloat16"]
    assert res["left_out"]["se"][0]["skipped"] == "seeds 0-1" and res["se"]["pairs"] == 0


# ---------------------------------------------------------------------------------------------
# The whole script, tiny
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.full     # the GPU script's smoke run, as the other benchmarks'
def test_tiny_run_writes_every_part(tmp_path):
    out = tmp_path / "gpu.json"
    res = _load("gpu_profiles").main(["--tiny", "--allow-cpu", "--budget-s", "1e6", "--json", str(out)])
    saved = json.loads(out.read_text())
    assert saved["parts_done"] == ["profile", "precision", "xla", "se", "batch"]
    assert "left_out" not in saved and "errors" not in saved
    p = saved["provenance"]
    assert {"date", "gpu", "backend", "versions", "command"} <= p.keys() and p["versions"]["keras"]
    run = saved["runs"][0]
    assert run["profile"] == "gpu" and 0 <= run["test_accuracy"] <= 1
    assert saved["goal"]["met"] is False         # 32² toy data in seconds is no 98 %
    # the profile's own cell is measured once and reused by every lesson that asks for it
    prof = (run["precision"], run["xla"], run["batch_size"])
    prec = {c["label"]: c for c in saved["precision"]}
    assert set(prec) == {"float32", "mixed_bfloat16"}
    for c in prec.values():
        assert c["precision"] == c["label"] and c["steady_train_images_per_s"] > 0
        assert ("reused_from" in c) == ((c["precision"], c["xla"], c["batch_size"]) == prof)
    x = saved["xla"]
    # (on TensorFlow's CPU, Keras turns XLA back off for the augmentation's image warp)
    assert x["on"]["label"] == "XLA on" and x["off"]["xla"] is False and x["off"]["compile_seconds"] >= 0
    assert x["off"]["n_train"] < run["n_train"]          # the subset
    assert x["on_over_off_images_per_s"] == pytest.approx(
        x["on"]["steady_train_images_per_s"] / x["off"]["steady_train_images_per_s"])
    assert [c["batch_size"] for c in saved["batch"]] == [8, 16]
    se = saved["se"]
    assert se["pairs"] == 2 and sorted({(r["label"], r["seed"]) for r in se["results"]}) == [
        ("SE", 0), ("SE", 1), ("no SE", 0), ("no SE", 1)]
    lo, hi = se["summary"]["paired_difference"]["ci95"]
    assert lo <= se["summary"]["paired_difference"]["mean"] <= hi and "SE" in se["summary"]["verdict"]
    assert res["skipped"] is False


#: run the script with ``import tensorflow`` failing, as on the GPU machine (JAX, no TensorFlow)
NO_TF = r"""
import importlib.abc, runpy, sys
class NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, NoTensorFlow())
sys.argv = ["bench/gpu_profiles.py", *sys.argv[1:]]
runpy.run_path("bench/gpu_profiles.py", run_name="__main__")
assert not [m for m in sys.modules if m.split(".")[0] == "tensorflow"]
"""


@pytest.mark.slow
@pytest.mark.full
@pytest.mark.jax
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="the jax extra is not installed")
def test_tiny_run_on_jax_without_tensorflow(tmp_path):
    """The profile, then XLA on (the profile's own cell, reused) against off (eager JAX)."""
    import os

    out = tmp_path / "gpu.json"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-c", NO_TF, "--tiny", "--allow-cpu", "--parts", "profile,xla", "--budget-s", "1e6",
                          "--json", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    saved = json.loads(out.read_text())
    assert saved["provenance"]["backend"] == "jax" and saved["provenance"]["versions"]["jax"]
    assert saved["machine"]["tensorflow"] is None and saved["params"]["jax_persistent_compilation_cache"] is True
    assert saved["runs"][0]["xla"] is True and saved["xla"]["on"]["reused_from"] == "profile"
    assert saved["xla"]["off"]["xla"] is False and saved["xla"]["off"]["n_train"] < saved["runs"][0]["n_train"]


def test_results_page_renders_the_goal_the_lessons_and_the_se_interval():
    """``bench/report.py`` turns the GPU JSON into docs/results.md: goal verdict, lesson cells, SE interval."""
    spec = importlib.util.spec_from_file_location("_bench_report_gpu", BENCH / "report.py")
    report = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = report
    spec.loader.exec_module(report)
    cell = lambda label, prec, xla, bs, ips, **kw: {"label": label, "precision": prec, "xla": xla, "batch_size": bs,
                                                    "compile_seconds": 30.0, "steady_train_images_per_s": ips, **kw}
    run = {"profile": "gpu", "test_accuracy": 0.9712, "train_seconds": 75.0, "first_epoch_seconds": 40.0,
           "steady_train_images_per_s": 3000.0, "precision": "mixed_float16"}
    g = _load("gpu_profiles")
    r = {"skipped": False, "params": {"data": "gpu_data/realdata256"}, "runs": [run], "goal": g.goal_verdict(run),
         "precision": [cell("float32", "float32", True, 64, 1000.0),
                       cell("mixed_float16", "mixed_float16", True, 64, 3000.0, reused_from="profile"),
                       {"label": "mixed_bfloat16", "skipped": "mixed_bfloat16"}],
         "xla": {"on": cell("XLA on", "mixed_float16", True, 64, 3000.0), "off": cell("XLA off", "mixed_float16", False, 64, 150.0)},
         "se": {"recipe": "cpu", "image_size": 144, "epochs": 30,
                "summary": {"pairs": 8, "paired_difference": {"mean": 0.4, "ci95": [-0.1, 0.9]},
                            "mean_accuracy": {"no SE": 96.1, "SE": 96.5}, "verdict": "SE (vs no SE): no effect"}}}
    heads, detail = report.gpu_profiles(r)
    text = "\n".join(detail)
    assert "97.1 % in 75 s" in heads[0].result and heads[0].data == report.REAL
    assert "missed: 0.88 points short, 15 s over" in text
    assert "| float32 | float32 | on | 64 | 30.0 s | 1,000 |" in text and "| XLA off | mixed_float16 | off |" in text
    assert "mixed_bfloat16 |" not in text                      # a cell the budget left out is not a row
    assert heads[1].result == "SE − no SE +0.40 points, 95 % CI −0.10 to +0.90 (8 paired seeds)"
