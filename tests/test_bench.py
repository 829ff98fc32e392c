"""Smoke tests for bench/: every benchmark runs on its tiny setting and writes the JSON it promises.

No timing is asserted (these machines are shared and noisy): only that each script runs, prints,
and writes valid JSON with the expected keys. All of them run once, in this process, through
``bench/run_all.py --tiny --in-process`` (one TensorFlow start-up instead of seven).
"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPECTED = {
    "bench_vs_keras": {"machine", "params", "check", "contention", "results", "goal"},
    "bench_se_overhead": {"machine", "params", "results", "paper", "goal"},
    "bench_machine_limit": {"machine", "params", "peak", "training", "op_profile", "goal"},
    "bench_input_pipeline": {"machine", "params", "results", "contention", "goal"},
    "bench_loader": {"machine", "params", "images", "results"},
    "time_to_accuracy": {"machine", "params", "load_seconds", "curve", "reached", "final"},
    "gpu_seed": {"machine", "skipped"},
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-results")
    rc = _load("run_all").main(["--tiny", "--in-process", "--results", str(out)])
    return out, rc


def _json(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text())


def test_run_all_runs_every_benchmark(tiny):
    out, rc = tiny
    assert rc == 0
    assert set(_load("run_all").BENCHMARKS) == set(EXPECTED)
    summary = (out / "summary.md").read_text()
    assert "FAILED" not in summary
    for name in EXPECTED:
        assert f"`{name}`" in summary


@pytest.mark.parametrize("name", list(EXPECTED))
def test_writes_json_with_expected_keys(tiny, name):
    out, _ = tiny
    data = _json(out, name)
    assert EXPECTED[name] <= data.keys()
    if "goal" in data:
        assert isinstance(data["goal"]["met"], bool)
    assert not list(out.glob("*.tmp"))          # written atomically


def test_vs_keras_builds_the_same_network(tiny):
    r = _json(tiny[0], "bench_vs_keras")
    p = r["check"]["parameters"]
    assert p["selib"] == p["keras"] > 0
    assert r["check"]["max_abs_output_diff_same_weights"] < 1e-4
    for phase in ("train", "inference"):
        q = r["results"][phase]["selib_over_keras"]
        assert {"wall", "wall_best", "cpu"} <= q.keys() and all(v > 0 for v in q.values())


def test_se_overhead_reports_ratios_and_paper(tiny):
    r = _json(tiny[0], "bench_se_overhead")
    for x in r["results"]:
        assert x["train_ratio"] > 0 and x["latency_ratio"] > 0
        assert x["params"]["se"] > x["params"]["plain"] and x["macs_ratio"] > 1
    assert r["paper"]["train_ms"]["resnet50"] == 190 and r["paper"]["cpu_inference_ms"]["se_resnet50"] == 167


def test_machine_limit_fractions_and_profile(tiny):
    r = _json(tiny[0], "bench_machine_limit")
    assert r["peak"]["peak_gflops"] > 0
    for x in r["training"]:
        assert 0 < x["fraction_wall"] and 0 < x["fraction_cpu"]
        assert math.isclose(x["train_gflops_per_image"], 3 * x["forward_gflops_per_image"])
    shares = r["op_profile"][0]["op_share"]
    assert shares and math.isclose(sum(shares.values()), 1.0, rel_tol=1e-6)


def test_input_pipeline_sources(tiny):
    r = _json(tiny[0], "bench_input_pipeline")
    assert set(r["results"]) == {"tensors", "selib", "selib+aug", "decode"}
    assert r["results"]["tensors"]["ratio_to_tensors"] == pytest.approx(1.0)


def test_time_to_accuracy_curve(tiny):
    r = _json(tiny[0], "time_to_accuracy")
    assert [row["epoch"] for row in r["curve"]] == [1, 2]
    assert all(0 <= row["test_accuracy"] <= 1 and row["seconds"] > 0 for row in r["curve"])
    assert set(r["reached"]) == {"80", "85", "90", "95", "97"}


def test_gpu_seed_tiny_trains_and_extrapolates(tiny):
    r = _json(tiny[0], "gpu_seed")      # run_all passes --allow-cpu with --tiny
    assert r["skipped"] is False
    assert len(r["epochs"]) == 2 and r["extrapolated"]["epochs_measured"] == 2
    assert r["extrapolated"]["total_seconds_20_epochs"] > 0


def test_first_reached_takes_the_first_epoch_at_or_above():
    tta = _load("time_to_accuracy")
    curve = [{"epoch": 1, "seconds": 10.0, "test_accuracy": 0.5},
             {"epoch": 2, "seconds": 20.0, "test_accuracy": 0.85},
             {"epoch": 3, "seconds": 30.0, "test_accuracy": 0.84},
             {"epoch": 4, "seconds": 40.0, "test_accuracy": 0.91}]
    got = tta.first_reached(curve)
    assert got["80"]["seconds"] == 20.0 and got["85"]["epoch"] == 2
    assert got["90"]["seconds"] == 40.0 and got["95"] is None


def test_gpu_seed_extrapolation_uses_later_epochs():
    g = _load("gpu_seed")
    rows = [{"epoch": i + 1, "epoch_seconds": s, "train_images_per_s": 100.0, "batches": 3}
            for i, s in enumerate([30.0, 10.0, 12.0, 11.0])]
    x = g.extrapolate(rows, 20)
    assert x["total_seconds_20_epochs"] == pytest.approx(30 + 19 * 11)
    assert x["speedup_vs_seed_6h"] == pytest.approx(6 * 3600 / (30 + 19 * 11))


def test_gpu_seed_skips_cleanly_without_gpu(tmp_path, capsys):
    g = _load("gpu_seed")
    if g.gpu_names():
        pytest.skip("a GPU is present: the real run is not a smoke test")
    res = g.main(["--json", str(tmp_path / "g.json")])
    assert res["skipped"] is True and json.loads((tmp_path / "g.json").read_text())["skipped"] is True
    assert "no GPU: skipped" in capsys.readouterr().out
