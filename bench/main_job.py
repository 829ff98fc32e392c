"""The learner's wait: the main job and a profile's training, this checkout against a git revision.

    # make run (notebooks 01-05 under the cpu profile) here and at REV, one after the other
    python bench/main_job.py --baseline REV --series --json bench/results/main_job.json
    # the cpu profile on synthchairs over three seeds, both sides (paired by seed)
    python bench/main_job.py --baseline REV --train-seeds 0,1,2 --json bench/results/main_job.json
    # the same on real photos, time to the saved model
    python bench/main_job.py --baseline REV --train-seeds 0 --data ../shared/realdata --json ...
    python bench/main_job.py --tiny                                          # seconds

**Arms.** ``baseline`` is the tree of ``--baseline`` (``git archive`` into a temporary folder);
``candidate`` is this checkout. Both run with this checkout's Python environment, each with its
own tree first on ``PYTHONPATH``, so the only difference is the code. Every step runs both arms
back to back in one process tree (candidate, then baseline, alternating which goes first from one
repeat to the next), so a colleague's job slows both alike, and the result gives ratios.

**What is timed.** ``--series``: ``python -m selib run-series`` wall time (the built-in dataset is
rendered once, before, and shared). ``--train-seeds``: ``selib train --profile P --seed S``, its
training seconds and test accuracy from the run's ``metrics.json``; accuracies are paired by
seed and summarised with the paired 95 % t-interval (:func:`selib.analysis.stats.paired_difference`). The JSON is
rewritten after every step with the machine's CPU model and flags (so a cut-off run keeps what
finished); a finished step is read back, not rerun.

``SELIB_PRECISION=float32`` (or another policy) forces the candidate's precision where the CPU
would pick bfloat16; a baseline older than that variable runs at its own ``auto``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def baseline_tree(rev: str, into: Path) -> Path:
    """The files of ``rev`` (``git archive``), unpacked once into ``into/<rev>``."""
    tree = into / rev.replace("/", "_")
    if (tree / "selib").is_dir():
        return tree
    tree.mkdir(parents=True, exist_ok=True)
    archive = into / f"{tree.name}.tar"
    subprocess.run(["git", "-C", str(C.REPO), "archive", "-o", str(archive), rev], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    archive.unlink()
    return tree


def _env(tree: Path, **extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONWARNINGS="ignore::DeprecationWarning", **extra)
    env.pop("SELIB_PROFILE", None)
    return env


def run_series(tree: Path, profile: str, data: Path) -> dict:
    """``selib run-series`` in ``tree``: wall seconds, and notebook 04's run metrics."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "selib", "run-series", "--profile", profile],
                         cwd=tree, env=_env(tree, SELIB_DATA_DIR=str(data)), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        return {"error": (out.stderr or out.stdout).strip().splitlines()[-1:], "wall_seconds": wall}
    metrics = json.loads((tree / "runs" / profile / "metrics.json").read_text())
    return {"wall_seconds": wall, "test_accuracy": metrics["test_accuracy"],
            "train_seconds": metrics.get("train_seconds"), "precision": metrics.get("precision"),
            "table": out.stdout.strip().splitlines()[-8:]}


def train_seed(tree: Path, profile: str, data: Path, seed: int, out: Path, tiny: bool) -> dict:
    """``selib train --profile P --seed S`` from ``tree``: training seconds and test accuracy."""
    cmd = [sys.executable, "-m", "selib", "train", "--data", str(data), "--profile", profile,
           "--seed", str(seed), "--out", str(out)]
    if tiny:
        cmd += ["--epochs", "1", "--set", "image_size=32", "--set", "max_per_class=20"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=tree, env=_env(tree), capture_output=True, text=True)
    if res.returncode != 0:
        return {"error": (res.stderr or res.stdout).strip().splitlines()[-1:]}
    metrics = json.loads((out / "metrics.json").read_text())
    return {"wall_seconds": time.perf_counter() - t0, "test_accuracy": metrics["test_accuracy"],
            "train_seconds": metrics.get("train_seconds"), "epochs": metrics.get("epochs_run"),
            "best_epoch": metrics.get("best_epoch"), "precision": metrics.get("precision")}


