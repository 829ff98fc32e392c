"""Benchmark 7 (GPU): the ``gpu`` and ``report`` profiles side by side through ``selib.train``.

    KERAS_BACKEND=jax python bench/gpu_profiles.py --data DIR --json out.json   # e.g. on an H200
    python bench/gpu_profiles.py --profiles gpu --data DIR                       # TensorFlow GPU
    python bench/gpu_profiles.py --tiny --allow-cpu                              # the code path on a CPU

This is the same ``selib.train`` a user runs (``selib train --profile gpu``), on whichever Keras
backend is active, so what is measured on a GPU machine without TensorFlow (JAX only) is the
product, not a separate script. For each profile, one after the other on the same machine, it
records the test accuracy of the saved model, the training wall time, the first epoch (it
includes tracing and XLA compilation) against the median of the later ones, the steady training
images/s, the precision and XLA setting actually used, and the speed-up over the seed report's
6 hours (1,158 photos, 20 epochs on a laptop GPU).

Per-epoch times come from ``history.csv`` (``selib.training.callbacks.EpochStats``, the one
place selib times epochs); they include validation. Without a GPU it prints "no GPU: skipped"
and writes ``{"skipped": true}`` unless ``--allow-cpu``; ``--tiny`` shrinks each profile to
seconds (32², 2 epochs, a few images per class) while keeping its settings otherwise.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

SEED_REPORT = {"hours": 6.0, "photos": 1158, "epochs": 20, "test_accuracy": 0.8534,
               "hardware": "laptop GPU (seed report)"}
TINY = dict(image_size=32, epochs=2, max_per_class=20, batch_size=8, filters=(16, 32, 64, 128), initial_filters=16)


def profile_config(name: str, tiny: bool):
    """The named profile, shrunk to seconds for ``--tiny`` (the code path, not the recipe)."""
    from selib.training.profiles import PROFILES

    config = PROFILES[name]
    return config.replace(**TINY) if tiny else config


def epoch_summary(history, n_train: int) -> dict:
    """First epoch (compilation included) vs the median of the later ones, and steady images/s."""
    seconds = [float(s) for s in history["epoch_seconds"]]
    later = seconds[1:] or seconds
    steady = statistics.median(later)
    return {"epochs": len(seconds), "first_epoch_seconds": seconds[0], "steady_epoch_seconds": steady,
            "steady_from_first_epoch_only": len(seconds) == 1,
            "steady_train_images_per_s": n_train / steady if steady > 0 else None,
            "per_epoch_seconds": seconds}


def run_profile(name: str, data: Path, work: Path, tiny: bool) -> dict:
    """Train one profile with ``selib.train`` and summarise what it cost and reached."""
    from selib.training.trainer import train

    config = profile_config(name, tiny)
    t = time.perf_counter()
    result = train(config, data, work / name, verbose=0)
    wall = time.perf_counter() - t
    m = result.metrics
    epochs = epoch_summary(result.history, m["n_train"])
    return {"profile": name, "config": config.to_dict(), "n_train": m["n_train"], "n_test": m["n_test"],
            "test_accuracy": m.get("test_accuracy"), "precision": m["precision"], "xla": m["xla"],
            "train_call_seconds": wall, "train_seconds": m.get("train_seconds"), **epochs,
            "speedup_vs_seed_6h": SEED_REPORT["hours"] * 3600 / wall}


def report(res: dict) -> str:
    if res.get("skipped"):
        return f"no GPU: skipped ({res['reason']})"
    rows = [["seed report (laptop GPU)", "", "", SEED_REPORT["hours"] * 3600, "", 100 * SEED_REPORT["test_accuracy"], 1.0]]
    for r in res["runs"]:
        rows.append([f"{r['profile']} ({r['precision']}, XLA {'on' if r['xla'] else 'off'})",
                     r["first_epoch_seconds"], r["steady_epoch_seconds"], r["train_call_seconds"],
                     r["steady_train_images_per_s"], 100 * (r["test_accuracy"] or 0), r["speedup_vs_seed_6h"]])
    head = f"{res['device']['backend']} on {', '.join(res['device']['gpus']) or 'CPU'}; data {res['params']['data']}"
    return "\n".join([head, C.table(["run", "first epoch, s", "later epochs, s", "train, s",
                                     "train img/s", "test acc %", "vs seed 6 h"], rows)])


def _data(arg: Path | None, tiny: bool, work: Path) -> Path:
    if arg is not None:
        return arg
    if tiny:
        from time_to_accuracy import toy_folder

        return toy_folder(work / "toy", per_class=20)
    from selib.synth import ensure_builtin

    return ensure_builtin(C.REPO / "data")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profiles", default="gpu,report", help="comma-separated profiles, run in this order")
    ap.add_argument("--data", type=Path, help="image folder (default: the built-in dataset)")
    ap.add_argument("--allow-cpu", action="store_true", help="run without a GPU (for testing)")
    ap.add_argument("--work", type=Path, help="keep the run folders here (default: a temporary folder)")
    C.add_common_args(ap, repeats=1)
    a = ap.parse_args(argv)
    from selib import hardware

    device = hardware.device_summary()
    res = {"machine": C.machine_info(), "device": device, "benchmark": "gpu_profiles",
           "command": " ".join(["python", "bench/gpu_profiles.py", *(argv if argv is not None else sys.argv[1:])])}
    if not device["gpus"] and not a.allow_cpu:
        res.update(skipped=True, reason=f"the {device['backend']} backend sees no GPU")
    else:
        work = a.work or Path(tempfile.mkdtemp(prefix="selib-gpu-"))
        try:
            data = _data(a.data, a.tiny, work)
            res["params"] = {"data": str(a.data or "built-in dataset"), "tiny": a.tiny,
                             "profiles": a.profiles.split(",")}
            res["runs"] = [run_profile(p.strip(), data, work, a.tiny) for p in a.profiles.split(",")]
            res["skipped"] = False
        finally:
            if a.work is None:
                shutil.rmtree(work, ignore_errors=True)
    print(report(res))
    C.write_json(a.json, res)
    return res


if __name__ == "__main__":
    main()
