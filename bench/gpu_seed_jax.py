"""Benchmark 7 on a GPU machine without TensorFlow: the seed recipe through Keras 3's JAX backend.

    KERAS_BACKEND=jax python bench/gpu_seed_jax.py --json out.json [--epochs 20] [--work /tmp/w]

selib's layers and models are pure Keras 3 (``keras.ops`` only), so the seed network runs
unchanged on JAX, where every training step is XLA-compiled. This is the seed report's recipe —
the seed network at 473×473×1, Adam 1e-3 (β 0.9/0.999, ε 1e-8), batch 32, 20 epochs, 80/20
split with 25 % of the training part for validation — with ``mixed_float16`` (softmax kept in
float32), on the built-in dataset rendered on the spot (1,200 images). It records the time of
every epoch, the steady training throughput and the total, next to the seed report's 6 hours.
(``bench/gpu_seed.py`` is the same benchmark through TensorFlow and ``selib.training.trainer``; use it where
TensorFlow sees a GPU.) Without a GPU it prints "no GPU: skipped" and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEED_HOURS = 6.0


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--work", type=Path, default=Path("/tmp/selib-gpu"))
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)

    import jax
    import keras
    import numpy as np

    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    if not gpus:
        print("no GPU: skipped")
        return {"skipped": True}
    import selib
    from selib.data.loading import load_images
    from selib.data.splits import split
    from selib.synth import generate

    t = time.perf_counter()
    data = generate(a.work / "synthchairs", per_class=300, seed=0, workers=os.cpu_count(), progress=False)
    render_s = time.perf_counter() - t
    t = time.perf_counter()
    loaded = load_images(data, size=473, color="grayscale", fit="squash", progress=False)
    load_s = time.perf_counter() - t
    parts = split(loaded.images, loaded.labels, test_size=0.2, val_size=0.25, seed=42)
    n = len(loaded.class_names)
    f = lambda x: x.astype("float32") / 255.0
    oh = lambda y: np.eye(n, dtype="float32")[y]
    x_tr, y_tr, x_va, y_va, x_te, y_te = f(parts.x_train), oh(parts.y_train), f(parts.x_val), oh(parts.y_val), \
        f(parts.x_test), oh(parts.y_test)

    keras.utils.set_random_seed(42)
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = selib.seed_model((473, 473, 1), n)
    keras.mixed_precision.set_global_policy("float32")
    model.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
                  loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=True)

    rows: list[dict] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            s = time.perf_counter() - self.t
            rows.append({"epoch": epoch + 1, "seconds": s, "train_images_per_s": len(x_tr) / s,
                         "accuracy": float(logs["accuracy"]), "val_accuracy": float(logs["val_accuracy"])})
            print(f"epoch {epoch + 1:>2}: {s:6.2f} s, {len(x_tr) / s:7.1f} img/s (incl. validation), "
                  f"acc {logs['accuracy']:.3f}, val acc {logs['val_accuracy']:.3f}", flush=True)

    t = time.perf_counter()
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=a.epochs, batch_size=a.batch_size,
              callbacks=[Timer()], verbose=0)
    train_s = time.perf_counter() - t
    test_loss, test_acc = model.evaluate(x_te, y_te, batch_size=64, verbose=0)
    steady = float(np.median([r["seconds"] for r in rows[1:]])) if len(rows) > 1 else rows[0]["seconds"]
    res = {
        "skipped": False, "gpu": str(gpus[0].device_kind), "backend": "jax " + jax.__version__,
        "keras": keras.__version__, "params": int(model.count_params()),
        "n_train": int(len(x_tr)), "n_val": int(len(x_va)), "n_test": int(len(x_te)),
        "epochs": a.epochs, "render_seconds": round(render_s, 2), "load_seconds": round(load_s, 2),
        "train_seconds": round(train_s, 2), "first_epoch_seconds": round(rows[0]["seconds"], 2),
        "steady_epoch_seconds": round(steady, 3),
        "steady_train_images_per_s": round(len(x_tr) / steady, 1),
        "test_accuracy": round(float(test_acc), 4), "test_loss": round(float(test_loss), 4),
        "speedup_vs_seed_6h": round(SEED_HOURS * 3600 / train_s, 1), "per_epoch": rows,
    }
    print(json.dumps({k: v for k, v in res.items() if k != "per_epoch"}, indent=2))
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    main()
