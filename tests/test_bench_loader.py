"""Smoke test for bench/bench_loader.py: a handful of small JPEGs, seconds, full JSON report."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_loader.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_loader", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generate_makes_requested_sizes_and_reuses_them(bench, tmp_path):
    paths = bench.generate(tmp_path / "p", n=6, min_px=200, max_px=320)
    assert len(paths) == 6 and {p.parent.name for p in paths} == set(bench.CLASSES)
    for p in paths:
        h, w = cv2.imread(str(p)).shape[:2]
        assert 200 * 2 // 3 - 1 <= min(h, w) and max(h, w) <= 320
    mtime = paths[0].stat().st_mtime_ns
    assert bench.generate(tmp_path / "p", n=6, min_px=200, max_px=320) == paths
    assert paths[0].stat().st_mtime_ns == mtime  # same parameters: not rewritten


def test_bench_smoke(bench, tmp_path, capsys):
    out = tmp_path / "res.json"
    res = bench.main(["--n", "6", "--min-px", "200", "--max-px", "320", "--sizes", "32", "48",
                      "--no-realdata", "--sample", "3", "--work", str(tmp_path / "w"),
                      "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(res))
    assert [r["size"] for r in res["results"]] == [32, 48]
    for r in res["results"]:
        assert r["n"] == 6 and r["seed_wall_s"] > 0 and r["selib_cached_wall_s"] > 0
        assert r["speedup_cold"] > 0 and r["speedup_cached"] > 0
        assert r["mad_vs_full_decode_area"] < 3  # reduced decode looks like a full decode
    assert "selib cold" in capsys.readouterr().out
    assert not (tmp_path / "w" / "cache").exists()  # caches cleaned, photos kept
    assert (tmp_path / "w" / "photos" / "manifest.json").exists()
