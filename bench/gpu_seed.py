"""Benchmark 7 (GPU only): the seed recipe on a GPU — images/s and total time vs the seed's 6 h.

    python bench/gpu_seed.py                          # 20 epochs, stops early at --max-minutes 8
    python bench/gpu_seed.py --epochs 5 --json out.json
    python bench/gpu_seed.py --data DIR               # your photos instead of the built-in set

The seed report trained its network for about 6 hours on a laptop GPU: 1,158 grayscale photos
at 473x473, 694 of them trained on per epoch (80 % train, 25 % of that held out), 20 epochs —
about 0.64 training images/s overall. This runs the same recipe, the ``gpu`` profile (the seed
network at 473x473x1, Adam 1e-3, batch 32, 20 epochs; mixed float16 and XLA), through
``selib.training.trainer.train`` on the built-in dataset (rendered into ``data/synthchairs`` on first use,
1,200 images, 720 trained on per epoch), and prints every epoch's time as it goes, so a run cut
short by ``--epochs`` or ``--max-minutes`` still extrapolates: 20 epochs = the first epoch (it
includes XLA compilation) + 19 x the median of the later ones.

Without a GPU it prints "no GPU: skipped", writes ``{"skipped": true}`` to ``--json`` and exits 0.
``--allow-cpu`` runs it anyway (only useful with ``--tiny``, to test this script on a CPU).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

SEED = {"hours": 6.0, "photos": 1158, "train_images_per_epoch": int(1158 * 0.8 * 0.75), "epochs": 20,
        "hardware": "laptop GPU (seed report)"}
SEED["train_images_per_s"] = SEED["train_images_per_epoch"] * SEED["epochs"] / (SEED["hours"] * 3600)


def gpu_names() -> list[str]:
    tf = C.tf_quiet()
    names = []
    for g in tf.config.list_physical_devices("GPU"):
        try:
            names.append(tf.config.experimental.get_device_details(g).get("device_name", g.name))
        except Exception:  # noqa: BLE001 — details are optional
            names.append(g.name)
    return names


def make_callback(n_train: int, steps_per_epoch: int, budget_s: float | None):
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Per-epoch wall time, split into training steps and the rest (validation, checkpoint);
        stops at an epoch boundary when the next epoch would overrun the budget."""

        def __init__(self):
            super().__init__()
            self.rows: list[dict] = []
            self.t0 = self.e0 = self.last_batch = 0.0
            self.batches = 0

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.e0 = self.last_batch = time.perf_counter()
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.last_batch = time.perf_counter()
            self.batches += 1

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            train_s = self.last_batch - self.e0
            row = {"epoch": epoch + 1, "epoch_seconds": now - self.e0, "train_seconds": train_s,
                   "train_images_per_s": n_train / train_s if train_s > 0 else None,
                   "elapsed_seconds": now - self.t0, "batches": self.batches,
                   "complete": self.batches >= steps_per_epoch,
                   "accuracy": float((logs or {}).get("accuracy", float("nan"))),
                   "val_accuracy": float((logs or {}).get("val_accuracy", float("nan")))}
            self.rows.append(row)
            print(f"  epoch {row['epoch']:>2}: {row['epoch_seconds']:6.1f} s (train {train_s:6.1f} s, "
                  f"{row['train_images_per_s'] or 0:7.1f} img/s), elapsed {row['elapsed_seconds']:6.1f} s, "
                  f"val acc {row['val_accuracy']:.3f}", flush=True)
            if budget_s and row["elapsed_seconds"] + row["epoch_seconds"] > budget_s:
                print(f"  stopping: another epoch would pass the {budget_s / 60:.1f}-minute budget", flush=True)
                self.model.stop_training = True

    return EpochTimer()


def extrapolate(rows: list[dict], epochs: int = 20) -> dict:
    full = [r for r in rows if r["batches"] > 0 and r.get("complete", True)]   # not a cut-short epoch
    if not full:
        return {"epochs_measured": 0}
    later = [r["epoch_seconds"] for r in full[1:]]
    steady = C.median(later) if later else full[0]["epoch_seconds"]
    total = full[0]["epoch_seconds"] + (epochs - 1) * steady
    later_ips = [r["train_images_per_s"] for r in full[1:] if r["train_images_per_s"]]
    return {"epochs_measured": len(full), "first_epoch_seconds": full[0]["epoch_seconds"],
            "steady_epoch_seconds": steady, "steady_is_from_first_epoch_only": not later,
            "train_images_per_s_steady": C.median(later_ips) if later_ips else full[0]["train_images_per_s"],
            f"total_seconds_{epochs}_epochs": total,
            "speedup_vs_seed_6h": SEED["hours"] * 3600 / total}


