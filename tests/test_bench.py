"""Smoke tests for bench/: every benchmark runs on its tiny setting and writes the JSON it promises.

No timing is asserted (these machines are shared and noisy): only that each script runs, prints,
and writes valid JSON with the expected keys. All of them run once, in this process, through
``bench/run_all.py --tiny --in-process`` (one TensorFlow start-up instead of seven).
"""
from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses (bench/report.py) look their module up there
    spec.loader.exec_module(module)
    return module


EXPECTED = {
    "bench_vs_keras": {"machine", "params", "check", "contention", "results", "goal"},
    "bench_se_overhead": {"machine", "params", "results", "paper", "goal"},
    "bench_machine_limit": {"machine", "params", "peak", "training", "op_profile", "goal"},
    "bench_loader": {"machine", "params", "images", "results"},
    "time_to_accuracy": {"machine", "params", "load_seconds", "curve", "reached", "final"},
    "gpu_profiles": {"machine", "device", "skipped"},
    "se_on_real": {"machine", "skipped", "params", "results", "summary"},
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-results")
    rc = _load("run_all").main(["--tiny", "--in-process", "--results", str(out)])
    return out, rc


def _json(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text())


@pytest.mark.full
def test_run_all_runs_every_benchmark(tiny):
    out, rc = tiny
    assert rc == 0
    assert set(_load("run_all").BENCHMARKS) == set(EXPECTED)
    assert sorted(p.stem for p in out.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.full
@pytest.mark.parametrize("name", list(EXPECTED))
def test_writes_json_with_expected_keys(tiny, name):
    out, _ = tiny
    data = _json(out, name)
    assert EXPECTED[name] <= data.keys()
    if "goal" in data:
        assert isinstance(data["goal"]["met"], bool)
    assert not list(out.glob("*.tmp"))          # written atomically


@pytest.mark.full
def test_vs_keras_builds_the_same_network(tiny):
    r = _json(tiny[0], "bench_vs_keras")
    p = r["check"]["parameters"]
    assert p["selib"] == p["keras"] > 0
    assert r["check"]["max_abs_output_diff_same_weights"] < 1e-4
    for phase in ("train", "inference"):
        q = r["results"][phase]["selib_over_keras"]
        assert {"wall", "wall_best", "cpu"} <= q.keys() and all(v > 0 for v in q.values())


@pytest.mark.full
def test_se_overhead_reports_ratios_and_paper(tiny):
    r = _json(tiny[0], "bench_se_overhead")
    for x in r["results"]:
        assert x["train_ratio"] > 0 and x["latency_ratio"] > 0
        assert x["params"]["se"] > x["params"]["plain"] and x["macs_ratio"] > 1
    assert r["paper"]["train_ms"]["resnet50"] == 190 and r["paper"]["cpu_inference_ms"]["se_resnet50"] == 167


@pytest.mark.full
def test_machine_limit_fractions_and_profile(tiny):
    r = _json(tiny[0], "bench_machine_limit")
    assert r["peak"]["peak_gflops"] > 0
    for x in r["training"]:
        assert 0 < x["fraction_wall"] and 0 < x["fraction_cpu"]
        assert math.isclose(x["train_gflops_per_image"], 3 * x["forward_gflops_per_image"])
    shares = r["op_profile"][0]["op_share"]
    assert shares and math.isclose(sum(shares.values()), 1.0, rel_tol=1e-6)
    # "% of peak" is against the peak of the precision the networks trained in
    pk = r["peak"]
    assert pk["precision"] == r["params"]["precision"] == r["training"][0]["precision"]
    assert pk["dtype"] == r["training"][0]["peak_dtype"] == _load("bench_machine_limit").compute_dtype(pk["precision"])
    assert (pk["dtype"] != "float32") == ("float32_reference" in pk)


@pytest.mark.full
def test_time_to_accuracy_curve(tiny):
    r = _json(tiny[0], "time_to_accuracy")
    assert [row["epoch"] for row in r["curve"]] == [1, 2]
    assert all(0 <= row["test_accuracy"] <= 1 and row["seconds"] > 0 for row in r["curve"])
    assert set(r["reached"]) == {"80", "85", "90", "95", "97"}


@pytest.mark.full
def test_gpu_profiles_tiny_trains_through_selib_train(tiny):
    r = _json(tiny[0], "gpu_profiles")      # run_all passes --allow-cpu with --tiny
    assert r["skipped"] is False and [x["profile"] for x in r["runs"]] == ["gpu"]
    run = r["runs"][0]
    assert run["epochs"] == 2 == len(run["per_epoch_seconds"])
    assert run["steady_epoch_seconds"] == run["per_epoch_seconds"][1]
    assert run["precision"] in ("float32", "mixed_bfloat16") and 0 <= run["test_accuracy"] <= 1
    assert run["config"]["model"]["depth"] == [2, 2, 2, 2]   # gpu-shaped: the profile's depth kept


def test_first_reached_takes_the_first_epoch_at_or_above():
    tta = _load("time_to_accuracy")
    curve = [{"epoch": 1, "seconds": 10.0, "test_accuracy": 0.5},
             {"epoch": 2, "seconds": 20.0, "test_accuracy": 0.85},
             {"epoch": 3, "seconds": 30.0, "test_accuracy": 0.84},
             {"epoch": 4, "seconds": 40.0, "test_accuracy": 0.91}]
    got = tta.first_reached(curve)
    assert got["80"]["seconds"] == 20.0 and got["85"]["epoch"] == 2
    assert got["90"]["seconds"] == 40.0 and got["95"] is None


def _tta_run(label, seed, times, accs, saved_acc, precision="float32"):
    curve = [{"epoch": i + 1, "seconds": t, "test_accuracy": a} for i, (t, a) in enumerate(zip(times, accs))]
    return {"params": {"label": label, "seed": seed, "epochs": len(curve), "augmentation": "fused"},
            "precision": precision, "curve": curve,
            "reached": _load("time_to_accuracy").first_reached(curve),
            "load_avg": {"epoch_mean": 1.0}, "contention": {"others_cores": 0.1},
            "final": {"test_accuracy_best_checkpoint": saved_acc, "train_seconds": times[-1],
                      "mean_epoch_seconds": times[-1] / len(times)}}


def test_time_to_accuracy_side_by_side_ratios():
    tta = _load("time_to_accuracy")
    runs = [_tta_run("baseline", 0, [100, 200, 300, 400], [0.9, 0.95, 0.97, 0.97], 0.972),
            _tta_run("candidate", 0, [50, 100, 150, 200], [0.95, 0.96, 0.97, 0.98], 0.975, "mixed_bfloat16"),
            _tta_run("baseline", 1, [100, 200, 300, 400], [0.9, 0.9, 0.95, 0.97], 0.970),
            _tta_run("candidate", 1, [50, 100, 150, 200], [0.9, 0.95, 0.96, 0.97], 0.971, "mixed_bfloat16")]
    s = tta.summarize(runs)
    assert s["baseline"]["first_reached"]["95"]["mean_seconds"] == pytest.approx(250)
    assert s["candidate"]["saved_model_accuracy"]["mean"] == pytest.approx(0.973)
    assert s["candidate"]["precision"] == ["mixed_bfloat16"]
    c = tta.compare(runs, s)["candidate"]
    assert c["saved_model_97"]["ratio_of_means"] == pytest.approx(0.5) and c["saved_model_97"]["valid"]
    assert c["first_95"]["ratio_of_means"] == pytest.approx(75 / 250)
    assert c["first_95"]["paired"]["all"] == pytest.approx([0.25, 100 / 300])
    assert c["goal"] == {"97_saved_model_le_0.55": True, "95_first_le_0.50": True}
    # a candidate whose saved models average under 97 % does not meet the 97 % goal, however fast
    runs[3]["final"]["test_accuracy_best_checkpoint"] = 0.95
    assert not tta.compare(runs, tta.summarize(runs))["candidate"]["goal"]["97_saved_model_le_0.55"]


def test_time_to_accuracy_merges_seeds_and_plots_every_run(tmp_path):
    """Seeds measured in two sittings become one summary; the trade-off plot draws every run."""
    import argparse

    import matplotlib.image

    tta = _load("time_to_accuracy")
    arms = [{"label": "baseline"}, {"label": "candidate"}]

    def part(seeds):
        runs = [_tta_run(arm["label"], s, [60, 120], [0.9, 0.97], 0.97) for s in seeds for arm in arms]
        for r in runs:
            for c in r["curve"]:
                c["minutes"] = c["seconds"] / 60
        return {"runs": runs, "command": f"seeds {seeds}", "machine": {"load_avg_at_start": 1.0, "date": "d"},
                "params": {"seeds": seeds, "arms": arms, "data": "/somewhere/realdata"}}

    res = tta.merge_results([part([0, 1]), part([2])], ["a.json", "b.json"])
    assert res["params"]["seeds"] == [0, 1, 2] and len(res["runs"]) == 6
    assert [(r["params"]["seed"], r["params"]["label"]) for r in res["runs"]][:3] == [
        (0, "baseline"), (0, "candidate"), (1, "baseline")]
    assert [p["seeds"] for p in res["parts"]] == [[0, 1], [2]]
    tta.plot_curves(res, tmp_path / "curves.png")
    image = matplotlib.image.imread(tmp_path / "curves.png")
    assert image.shape[0] > 300 and image.shape[1] > 800


def test_time_to_accuracy_baseline_is_the_frozen_v01_profile():
    tta = _load("time_to_accuracy")
    cfg, aug = tta.baseline_config("cpu")
    assert aug == "legacy" and cfg.runtime.precision == "float32"
    assert (cfg.data.image_size, cfg.optim.epochs, cfg.model.augment) == (144, 40, "medium")
    assert tta.parse_overrides("image_size=128;filters=[16,32];use_ema=true") == {
        "image_size": 128, "filters": [16, 32], "use_ema": True}
    block = tta.legacy_augmentation("medium", seed=0)
    assert [type(x).__name__ for x in block.layers] == [
        "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness"]


def test_gpu_profiles_epoch_summary_separates_compilation():
    import pandas as pd

    g = _load("gpu_profiles")
    x = g.epoch_summary(pd.DataFrame({"epoch_seconds": [30.0, 10.0, 12.0, 11.0]}), n_train=110)
    assert x["first_epoch_seconds"] == 30.0 and x["steady_epoch_seconds"] == 11.0
    assert x["steady_train_images_per_s"] == pytest.approx(10.0)
    one = g.epoch_summary(pd.DataFrame({"epoch_seconds": [5.0]}), n_train=10)
    assert one["steady_from_first_epoch_only"] is True and one["steady_epoch_seconds"] == 5.0


def test_gpu_profiles_skips_cleanly_without_gpu(tmp_path, capsys):
    from selib.hardware import gpu_devices

    if gpu_devices():
        pytest.skip("a GPU is present: the real run is not a smoke test")
    res = _load("gpu_profiles").main(["--json", str(tmp_path / "g.json")])
    assert res["skipped"] is True and json.loads((tmp_path / "g.json").read_text())["skipped"] is True
    assert "no GPU: skipped" in capsys.readouterr().out


@pytest.mark.full
def test_se_on_real_pairs_the_seeds_and_reads_the_verdict_off_the_interval(tiny):
    r = _json(tiny[0], "se_on_real")
    assert r["skipped"] is False
    assert sorted((x["label"], x["seed"]) for x in r["results"]) == [("SE", 0), ("SE", 1), ("no SE", 0), ("no SE", 1)]
    s = r["summary"]
    acc = {(x["label"], x["seed"]): x["accuracy"] for x in r["results"]}
    diffs = [acc[("SE", k)] - acc[("no SE", k)] for k in (0, 1)]
    assert s["pairs"] == 2 and s["paired_difference"]["mean"] == pytest.approx(sum(diffs) / 2)
    lo, hi = s["paired_difference"]["ci95"]
    assert lo <= s["paired_difference"]["mean"] <= hi
    assert s["params"]["SE"] > s["params"]["no SE"] and "SE" in s["verdict"]


def test_se_on_real_skips_cleanly_without_photos(tmp_path, capsys):
    res = _load("se_on_real").main(["--data", str(tmp_path / "absent"), "--json", str(tmp_path / "s.json")])
    assert res["skipped"] is True and "absent" in res["reason"]
    assert "skipped" in capsys.readouterr().out


@pytest.mark.full
def test_loader_reports_the_decode_ceiling(tiny):
    for r in _json(tiny[0], "bench_loader")["results"]:
        assert r["decode_ceiling_wall_s"] > 0
        assert r["speedup_ceiling"] == pytest.approx(r["seed_wall_s"] / r["decode_ceiling_wall_s"])
        assert r["selib_cold_share_of_ceiling"] == pytest.approx(r["decode_ceiling_wall_s"] / r["selib_cold_wall_s"])


def test_results_carry_no_machine_paths(tmp_path):
    """Committed results are read on other machines: paths under the repository (or beside it,
    like ../shared) are written relative to the repository root, and nothing else changes."""
    common = _load("_common")
    repo = common.REPO
    out = tmp_path / "r.json"
    common.write_json(out, {"data": str(repo.parent / "shared" / "realdata"),
                            "run": str(repo / "runs" / "cpu"), "other": "/usr/lib/x"})
    assert json.loads(out.read_text()) == {"data": "../shared/realdata", "run": "runs/cpu",
                                           "other": "/usr/lib/x"}


@pytest.mark.parametrize("path", sorted((BENCH / "results").glob("*.json")), ids=lambda p: p.name)
def test_committed_results_carry_no_machine_paths(path):
    text = path.read_text()
    found = re.findall(r"[\s\"'](/(?:work|home|Users|root|tmp)/[^\s\"']*)", text)
    assert str(BENCH.parents[1]) + "/" not in text and not found, found[:3]


def test_loader_result_names_the_real_photos_relative_to_the_repository(tmp_path, monkeypatch):
    """The loader benchmark writes through ``_common.write_json`` like the others (it once wrote
    its own JSON, with the absolute path of ../shared/realdata in it)."""
    from toyfolder import make_toy_folder

    monkeypatch.syspath_prepend(str(BENCH))
    import _common   # the module the bench scripts import

    loader = _load("bench_loader")
    monkeypatch.setattr(_common, "REPO", tmp_path / "repo")   # a checkout beside ../shared
    real = make_toy_folder(tmp_path / "shared" / "realdata", per_class=2, size=40)
    out = tmp_path / "loader.json"
    loader.main(["--n", "4", "--sizes", "32", "--min-px", "200", "--max-px", "300", "--sample", "2",
                 "--workers", "1", "--realdata", str(real), "--json", str(out)])
    assert json.loads(out.read_text())["realdata"]["path"] == "../shared/realdata"


@pytest.mark.full
def test_synth_to_real_writes_a_result_the_report_renders(tmp_path):
    """The synthchairs yardstick writes its JSON with machine and command, like every result
    the docs publish, and bench/report.py turns it into a row and a confusion matrix."""
    out = tmp_path / "synth_only.json"
    assert _load("synth_to_real").main(["--synth-only", "--data", str(tmp_path / "synth"), "--per-class", "5",
                                       "--size", "16", "--epochs", "1", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["mode"] == "synth-only" and 0 <= r["accuracy"] <= 1 and r["machine"]["date"]
    assert r["command"].startswith("python bench/synth_to_real.py --synth-only")
    assert sum(map(sum, r["confusion"])) == r["n_test"] == 4       # one of every 5 per class held out
    page = _load("report").render_page({"synth_only": r})
    assert "How hard synthchairs is" in page and "| **bench** |" in page


def test_main_job_pairs_the_seeds_and_states_the_interval():
    """The side-by-side summary: the series' wall-time ratio, the paired accuracy difference over
    the seeds both arms finished (a seed one arm lacks is left out), and the candidate's mean."""
    mj = _load("main_job")
    res = {"series": {"baseline": {"wall_seconds": 200.0}, "candidate": {"wall_seconds": 100.0}},
           "train": {"0": {"baseline": {"test_accuracy": 0.80, "train_seconds": 10.0},
                           "candidate": {"test_accuracy": 0.82, "train_seconds": 5.0}},
                     "1": {"baseline": {"test_accuracy": 0.84, "train_seconds": 10.0},
                           "candidate": {"test_accuracy": 0.85, "train_seconds": 5.0}},
                     "2": {"candidate": {"test_accuracy": 0.90, "train_seconds": 5.0}}}}
    s = mj.summarize(res)
    assert s["series_wall_ratio"] == 0.5
    assert s["train"]["seeds"] == ["0", "1"] and s["train"]["train_seconds_ratio"] == 0.5
    d = s["train"]["paired_difference"]
    assert math.isclose(d["mean"], 1.5) and d["n"] == 2 and d["lo"] < 1.5 < d["hi"]
    assert math.isclose(s["candidate_accuracy"]["mean"], (82 + 85 + 90) / 3) and s["candidate_accuracy"]["n"] == 3


@pytest.mark.full
def test_main_job_tiny_trains_both_trees(tmp_path):
    mj = _load("main_job")
    res = mj.main(["--baseline", "HEAD", "--train-seeds", "0", "--tiny", "--work", str(tmp_path),
                   "--json", str(tmp_path / "mj.json")])
    row = res["train"]["0"]
    assert {"baseline", "candidate"} <= row.keys()
    assert all(0 <= row[a]["test_accuracy"] <= 1 for a in ("baseline", "candidate")), row
    assert json.loads((tmp_path / "mj.json").read_text())["baseline_commit"]


def _fake_run(folder: Path, seed: int, epochs: int, accuracy: float, fingerprint: str = "abc",
              **changes) -> Path:
    """A finished run folder as ``selib train`` leaves it, as far as recipe_runs reads it."""
    from selib.training.profiles import PROFILES

    folder.mkdir(parents=True)
    PROFILES["cpu"].replace(seed=seed, epochs=epochs, **changes).save(folder / "config.json")
    (folder / "metrics.json").write_text(json.dumps(
        {"test_accuracy": accuracy, "n_test": 240, "n_train": 864, "train_seconds": 60.0 * epochs, "best_epoch": epochs,
         "precision": "float32", "data": {"fingerprint": fingerprint}}))
    return folder


def test_recipe_runs_pairs_recipes_by_seed_and_reads_the_verdict_off_the_interval(tmp_path):
    rr = _load("recipe_runs")
    runs = [_fake_run(tmp_path / "ref0", 0, 30, 0.88), _fake_run(tmp_path / "ref1", 1, 30, 0.87),
            _fake_run(tmp_path / "ref2", 2, 30, 0.89), _fake_run(tmp_path / "short0", 0, 15, 0.84),
            _fake_run(tmp_path / "short1", 1, 15, 0.82), _fake_run(tmp_path / "short2", 2, 15, 0.86),
            _fake_run(tmp_path / "thin", 0, 30, 0.88, depth=(1, 1, 1, 1))]
    res = rr.main(["--runs", *map(str, runs), "--json", str(tmp_path / "r.json")])
    ref, short, thin = res["recipes"]
    assert thin["recipe"] == "144², 30 epochs, blocks per stage 1-1-1-1" and thin["seeds"] == [0]
    assert "--set depth=[1,1,1,1]" in res["rows"][-1]["command"] and "depth" not in res["rows"][0]
    assert "one seed cannot give an interval" in thin["vs_reference"]["verdict"]
    assert ref["reference"] and "vs_reference" not in ref
    assert ref["mean_accuracy"] == pytest.approx(88.0)
    # t-interval of three seeds 87, 88, 89: mean ± t(0.975, 2) * 1 / sqrt(3)
    assert ref["accuracy_hi"] - 88.0 == pytest.approx(4.303 / math.sqrt(3), abs=1e-3)
    vs = short["vs_reference"]
    assert vs["seeds"] == [0, 1, 2] and vs["mean"] == pytest.approx(-4.0)   # -4, -5, -3 points
    assert vs["hi"] < 0 and "hurts by 4.0" in vs["verdict"]
    assert short["images_share"] == pytest.approx(0.5) and thin["images_share"] == pytest.approx(1.0)
    assert json.loads((tmp_path / "r.json").read_text())["recipes"][1]["epochs"] == 15
    res["machine"]["date"] = "2026-01-01 00:00 UTC"
    page = _load("report").render_page({"cpu_recipe_synthchairs": res})
    assert "144², 15 epochs hurts by 4.0" in page and "88.00 % (95 % CI 85.52 to 90.48)" in page


def test_recipe_runs_refuses_runs_on_other_data(tmp_path):
    rr = _load("recipe_runs")
    a = _fake_run(tmp_path / "a", 0, 30, 0.88)
    b = _fake_run(tmp_path / "b", 0, 15, 0.80, fingerprint="other")
    with pytest.raises(SystemExit):
        rr.main(["--runs", str(a), str(b)])


def test_profile_epoch_ratios_and_a_missing_backend_reported_not_dropped():
    pe = _load("profile_epoch")
    assert not pe._in_process("torch") and not pe._in_process("jax") and pe._in_process("no_bn")
    rows = [{"variant": "full", "what": "", "process": "shared", "wall_per_image": 0.02, "cpu_per_image": 0.04},
            {"variant": "no_ema", "what": "", "process": "shared", "wall_per_image": 0.02, "cpu_per_image": 0.036},
            {"variant": "jax", "what": "", "process": "own", "wall_per_image": 0.03, "cpu_per_image": 0.045},
            {"variant": "torch", "error": "ModuleNotFoundError: No module named 'torch'"}]
    out = {r["variant"]: r for r in pe.summarize(rows)}
    assert out["no_ema"]["cpu_ratio"] == pytest.approx(0.9)
    assert out["jax"]["reference"] == "no_ema" and out["jax"]["cpu_ratio"] == pytest.approx(1.25)
    assert "No module named 'torch'" in out["torch"]["error"]
    assert "No module named 'torch'" in pe.markdown(list(out.values()))