def summarize(res: dict) -> dict:
    """Ratios candidate / baseline, and the paired accuracy interval over seeds."""
    from dataclasses import asdict

    from selib.analysis.stats import paired_difference

    out: dict = {}
    s = res.get("series", {})
    if all("wall_seconds" in s.get(k, {}) and "error" not in s.get(k, {}) for k in ("baseline", "candidate")):
        out["series_wall_ratio"] = s["candidate"]["wall_seconds"] / s["baseline"]["wall_seconds"]
    seeds = [k for k, v in res.get("train", {}).items()
             if all("test_accuracy" in v.get(a, {}) for a in ("baseline", "candidate"))]
    if seeds:
        acc = {a: [100 * res["train"][k][a]["test_accuracy"] for k in seeds] for a in ("baseline", "candidate")}
        secs = {a: [res["train"][k][a]["train_seconds"] for k in seeds] for a in ("baseline", "candidate")}
        out["train"] = {"seeds": seeds, "mean_accuracy": {a: sum(v) / len(v) for a, v in acc.items()},
                        "train_seconds_ratio": C.paired_ratio(secs["candidate"], secs["baseline"])}
        if len(seeds) >= 2:
            out["train"]["paired_difference"] = asdict(paired_difference(acc["candidate"], acc["baseline"]))
    cand = [100 * v["candidate"]["test_accuracy"] for v in res.get("train", {}).values()
            if "test_accuracy" in v.get("candidate", {})]
    if len(cand) >= 2:       # the candidate's mean with its t-interval (a difference from 0)
        out["candidate_accuracy"] = asdict(paired_difference(cand, [0.0] * len(cand)))
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default="HEAD", help="git revision to compare against (default HEAD)")
    ap.add_argument("--profile", default="cpu", help="the profile both arms run (default cpu)")
    ap.add_argument("--series", action="store_true", help="time make run's series in both trees")
    ap.add_argument("--train-seeds", default="", help="comma-separated seeds to train both arms with")
    ap.add_argument("--data", type=Path, help="photo folder for --train-seeds (default: the built-in dataset)")
    ap.add_argument("--work", type=Path, help="baseline tree and run folders (default runs/bench/main_job)")
    ap.add_argument("--json", type=Path, help="write the result here (rewritten after every step)")
    ap.add_argument("--tiny", action="store_true", help="one epoch at 32² on a few images: seconds")
    a = ap.parse_args(argv)
    C.tf_quiet()
    from selib.synth import ensure_builtin

    work = (a.work or C.REPO / "runs" / "bench" / "main_job").resolve()
    trees = {"baseline": baseline_tree(a.baseline, work / "trees"), "candidate": C.REPO}
    data = (a.data or ensure_builtin(C.REPO / "data", progress=False)).resolve()
    res = {"machine": C.machine_info(), "command": "python bench/main_job.py " + " ".join(argv or sys.argv[1:]),
           "baseline": a.baseline, "baseline_commit": _commit(a.baseline), "candidate_commit": _commit("HEAD"),
           "profile": a.profile, "data": "synthchairs" if a.data is None else ("real photos" if "realdata" in str(a.data) else a.data.name)}
    if a.json and Path(a.json).is_file():          # resume: keep the steps that finished
        old = json.loads(Path(a.json).read_text())
        res.update({k: old[k] for k in ("series", "train") if k in old})
    if a.series:
        for i, arm in enumerate(_order(0)):
            if "wall_seconds" not in res.setdefault("series", {}).get(arm, {}):
                res["series"][arm] = run_series(trees[arm], a.profile, data)
                C.write_json(a.json, {**res, "summary": summarize(res)})
    for k, seed in enumerate(int(s) for s in a.train_seeds.split(",") if s.strip()):
        row = res.setdefault("train", {}).setdefault(str(seed), {})
        for arm in _order(k):
            if "test_accuracy" not in row.get(arm, {}):
                row[arm] = train_seed(trees[arm], a.profile, data, seed, work / "runs" / f"{arm}_{res['data']}_{seed}", a.tiny)
                C.write_json(a.json, {**res, "summary": summarize(res)})
    res["summary"] = summarize(res)
    C.write_json(a.json, res)
    print(json.dumps(res["summary"], indent=1))
    return res


def _order(k: int) -> tuple[str, str]:
    return ("candidate", "baseline") if k % 2 == 0 else ("baseline", "candidate")


def _commit(rev: str) -> str | None:
    out = subprocess.run(["git", "-C", str(C.REPO), "rev-parse", "--short", rev], capture_output=True, text=True)
    return out.stdout.strip() or None


if __name__ == "__main__":
    main()