def run(data: Path | None, epochs: int, max_minutes: float | None, tiny: bool, work: Path,
        on_gpu: bool = True) -> dict:
    C.tf_quiet()
    from selib.training.profiles import PROFILES
    from selib.training.trainer import prepare_data, train

    config = PROFILES["gpu"].replace(epochs=epochs, mixed_precision=True, jit_compile=True)
    if tiny:  # the seed network's shape, narrow, at 48²
        config = config.replace(image_size=48, model="se_resnet", filters=(16, 32, 64, 128),
                                initial_filters=16)
    if not on_gpu:  # --allow-cpu: float16 is emulated on a CPU and XLA compiles for long
        config = config.replace(mixed_precision=False, jit_compile=False)
    if max_minutes:
        config = config.replace(max_train_seconds=60 * max_minutes)
    t = time.perf_counter()
    if data is None:
        if tiny:
            from time_to_accuracy import toy_folder

            data = toy_folder(work / "toy", per_class=12)
        else:
            from selib.synth import ensure_builtin

            data = ensure_builtin(C.REPO / "data")
    render_s = time.perf_counter() - t
    t = time.perf_counter()
    prepared = prepare_data(config, data, progress=False)
    load_s = time.perf_counter() - t
    n_train = len(prepared.split.x_train)
    hw = "mixed float16 + XLA" if on_gpu else "float32, no XLA (CPU test run)"
    print(f"gpu profile ({'narrow ' if tiny else ''}seed network, {config.image_size}² gray, "
          f"batch {config.batch_size}, {hw}) on {data}: {n_train} training images/epoch, {epochs} epochs", flush=True)
    import math

    cb = make_callback(n_train, math.ceil(n_train / config.batch_size), 60 * max_minutes if max_minutes else None)
    t = time.perf_counter()
    result = train(config, data, work / "run", verbose=0, prepared=prepared, extra_callbacks=[cb])
    wall = time.perf_counter() - t
    m = result.metrics
    return {"params": {"data": str(data), "epochs": epochs, "max_minutes": max_minutes,
                       "config": config.to_dict(), "n_train": n_train, "n_test": m["n_test"]},
            "seed": SEED, "render_seconds": render_s, "load_seconds": load_s,
            "train_call_seconds": wall, "epochs": cb.rows, "extrapolated": extrapolate(cb.rows, 20),
            "test_accuracy": m.get("test_accuracy"), "mixed_precision": m["mixed_precision"],
            "xla": m["xla"]}


def report(res: dict) -> str:
    if res.get("skipped"):
        return f"no GPU: skipped ({res['reason']})"
    x = res["extrapolated"]
    if not x.get("epochs_measured"):
        return "no complete epoch was measured"
    s = res["seed"]
    rows = [["seed report (laptop GPU)", s["train_images_per_s"], s["hours"] * 3600, 1.0],
            [f"selib gpu profile ({', '.join(res['machine']['gpus']) or 'CPU'})", x["train_images_per_s_steady"],
             x["total_seconds_20_epochs"], x["speedup_vs_seed_6h"]]]
    note = (f"{x['epochs_measured']} epoch(s) measured: first {x['first_epoch_seconds']:.1f} s (with "
            f"graph tracing and XLA compilation), then {x['steady_epoch_seconds']:.1f} s each; 20 epochs extrapolated")
    acc = res.get("test_accuracy")
    if acc is not None:
        note += f"; test accuracy {100 * acc:.1f} % on {res['params']['data']} after {x['epochs_measured']} epoch(s)"
    return "\n".join([C.table(["", "train img/s", "20 epochs, s", "speed-up"], rows), note])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--max-minutes", type=float, default=8.0,
                    help="stop at the epoch end that would pass this training time (0: no limit)")
    ap.add_argument("--data", type=Path, help="image folder (default: the built-in dataset, rendered)")
    ap.add_argument("--allow-cpu", action="store_true", help="run without a GPU (for testing)")
    ap.add_argument("--keep", type=Path, help="keep the run folder here")
    C.add_common_args(ap, repeats=1)
    a = ap.parse_args(argv)
    if a.tiny:
        a.epochs = min(a.epochs, 2)
    machine = C.machine_info()
    machine["gpus"] = gpu_names()
    if not machine["gpus"] and not a.allow_cpu:
        res = {"machine": machine, "benchmark": "gpu_seed", "skipped": True,
               "reason": "TensorFlow sees no GPU (install selib[gpu] on a machine with one)"}
        print(report(res))
        C.write_json(a.json, res)
        return res
    work = a.keep or Path(tempfile.mkdtemp(prefix="selib-gpu-"))
    try:
        res = run(a.data, a.epochs, a.max_minutes or None, a.tiny, work, on_gpu=bool(machine["gpus"]))
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    machine["load_avg_at_end"] = C.load_avg()
    res = {"machine": machine, "benchmark": "gpu_seed", "skipped": False, **res}
    print(report(res))
    C.write_json(a.json, res)
    return res


if __name__ == "__main__":
    main()
