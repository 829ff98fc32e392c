"""Benchmark 4: does the input pipeline starve the model?

    python bench/bench_input_pipeline.py                   # cpu profile network, 112²x3, ~2 min
    python bench/bench_input_pipeline.py --files ../shared/realdata --json out.json

Trains the same compiled model (by default the ``cpu`` profile's network: half-width
SE-ResNet-18 at 112x112x3, batch 32, AdamW as that profile) with ``model.fit`` from four
sources, alternating between them every repeat:

* ``tensors``   — one pre-made float32 batch already in memory (``Dataset.from_tensors(...).repeat()``):
  the model alone, no input work at all — the ceiling;
* ``arrays``    — ``selib.data.feeding.ArrayBatches`` (a ``keras.utils.PyDataset``) over in-memory
  uint8 arrays: seeded shuffle, batch, one-hot — what ``selib.training.trainer`` feeds on every
  backend (the model itself rescales and augments, inside the graph);
* ``tf.data``   — the same uint8 arrays through ``tf.data`` (shuffle, batch, one-hot, prefetch):
  the TensorFlow-only alternative, kept in the comparison to show whether it would help;
* ``decode``    — no selib cache: read and decode JPEG files on the fly in ``tf.data``
  (``tf.io.decode_jpeg`` + resize, parallel map, prefetch), as a plain Keras script would.
  By default photo-like JPEGs are generated (``--file-px`` long side); ``--files DIR`` uses a
  folder of your photos instead.

Steps/s are measured in steady state (from the end of the first step to the end of the last,
with a Keras callback). It also times each pipeline alone (batches/s with no model): a pipeline
whose own rate is far above the model's step rate cannot starve it. Reported: steps/s medians
and each source's ratio to ``tensors`` (1.00 = no starvation). Every source trains the same model,
which carries the ``cpu`` profile's augmentation inside it, so augmentation cost is in every row.
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

SOURCES = ("tensors", "arrays", "tf.data", "decode")


def _files(folder: Path | None, n: int, long_px: int, work: Path) -> list[str]:
    if folder is not None:
        exts = {".jpg", ".jpeg", ".png"}
        paths = sorted(str(p) for p in Path(folder).rglob("*") if p.suffix.lower() in exts
                       and not any(part.startswith(".") for part in p.relative_to(folder).parts))
        return paths[:n] if n else paths
    from bench_loader import generate   # photo-like JPEGs (the loader benchmark's generator)

    return [str(p) for p in generate(work / "photos", n, min_px=max(64, long_px // 2), max_px=long_px)]


def decode_dataset(paths: list[str], size: int, channels: int, batch: int, classes: int):
    """A plain tf.data JPEG pipeline: read, decode, resize to uint8, one-hot, batch, prefetch."""
    tf = C.tf_quiet()

    labels = [i % classes for i in range(len(paths))]
    ds = tf.data.Dataset.from_tensor_slices((paths, labels)).shuffle(len(paths), seed=0).repeat()

    def load(path, label):
        img = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
        img = tf.cast(tf.clip_by_value(tf.image.resize(img, (size, size)), 0, 255), tf.uint8)
        return img, tf.one_hot(label, classes)

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch).prefetch(tf.data.AUTOTUNE)


def _endless(ds):
    """Batches forever, from a tf.data dataset or a PyDataset (which restarts each pass)."""
    if hasattr(ds, "__getitem__") and hasattr(ds, "__len__"):
        while True:
            for i in range(len(ds)):
                yield ds[i]
    yield from iter(ds)


class _StepClock:
    def __init__(self):
        import keras

        class CB(keras.callbacks.Callback):
            def on_train_batch_end(cb, batch, logs=None):
                self.marks.append((time.perf_counter(), time.process_time()))

        self.marks: list[tuple[float, float]] = []
        self.callback = CB()


def run(size: int, channels: int, batch: int, n_images: int, steps: int, repeats: int,
        files: list[str], tiny: bool, classes: int = 4) -> dict:
    tf = C.tf_quiet()
    import keras
    import numpy as np

    from selib.data.feeding import ArrayBatches
    from selib.data.splits import one_hot
    from selib.training.optimizers import compile_model
    from selib.training.profiles import PROFILES
    from selib.training.trainer import build_model

    cfg = PROFILES["ci" if tiny else "cpu"].replace(image_size=size, color="rgb" if channels == 3 else "grayscale")
    keras.utils.set_random_seed(0)
    model = compile_model(build_model(cfg, classes), cfg.optim, max(1, n_images // batch))
    rng = np.random.default_rng(0)
    x8 = rng.integers(0, 256, (n_images, size, size, channels), dtype=np.uint8)
    y = np.arange(n_images) % classes
    y1 = one_hot(y, classes)
    pipeline = (tf.data.Dataset.from_tensor_slices((x8, y1)).shuffle(n_images, seed=0)
                .batch(batch, drop_remainder=True).repeat().prefetch(tf.data.AUTOTUNE))
    datasets = {
        "tensors": tf.data.Dataset.from_tensors((tf.constant(x8[:batch]), tf.constant(y1[:batch]))).repeat(),
        "arrays": ArrayBatches(x8, y, batch, shuffle=True, seed=0, num_classes=classes),
        "tf.data": pipeline,
    }
    if files:
        datasets["decode"] = decode_dataset(files, size, channels, batch, classes)

    # pipeline alone: batches/s with no model
    alone = {}
    for name, ds in datasets.items():
        it = _endless(ds)
        next(it)
        rates = []
        for _ in range(max(2, repeats // 2)):
            t0 = time.perf_counter()
            for _ in range(steps):
                next(it)
            rates.append(steps / (time.perf_counter() - t0))
        alone[name] = C.stats(rates)

    clock = _StepClock()

    def fitter(ds):
        def go():
            clock.marks.clear()
            model.fit(ds, steps_per_epoch=steps + 1, epochs=1, verbose=0, shuffle=False,
                      callbacks=[clock.callback])
            (w0, c0), (w1, c1) = clock.marks[0], clock.marks[-1]
            return (w1 - w0) / steps, (c1 - c0) / steps     # seconds per step: wall, CPU
        return go

    times = {k: {"wall": [], "cpu": []} for k in datasets}
    fns = {k: fitter(ds) for k, ds in datasets.items()}
    for k in fns:            # warm-up: traces the train function, fills caches and buffers
        fns[k]()
    names = list(fns)
    with C.Contention() as cont:
        for r in range(repeats):
            j = r % len(names)
            for k in names[j:] + names[:j]:
                w, c = fns[k]()
                times[k]["wall"].append(w)
                times[k]["cpu"].append(c)
    metric = C.verdict_metric(cont.result)
    out = {}
    for k, t in times.items():
        q = C.ratios(times["tensors"], t)      # tensors time / this time == this rate / tensors rate
        out[k] = {"steps_per_s": C.stats([1 / w for w in t["wall"]]),
                  "cpu_s_per_step": C.stats(t["cpu"]),
                  "pipeline_alone_batches_per_s": alone[k],
                  "ratios_to_tensors": q, "ratio_to_tensors": q[metric],
                  "pipeline_headroom": alone[k]["median"] / C.median([1 / w for w in times["tensors"]["wall"]])}
    return {"sources": out, "contention": cont.result, "judged_on": metric}


def report(res: dict) -> str:
    p = res["params"]
    rows = [[k, r["steps_per_s"]["median"], r["steps_per_s"]["median"] * p["batch"],
             f"{r['ratios_to_tensors']['wall']:.3f}", 1e3 * r["cpu_s_per_step"]["median"],
             f"{r['ratios_to_tensors']['cpu']:.3f}", r["pipeline_alone_batches_per_s"]["median"],
             f"{r['pipeline_headroom']:.1f}x"] for k, r in res["results"].items()]
    head = (f"{p['network']} at {p['size']}²x{p['channels']}, batch {p['batch']}, "
            f"{p['n_images']} in-memory images, {p['n_files']} files ({p['files_from']}); "
            f"median of {p['repeats']} interleaved repeats of {p['steps']} steps")
    tab = C.table(["source", "steps/s", "img/s", "vs tensors (wall)", "CPU ms/step", "vs tensors (CPU)",
                   "pipeline alone batches/s", "headroom"], rows)
    g = res["goal"]
    verdict = (f"selib's pipeline: {g['ratio']:.3f}x the steps/s of pre-made tensors by {g['judged_on']} time "
               f"({'no starvation' if g['met'] else 'STARVES the model'}; goal >= 0.95x; "
               f"headroom = pipeline alone / model steps/s); tf.data would give "
               f"{g['tfdata_over_arrays']:.3f}x selib's steps/s")
    return "\n".join([head, tab, C.contention_note(res["contention"]), verdict])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--n-images", type=int, default=512, help="in-memory uint8 images")
    ap.add_argument("--steps", type=int, default=4, help="timed steps per repeat")
    ap.add_argument("--files", type=Path, help="decode these photos on the fly (default: generated)")
    ap.add_argument("--n-files", type=int, default=128, help="files for the decode source (0: all)")
    ap.add_argument("--file-px", type=int, default=1000, help="long side of generated JPEGs")
    ap.add_argument("--no-decode", action="store_true")
    C.add_common_args(ap, repeats=5)
    a = ap.parse_args(argv)
    if a.tiny:
        a.size, a.batch, a.n_images, a.steps, a.repeats, a.n_files, a.file_px = 32, 8, 32, 2, 2, 8, 96
    machine = C.machine_info()
    work = Path(tempfile.mkdtemp(prefix="selib-pipe-"))
    try:
        files = [] if a.no_decode else _files(a.files, a.n_files, a.file_px, work)
        r = run(a.size, a.channels, a.batch, a.n_images, a.steps, a.repeats, files, a.tiny)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    machine["load_avg_at_end"] = C.load_avg()
    res = {"machine": machine, "benchmark": "input_pipeline",
           "params": {"network": "ci profile (tiny)" if a.tiny else "cpu profile network",
                      "size": a.size, "channels": a.channels, "batch": a.batch, "n_images": a.n_images,
                      "steps": a.steps, "repeats": a.repeats, "n_files": len(files),
                      "files_from": str(a.files) if a.files else f"generated, long side <= {a.file_px} px"},
           "results": r["sources"], "contention": r["contention"],
           "goal": {"selib_ratio_at_least": 0.95, "judged_on": r["judged_on"],
                    "ratio": r["sources"]["arrays"]["ratio_to_tensors"],
                    "tfdata_over_arrays": r["sources"]["tf.data"]["ratio_to_tensors"]
                    / r["sources"]["arrays"]["ratio_to_tensors"],
                    "met": bool(r["sources"]["arrays"]["ratio_to_tensors"] >= 0.95)}}
    print(report(res))
    C.write_json(a.json, res)
    return res


if __name__ == "__main__":
    main()
