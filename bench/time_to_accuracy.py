"""Benchmark 6: wall time until test accuracy first reaches 80 / 85 / 90 (/ 95 / 97) %.

    python bench/time_to_accuracy.py --data ../shared/realdata            # cpu profile, ~10 min
    python bench/time_to_accuracy.py --data DIR --profile cpu --epochs 12 --json out.json
    python bench/time_to_accuracy.py --tiny                               # toy folder, seconds

Trains the profile exactly as ``selib train`` does (``selib.training.trainer.train``: same split, model,
optimiser, augmentation, checkpointing and validation) with one extra Keras callback that, at
each epoch end, evaluates the *current* model on the held-out test split (``selib.analysis.evaluation``,
with the profile's test-time flip). The clock starts when ``model.fit`` starts (the images are
loaded and split before, and that time is reported separately) and excludes the callback's own
test evaluations, so it is the training time a user would see; accuracy is only known at epoch
ends, so each threshold's time is that of the first epoch end at or above it. The JSON holds the
per-epoch curve (time, test accuracy, training and validation metrics, learning rate).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

THRESHOLDS = (0.80, 0.85, 0.90, 0.95, 0.97)
CLASSES = ("bench", "chair", "office_chair", "sofa")


def toy_folder(root: Path, per_class: int = 16, size: int = 40, seed: int = 0) -> Path:
    """A tiny, learnable folder: each class is a different bright shape on a dark, noisy ground."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    for k, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = np.full((size, size, 3), int(rng.integers(0, 60)), np.uint8)
            c, r = size // 2 + rng.integers(-3, 4, 2), int(size * rng.uniform(0.2, 0.3))
            col = tuple(int(v) for v in rng.integers(150, 256, 3))
            cx, cy = int(c[0]), int(c[1])
            if k == 0:
                cv2.circle(img, (cx, cy), r, col, -1)
            elif k == 1:
                cv2.rectangle(img, (cx - r, cy - r // 3), (cx + r, cy + r // 3), col, -1)
            elif k == 2:
                cv2.rectangle(img, (cx - r // 3, cy - r), (cx + r // 3, cy + r), col, -1)
            else:
                cv2.fillPoly(img, [np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)], col)
            img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
            cv2.imwrite(str(root / name / f"{name}_{i}.png"), img)
    return root


def make_callback(prepared, config):
    import keras

    from selib.analysis.evaluation import evaluate

    sp = prepared.split

    class TestAccuracy(keras.callbacks.Callback):
        """Test accuracy of the current model at every epoch end, on a clock without itself."""

        def __init__(self):
            super().__init__()
            self.curve: list[dict] = []
            self.t0 = self.eval_s = 0.0

        def on_train_begin(self, logs=None):
            self.t0, self.eval_s = time.perf_counter(), 0.0

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            ev = evaluate(self.model, sp.x_test, sp.y_test, prepared.class_names,
                          batch_size=config.batch_size, tta=config.tta)
            row = {"epoch": epoch + 1, "seconds": t - self.t0 - self.eval_s,
                   "test_accuracy": ev.accuracy, "test_loss": ev.loss}
            row.update({k: float(v) for k, v in (logs or {}).items()
                        if isinstance(v, (int, float)) or hasattr(v, "__float__")})
            self.eval_s += time.perf_counter() - t
            row["eval_seconds"] = time.perf_counter() - t
            self.curve.append(row)
            print(f"  epoch {row['epoch']:>3}: {row['seconds']:7.1f} s  test accuracy "
                  f"{100 * ev.accuracy:5.1f} %", flush=True)

    return TestAccuracy()


def first_reached(curve: list[dict], thresholds=THRESHOLDS) -> dict:
    out = {}
    for th in thresholds:
        hit = next((r for r in curve if r["test_accuracy"] >= th), None)
        out[f"{round(100 * th)}"] = (None if hit is None else
                                     {"seconds": hit["seconds"], "epoch": hit["epoch"],
                                      "test_accuracy": hit["test_accuracy"]})
    return out


def run(data: Path, profile: str, epochs: int | None, out_dir: Path, tiny: bool,
        overrides: dict | None = None) -> dict:
    C.tf_quiet()
    from selib.training.profiles import PROFILES
    from selib.training.trainer import prepare_data, train

    config = PROFILES[profile]
    if epochs:
        config = config.replace(epochs=epochs)
    if overrides:
        config = config.replace(**overrides)
    t = time.perf_counter()
    prepared = prepare_data(config, data, progress=False)
    load_s = time.perf_counter() - t
    cb = make_callback(prepared, config)
    sp = prepared.split
    print(f"{profile} profile on {data}: {len(sp.x_train)} train / "
          f"{0 if sp.x_val is None else len(sp.x_val)} val / {len(sp.x_test)} test images, "
          f"{config.epochs} epochs", flush=True)
    result = train(config, data, out_dir, verbose=0, prepared=prepared, extra_callbacks=[cb])
    m = result.metrics
    return {"params": {"data": str(data), "profile": profile, "epochs": config.epochs,
                       "config": config.to_dict(), "classes": prepared.class_names,
                       "n_train": m["n_train"], "n_val": m["n_val"], "n_test": m["n_test"]},
            "load_seconds": load_s, "curve": cb.curve, "reached": first_reached(cb.curve),
            "final": {"test_accuracy_best_checkpoint": m.get("test_accuracy"),
                      "train_seconds_incl_test_evals": m["train_seconds"],
                      "train_seconds": cb.curve[-1]["seconds"] if cb.curve else None,
                      "epochs_run": m["epochs_run"]}}


def report(res: dict) -> str:
    p = res["params"]
    rows = [[f"{k} %", r["seconds"] if r else None, r["epoch"] if r else None,
             f"{100 * r['test_accuracy']:.1f} %" if r else "not reached"] for k, r in res["reached"].items()]
    f = res["final"]
    acc = f["test_accuracy_best_checkpoint"]
    head = (f"time to accuracy, {p['profile']} profile, {p['data']} ({len(p['classes'])} classes, "
            f"{p['n_train']} train / {p['n_test']} test images); clock = training only "
            f"(images loaded in {res['load_seconds']:.1f} s before)")
    tail = (f"final: best checkpoint {100 * acc:.2f} % test accuracy after "
            f"{f['train_seconds'] or 0:.0f} s, {f['epochs_run']} epochs" if acc is not None else "")
    return "\n".join([head, C.table(["reached", "seconds", "epoch", "test acc."], rows), tail])


def main(argv: list[str] | None = None) -> dict:
    default_data = C.REPO.parent / "shared" / "realdata"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=default_data if default_data.is_dir() else None,
                    help="image folder <class>/*.jpg (default ../shared/realdata when present)")
    ap.add_argument("--profile", default="cpu", help="a selib.training.config profile (default cpu)")
    ap.add_argument("--epochs", type=int, help="override the profile's epochs")
    ap.add_argument("--set", action="append", metavar="KEY=JSON", help="override any TrainConfig field")
    ap.add_argument("--out", type=Path, help="run folder (default: a temporary one, deleted)")
    C.add_common_args(ap, repeats=1)   # --repeats is accepted for symmetry; one run is the measurement
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="selib-tta-"))
    try:
        if a.tiny:
            a.data = toy_folder(tmp / "toy") if a.data is None or a.data == default_data else a.data
            a.profile, a.epochs = "ci", a.epochs or 2
        if a.data is None:
            ap.error("--data DIR is required (no ../shared/realdata here)")
        machine = C.machine_info()
        res = run(a.data, a.profile, a.epochs, a.out or tmp / "run", a.tiny,
                  {k: json.loads(v) for k, v in (item.split("=", 1) for item in a.set or [])})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    machine["load_avg_at_end"] = C.load_avg()
    res = {"machine": machine, "benchmark": "time_to_accuracy", **res}
    print(report(res))
    C.write_json(a.json, res)
    return res


if __name__ == "__main__":
    main()
