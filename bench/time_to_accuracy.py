"""Benchmark 6: wall time until test accuracy first reaches 80 / 85 / 90 / 95 / 97 %, side by side.

    # the issue-14 comparison: the v0.1 cpu profile against today's, 3 seeds, interleaved
    python bench/time_to_accuracy.py --data ../shared/realdata --baseline cpu --candidate cpu \\
        --seeds 0,1,2 --precision auto,float32 --json bench/results/time_to_accuracy.json
    # one profile alone (no baseline), as before
    python bench/time_to_accuracy.py --data DIR --candidate quick --epochs 12
    # pilots: variants of the candidate, each a KEY=JSON;KEY=JSON list of TrainConfig overrides
    python bench/time_to_accuracy.py --data DIR --candidate cpu --variant "e24:epochs=24" \\
        --variant "ema:use_ema=true" --seeds 0
    python bench/time_to_accuracy.py --tiny                               # toy folder, seconds

**Arms.** ``--baseline cpu`` is the *v0.1* ``cpu`` profile, frozen here (:data:`BASELINES`, so it
stays the same reference after the profiles are re-tuned): its recipe in ``float32`` with the
*old* augmentation, four separate Keras layers (``RandomFlip``, ``RandomRotation``,
``RandomTranslation``, ``RandomZoom``, then contrast and brightness; :func:`legacy_augmentation`,
copied from ``selib/prepare.py`` at commit 3adb7be). v0.1 ran these layers in the ``tf.data``
pipeline; here they sit in the model, where today's trainer puts augmentation (on 2 cores the
two places cost the same CPU). ``--baseline profile:NAME`` uses a current profile as it is.
The candidate is a current profile (``--candidate``) at each ``--precision`` given (``auto`` is
what ``selib train`` picks on this machine: ``mixed_bfloat16`` on a CPU with AVX512_BF16/AMX),
plus any ``--variant``.

**Order.** Runs are interleaved seed by seed (baseline seed 0, candidate seed 0, …, baseline
seed 1, …), so a colleague's job slows both sides alike; the goal ratios are paired per seed and
also computed from the means over seeds. The JSON is rewritten after every run, so a run cut
short still leaves every finished run on disk.

**Clock.** Each run trains exactly as ``selib train`` does (``selib.training.trainer.train``:
same split, model, optimiser, augmentation, checkpointing and validation) with one extra Keras
callback that, at each epoch end, evaluates the *current* model on the held-out test split (with
the profile's test-time flip). The clock starts when ``model.fit`` starts and excludes these test
evaluations, so it is the training time a user would see; a threshold's time is that of the
first epoch end at or above it. "Time to the saved model" is a run's whole training time, and
its accuracy is that of the kept checkpoint (best validation accuracy) that ``selib train``
reports — the number a user gets, not the luckiest epoch.

**Load.** The load average is recorded before and after each run and at every epoch end, with
the cores other processes kept busy during each run (:class:`_common.Contention`). Every curve
row also has ``cpu_seconds`` (this process's CPU time, evaluations excluded), and the summary gives
the ratios on that clock too (``cpu_clock``) and per steady epoch (epochs 2.., wall and CPU): on a
machine where other jobs take a varying share of the cores the CPU clock is the steadier one.
Seeds can run in separate processes at the same time and be combined with ``--merge A.json B.json``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

THRESHOLDS = (0.80, 0.85, 0.90, 0.95, 0.97)
CLASSES = ("bench", "chair", "office_chair", "sofa")
#: issue 14: candidate/baseline time to 97 % (saved model) and to 95 % (first epoch end)
GOALS = {"97": 0.55, "95": 0.50}
EVAL_BATCH = 128          # test evaluations only (off the clock); larger batches are faster

#: the v0.1 profiles, frozen: (TrainConfig overrides of the seed recipe, augmentation kind)
BASELINES = {
    "cpu": dict(
        name="cpu_v0.1", color="rgb", val_size=0.1, depth=(2, 2, 2, 2), filters=(32, 64, 128, 256),
        initial_filters=32, ratio=8, optimizer="adamw", learning_rate=2e-3, weight_decay=0.05,
        schedule="cosine", warmup_epochs=1, label_smoothing=0.1, augment="medium", tta=True,
        image_size=144, batch_size=32, epochs=40, precision="float32"),
}
BASELINES["quick"] = dict(BASELINES["cpu"], name="quick_v0.1", image_size=128, epochs=30)


def legacy_augmentation(strength: str = "light", *, value_range=(0.0, 1.0), seed=None):
    """v0.1's augmentation (selib/prepare.py at 3adb7be): four Keras layers, three warps."""
    import keras
    from keras import layers

    from selib.layers.augment import STRENGTHS

    p = STRENGTHS[strength]      # the same factors as v0.1's _STRENGTHS
    block = [layers.RandomFlip("horizontal", seed=seed)]
    if p["rotation"]:
        block.append(layers.RandomRotation(p["rotation"], fill_mode="nearest", seed=seed))
    block += [
        layers.RandomTranslation(p["translation"], p["translation"], fill_mode="nearest", seed=seed),
        layers.RandomZoom(p["zoom"], fill_mode="nearest", seed=seed),
        layers.RandomContrast(p["contrast"], value_range=value_range, seed=seed),
    ]
    if p["brightness"]:
        block.append(layers.RandomBrightness(p["brightness"], value_range=value_range, seed=seed))
    return keras.Sequential(block, name=f"augment_{strength}_legacy")


@contextlib.contextmanager
def augmentation_kind(kind: str):
    """``legacy``: the trainer builds the model with :func:`legacy_augmentation` (it imports
    ``selib.layers.augment.augmentation`` when it builds a model, so swapping the module's
    attribute for the block is enough); ``fused``: today's RandomAffine, untouched."""
    if kind != "legacy":
        yield
        return
    import selib.layers.augment as A

    saved = A.augmentation
    A.augmentation = legacy_augmentation
    try:
        yield
    finally:
        A.augmentation = saved


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
            self.c0, self.eval_cpu = time.process_time(), 0.0

        def on_epoch_end(self, epoch, logs=None):
            t, c = time.perf_counter(), time.process_time()
            ev = evaluate(self.model, sp.x_test, sp.y_test, prepared.class_names,
                          batch_size=max(EVAL_BATCH, config.optim.batch_size), tta=config.eval.tta)
            seconds = t - self.t0 - self.eval_s
            row = {"epoch": epoch + 1, "seconds": seconds, "minutes": seconds / 60,
                   # CPU-seconds of this process's threads (training only): steadier than wall
                   # time when other jobs take a varying share of the cores
                   "cpu_seconds": c - self.c0 - self.eval_cpu,
                   "test_accuracy": ev.accuracy, "test_loss": ev.loss, "load_avg": C.load_avg()}
            row.update({k: float(v) for k, v in (logs or {}).items()
                        if isinstance(v, (int, float)) or hasattr(v, "__float__")})
            row["eval_seconds"] = time.perf_counter() - t
            self.eval_s += row["eval_seconds"]
            self.eval_cpu += time.process_time() - c
            self.curve.append(row)
            print(f"  epoch {row['epoch']:>3}: {row['seconds']:7.1f} s  test accuracy "
                  f"{100 * ev.accuracy:5.1f} %  (load {row['load_avg']})", flush=True)

    return TestAccuracy()


def first_reached(curve: list[dict], thresholds=THRESHOLDS) -> dict:
    out = {}
    for th in thresholds:
        hit = next((r for r in curve if r["test_accuracy"] >= th), None)
        out[f"{round(100 * th)}"] = (None if hit is None else
                                     {"seconds": hit["seconds"], "epoch": hit["epoch"],
                                      "test_accuracy": hit["test_accuracy"]})
    return out


def run(data: Path, config, out_dir: Path, *, augment: str = "fused", prepared=None,
        label: str = "") -> dict:
    """Train one config (one arm, one seed) with the per-epoch test callback."""
    C.tf_quiet()
    import keras

    from selib.training.trainer import prepare_data, train

    t = time.perf_counter()
    prepared = prepared or prepare_data(config, data, progress=False)
    load_s = time.perf_counter() - t
    cb = make_callback(prepared, config)
    sp = prepared.split
    print(f"{label or config.name} (seed {config.runtime.seed}, {config.runtime.precision}, {augment} "
          f"augmentation) on {data}: {len(sp.x_train)} train / "
          f"{0 if sp.x_val is None else len(sp.x_val)} val / {len(sp.x_test)} test images, "
          f"{config.optim.epochs} epochs; load {C.load_avg()}", flush=True)
    keras.backend.clear_session()
    load_before = C.load_avg()
    with augmentation_kind(augment), C.Contention() as cont:
        result = train(config, data, out_dir, verbose=0, prepared=prepared, callbacks=[cb])
    m = result.metrics
    curve = cb.curve
    return {"params": {"label": label or config.name, "data": str(data), "profile": config.name,
                       "epochs": config.optim.epochs, "seed": config.runtime.seed,
                       "augmentation": augment, "config": config.to_dict(), "classes": prepared.class_names,
                       "n_train": m["n_train"], "n_val": m["n_val"], "n_test": m["n_test"]},
            "precision": m.get("precision"), "load_seconds": load_s, "curve": curve,
            "reached": first_reached(curve),
            "load_avg": {"before": load_before, "after": C.load_avg(),
                         "epoch_mean": _mean([r["load_avg"] for r in curve if r["load_avg"] is not None]),
                         "epoch_max": max((r["load_avg"] for r in curve if r["load_avg"] is not None),
                                          default=None)},
            "contention": cont.result,
            "final": {"test_accuracy_best_checkpoint": m.get("test_accuracy"),
                      "best_epoch": m.get("best_epoch"),
                      "train_seconds_incl_test_evals": m["train_seconds"],
                      "train_seconds": curve[-1]["seconds"] if curve else None,
                      "epochs_run": m["epochs_run"], "mean_epoch_seconds": m.get("mean_epoch_seconds"),
                      "params": m.get("params")}}


def steady_epoch(curve: list[dict], key: str = "seconds") -> float | None:
    """Median time of epochs 2.. of a curve (cumulative ``key``); None without two epochs."""
    if len(curve) < 2 or any(key not in r for r in curve):
        return None
    return C.median([b[key] - a[key] for a, b in zip(curve, curve[1:])])


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return float(statistics.fmean(xs)) if xs else None


def _sd(xs):
    xs = [x for x in xs if x is not None]
    return float(statistics.stdev(xs)) if len(xs) > 1 else None


# ---------------------------------------------------------------------------------------------
# Arms, and the summary over seeds.
# ---------------------------------------------------------------------------------------------
def baseline_config(spec: str):
    """``cpu``/``quick``: the frozen v0.1 profile (legacy augmentation); ``profile:NAME``: a
    current profile as it is (fused augmentation)."""
    from selib.training.profiles import PROFILES, REPORT as SEED

    if spec.startswith("profile:"):
        return PROFILES[spec.split(":", 1)[1]], "fused"
    if spec not in BASELINES:
        raise SystemExit(f"unknown baseline {spec!r}; choose one of {sorted(BASELINES)} or profile:NAME")
    return SEED.replace(**BASELINES[spec]), "legacy"


def parse_overrides(text: str) -> dict:
    """``KEY=JSON;KEY=JSON`` (``;`` separates, as JSON lists hold commas)."""
    out = {}
    for item in filter(None, (s.strip() for s in text.split(";"))):
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v.strip()
    return out


def make_arms(a) -> list[dict]:
    from selib.training.profiles import PROFILES

    common = {k: json.loads(v) for k, v in (item.split("=", 1) for item in a.set or [])}
    if a.epochs:
        common["epochs"] = a.epochs
    arms = []
    if a.baseline:
        cfg, aug = baseline_config(a.baseline)
        arms.append({"label": "baseline", "role": "baseline", "config": cfg.replace(**common),
                     "augment": aug, "source": a.baseline})
    base = PROFILES[a.candidate].replace(**common)
    precisions = [p.strip() for p in (a.precision or "auto").split(",") if p.strip()]
    for p in precisions:
        label = "candidate" if len(precisions) == 1 else f"candidate_{p}"
        arms.append({"label": label, "role": "candidate", "config": base.replace(precision=p),
                     "augment": "fused", "source": a.candidate})
    for v in a.variant or []:
        name, _, spec = v.partition(":")
        arms.append({"label": name, "role": "variant",
                     "config": base.replace(precision=precisions[0], **parse_overrides(spec)),
                     "augment": "fused", "source": f"{a.candidate} + {spec}"})
    return arms


def summarize(runs: list[dict]) -> dict:
    """Per arm: time to each threshold and to the saved model, the saved models' accuracy, over
    seeds (mean, sd, all); runs that never reached a threshold are counted, not averaged."""
    out = {}
    for label in dict.fromkeys(r["params"]["label"] for r in runs):
        rs = [r for r in runs if r["params"]["label"] == label]
        acc = [r["final"]["test_accuracy_best_checkpoint"] for r in rs]
        saved = [r["final"]["train_seconds"] for r in rs]
        arm = {"seeds": [r["params"]["seed"] for r in rs], "precision": sorted({r["precision"] for r in rs}),
               "augmentation": rs[0]["params"]["augmentation"], "epochs": rs[0]["params"]["epochs"],
               "saved_model_accuracy": {"mean": _mean(acc), "sd": _sd(acc), "min": min(acc), "max": max(acc),
                                        "all": acc},
               "saved_model_seconds": {"mean": _mean(saved), "sd": _sd(saved), "all": saved},
               "mean_epoch_seconds": _mean([r["final"]["mean_epoch_seconds"] for r in rs]),
               # epochs 2.. (the first one also traces the step): wall and CPU seconds per epoch
               "steady_epoch_seconds": _mean([steady_epoch(r["curve"], "seconds") for r in rs]),
               "steady_epoch_cpu_seconds": _mean([steady_epoch(r["curve"], "cpu_seconds") for r in rs]),
               "load_avg_epoch_mean": _mean([r["load_avg"]["epoch_mean"] for r in rs]),
               "others_cores_mean": _mean([r["contention"].get("others_cores") for r in rs]),
               "first_reached": {}}
        for th in (f"{round(100 * t)}" for t in THRESHOLDS):
            s = [r["reached"][th]["seconds"] if r["reached"][th] else None for r in rs]
            e = [r["reached"][th]["epoch"] if r["reached"][th] else None for r in rs]
            arm["first_reached"][th] = {"mean_seconds": _mean(s), "sd": _sd(s), "all": s, "epochs": e,
                                        "reached_in": sum(x is not None for x in s), "of": len(s)}
        # the same on the CPU clock (this process's CPU-seconds), steadier under a varying load
        if all("cpu_seconds" in row for r in rs for row in r["curve"]):
            cpu = {"saved_model": [r["curve"][-1]["cpu_seconds"] if r["curve"] else None for r in rs]}
            for th in ("95", "97"):
                cpu[th] = [next((row["cpu_seconds"] for row in r["curve"] if row["test_accuracy"] >= int(th) / 100),
                                None) for r in rs]
            arm["cpu_clock"] = {k: {"mean_seconds": _mean(v), "all": v} for k, v in cpu.items()}
        out[label] = arm
    return out


def compare(runs: list[dict], summary: dict, baseline: str = "baseline") -> dict:
    """Every other arm over the baseline: the goal ratios, from the means over seeds and paired
    per seed (same seed, run back to back). 97 %: time to the saved model, valid when the arm's
    saved models average ≥ 97 % (and the baseline's too); also time to *first* reach 97 %. 95 %:
    time to first reach 95 %."""
    if baseline not in summary:
        return {}
    b = summary[baseline]
    by_seed = {r["params"]["seed"]: r for r in runs if r["params"]["label"] == baseline}
    out = {}
    for label, arm in summary.items():
        if label == baseline:
            continue
        mine = [r for r in runs if r["params"]["label"] == label]

        def paired(fn):
            q = [fn(r) / fn(by_seed[r["params"]["seed"]]) for r in mine
                 if r["params"]["seed"] in by_seed and fn(r) is not None
                 and fn(by_seed[r["params"]["seed"]]) is not None]
            return {"median": C.median(q) if q else None, "all": q}

        def first(th):
            return lambda r: r["reached"][th]["seconds"] if r["reached"][th] else None

        def ratio(x, y):
            return None if x is None or y is None else x / y

        acc_ok = (arm["saved_model_accuracy"]["mean"] or 0) >= 0.97
        r97 = ratio(arm["saved_model_seconds"]["mean"], b["saved_model_seconds"]["mean"])
        r95 = ratio(arm["first_reached"]["95"]["mean_seconds"], b["first_reached"]["95"]["mean_seconds"])
        out[label] = {
            "saved_model_97": {"ratio_of_means": r97, "paired": paired(lambda r: r["final"]["train_seconds"]),
                               "candidate_mean_accuracy": arm["saved_model_accuracy"]["mean"],
                               "baseline_mean_accuracy": b["saved_model_accuracy"]["mean"],
                               "valid": acc_ok and (b["saved_model_accuracy"]["mean"] or 0) >= 0.97},
            "first_97": {"ratio_of_means": ratio(arm["first_reached"]["97"]["mean_seconds"],
                                                 b["first_reached"]["97"]["mean_seconds"]),
                         "paired": paired(first("97")),
                         "reached_in": f"{arm['first_reached']['97']['reached_in']}/{arm['first_reached']['97']['of']}"
                                       f" vs {b['first_reached']['97']['reached_in']}/{b['first_reached']['97']['of']}"},
            "first_95": {"ratio_of_means": r95, "paired": paired(first("95")),
                         "reached_in": f"{arm['first_reached']['95']['reached_in']}/{arm['first_reached']['95']['of']}"
                                       f" vs {b['first_reached']['95']['reached_in']}/{b['first_reached']['95']['of']}"},
            "epoch_time_ratio": ratio(arm["mean_epoch_seconds"], b["mean_epoch_seconds"]),
            "steady_epoch_time_ratio": {"wall": ratio(arm["steady_epoch_seconds"], b["steady_epoch_seconds"]),
                                        "cpu": ratio(arm["steady_epoch_cpu_seconds"], b["steady_epoch_cpu_seconds"])},
        }
        if "cpu_clock" in arm and "cpu_clock" in b:   # the same ratios on the CPU-seconds clock
            out[label]["cpu_clock"] = {k: ratio(arm["cpu_clock"][k]["mean_seconds"], b["cpu_clock"][k]["mean_seconds"])
                                       for k in ("saved_model", "95", "97")}
        g97, g95 = out[label]["saved_model_97"], out[label]["first_95"]
        out[label]["goal"] = {
            "97_saved_model_le_0.55": bool(g97["valid"] and r97 is not None and r97 <= GOALS["97"]),
            "95_first_le_0.50": bool(r95 is not None and r95 <= GOALS["95"])}
    return out


def report(res: dict) -> str:
    lines = []
    s = res.get("summary", {})
    rows = []
    for label, arm in s.items():
        acc = arm["saved_model_accuracy"]
        fr = arm["first_reached"]
        fmt = lambda d: (f"{d['mean_seconds'] / 60:.2f} ({d['reached_in']}/{d['of']})"
                         if d["mean_seconds"] is not None else f"– (0/{d['of']})")
        rows.append([label, ",".join(arm["precision"]), arm["augmentation"], arm["epochs"], len(arm["seeds"]),
                     f"{100 * acc['mean']:.2f} ± {100 * (acc['sd'] or 0):.2f}",
                     f"{arm['saved_model_seconds']['mean'] / 60:.2f}", fmt(fr["95"]), fmt(fr["97"]),
                     f"{arm['mean_epoch_seconds']:.1f}" if arm["mean_epoch_seconds"] else None,
                     arm["load_avg_epoch_mean"]])
    lines.append(f"time to accuracy on {res['params']['data']}; clock = training only, minutes")
    lines.append(C.table(["arm", "precision", "aug", "epochs", "seeds", "saved acc. %", "saved min",
                          "first 95 %", "first 97 %", "s/epoch", "load"], rows))
    for label, c in res.get("ratios", {}).items():
        r97, r95 = c["saved_model_97"], c["first_95"]
        f = lambda x: "–" if x is None else f"{x:.3f}"
        lines.append(f"{label}/baseline: saved model {f(r97['ratio_of_means'])} (paired {f(r97['paired']['median'])}"
                     f"{'' if r97['valid'] else ', mean accuracy < 97 %'}), first 97 % "
                     f"{f(c['first_97']['ratio_of_means'])}, first 95 % {f(r95['ratio_of_means'])} "
                     f"(paired {f(r95['paired']['median'])}); epoch time {f(c['epoch_time_ratio'])}; goals {c['goal']}")
    return "\n".join(lines)


def markdown(res: dict) -> str:
    """The summary as Markdown (tables for the README / bench/results)."""
    m = res["machine"]
    out = [f"# Time to accuracy, side by side ({m['date']})", "",
           f"Machine: {m['cpu']}, {m['usable_cpus']} usable cores, bf16 in hardware: "
           f"{m.get('cpu_bf16')}; load average at start {m['load_avg_at_start']}, at end "
           f"{m.get('load_avg_at_end')}. Command: `{res['command']}`", "",
           "| arm | precision | augmentation | epochs | seeds | saved model acc. (mean ± sd) | "
           "min..max | time to saved model (min) | first 95 % (min) | first 97 % (min) | s/epoch | load (mean) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, a in res.get("summary", {}).items():
        acc, fr = a["saved_model_accuracy"], a["first_reached"]
        t = lambda d: (f"{d['mean_seconds'] / 60:.2f} ({d['reached_in']}/{d['of']})" if d["mean_seconds"]
                       is not None else f"not reached (0/{d['of']})")
        out.append(f"| {label} | {', '.join(a['precision'])} | {a['augmentation']} | {a['epochs']} | "
                   f"{len(a['seeds'])} | {100 * acc['mean']:.2f} ± {100 * (acc['sd'] or 0):.2f} | "
                   f"{100 * acc['min']:.1f}..{100 * acc['max']:.1f} | "
                   f"{a['saved_model_seconds']['mean'] / 60:.2f} | {t(fr['95'])} | {t(fr['97'])} | "
                   f"{(a['mean_epoch_seconds'] or 0):.1f} | {a['load_avg_epoch_mean'] or 0:.2f} |")
    if res.get("ratios"):
        out += ["", "| arm / baseline | saved model (97 % goal ≤ 0.55) | paired per seed | first 97 % | "
                "first 95 % (goal ≤ 0.50) | paired per seed | epoch time | CPU clock: saved / 95 % / 97 % |",
                "|---|---|---|---|---|---|---|---|"]
        f = lambda x: "–" if x is None else f"{x:.3f}"
        for label, c in res["ratios"].items():
            r97 = c["saved_model_97"]
            out.append(f"| {label} | {f(r97['ratio_of_means'])}{'' if r97['valid'] else ' (mean acc. < 97 %)'} | "
                       f"{', '.join(f(x) for x in r97['paired']['all'])} | {f(c['first_97']['ratio_of_means'])} "
                       f"({c['first_97']['reached_in']}) | {f(c['first_95']['ratio_of_means'])} "
                       f"({c['first_95']['reached_in']}) | {', '.join(f(x) for x in c['first_95']['paired']['all'])} | "
                       f"{f(c['epoch_time_ratio'])} | "
                       + (" / ".join(f(c["cpu_clock"][k]) for k in ("saved_model", "95", "97")) if "cpu_clock" in c else "–")
                       + " |")
    out += ["", "Per run (curve: minutes → test accuracy at each epoch end):", ""]
    for r in res.get("runs", []):
        p, f_ = r["params"], r["final"]
        curve = " ".join(f"{row['minutes']:.1f}:{100 * row['test_accuracy']:.1f}" for row in r["curve"])
        out.append(f"- {p['label']} seed {p['seed']} ({r['precision']}): saved {100 * f_['test_accuracy_best_checkpoint']:.2f} % "
                   f"after {f_['train_seconds'] / 60:.2f} min; load {r['load_avg']['before']}→{r['load_avg']['after']} "
                   f"(others {r['contention'].get('others_cores') or 0:.2f} cores); curve {curve}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> dict:
    default_data = C.REPO.parent / "shared" / "realdata"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=default_data if default_data.is_dir() else None,
                    help="image folder <class>/*.jpg (default ../shared/realdata when present)")
    ap.add_argument("--baseline", help="cpu | quick (the frozen v0.1 profile, float32, old augmentation) "
                                       "or profile:NAME; omit for the candidate alone")
    ap.add_argument("--candidate", "--profile", dest="candidate", default="cpu",
                    help="a current profile (default cpu)")
    ap.add_argument("--precision", default="auto",
                    help="candidate precision(s), comma-separated: auto,float32,mixed_bfloat16 (default auto)")
    ap.add_argument("--variant", action="append", metavar="NAME:KEY=JSON;KEY=JSON",
                    help="an extra candidate arm with TrainConfig overrides (pilots)")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    ap.add_argument("--epochs", type=int, help="override every arm's epochs")
    ap.add_argument("--set", action="append", metavar="KEY=JSON", help="override a TrainConfig field in every arm")
    ap.add_argument("--markdown", type=Path, help="also write the Markdown summary here")
    ap.add_argument("--plot", type=Path, help="also draw test accuracy vs training minutes, every run, here (PNG)")
    ap.add_argument("--out", type=Path, help="run folders under here (default: a temporary folder, deleted)")
    ap.add_argument("--merge", type=Path, nargs="+", metavar="JSON",
                    help="combine the runs of earlier result files (e.g. seeds run in two processes at "
                         "the same time) into one summary; trains nothing")
    C.add_common_args(ap, repeats=1)   # --repeats is accepted for symmetry; seeds are the repeats
    a = ap.parse_args(argv)
    if a.merge:
        res = merge_results([json.loads(p.read_text()) for p in a.merge], [str(p) for p in a.merge])
        res = _finish(res, a)
        print(report(res))
        return res
    tmp = Path(tempfile.mkdtemp(prefix="selib-tta-"))
    command = "python bench/time_to_accuracy.py " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        if a.tiny:
            a.data = toy_folder(tmp / "toy") if a.data is None or a.data == default_data else a.data
            a.candidate, a.epochs = "ci", a.epochs or 2
            if a.baseline and not a.baseline.startswith("profile:"):
                a.baseline = "profile:ci"
        if a.data is None:
            ap.error("--data DIR is required (no ../shared/realdata here)")
        from selib import hardware
        from selib.training.trainer import prepare_data

        machine = C.machine_info()
        machine.update(cpu_flags_bf16=sorted(f for f in hardware.cpu_flags()
                                             if "bf16" in f or f.startswith("amx")),
                       cpu_bf16=hardware.cpu_has_bf16(), auto_precision=hardware.choose_precision("auto"))
        arms = make_arms(a)
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
        root = a.out or tmp / "runs"
        res = {"machine": machine, "benchmark": "time_to_accuracy", "command": command,
               "params": {"data": str(a.data), "baseline": a.baseline, "candidate": a.candidate,
                          "precision": a.precision, "seeds": seeds, "variants": a.variant or [],
                          "arms": [{k: v for k, v in arm.items() if k != "config"} | {"config": arm["config"].to_dict()}
                                   for arm in arms],
                          "order": "interleaved: for each seed, every arm in turn", "goals": GOALS},
               "runs": []}
        prepared = {}
        for seed in seeds:
            for arm in arms:
                cfg = arm["config"].replace(seed=seed)
                key = json.dumps(cfg.data.to_dict(), sort_keys=True, default=str)
                if key not in prepared:   # the same split for every arm that reads the same data
                    prepared = {key: prepare_data(cfg, a.data, progress=False)}
                r = run(a.data, cfg, root / f"{arm['label']}_s{seed}", augment=arm["augment"],
                        prepared=prepared[key], label=arm["label"])
                res["runs"].append(r)
                _finish(res, a)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = _finish(res, a)
    print(report(res))
    return res


def merge_results(parts: list[dict], names: list[str]) -> dict:
    """One result from several (same arms, other seeds): runs concatenated in seed order, the
    machine/params of the first, each part's command and load kept."""
    res = json.loads(json.dumps(parts[0]))
    res["runs"] = sorted((r for p in parts for r in p["runs"]),
                         key=lambda r: (r["params"]["seed"],
                                        [x["label"] for x in res["params"]["arms"]].index(r["params"]["label"])
                                        if r["params"]["label"] in [x["label"] for x in res["params"]["arms"]] else 99))
    res["params"]["seeds"] = sorted({r["params"]["seed"] for r in res["runs"]})
    res["parts"] = [{"file": n, "command": p["command"], "machine": p["machine"],
                     "seeds": p["params"]["seeds"], "runs": len(p["runs"])} for n, p in zip(names, parts)]
    res["command"] = " && ".join(p["command"] for p in parts)
    res["machine"]["load_avg_at_start"] = [p["machine"]["load_avg_at_start"] for p in parts]
    res["params"]["order"] = ("interleaved within each part (per seed, every arm in turn); when and "
                              "how each part ran: see parts (command, machine, load)")
    return res


def _finish(res: dict, a) -> dict:
    """Summary, ratios and the single-run view; (re)write the JSON/Markdown after every run."""
    runs = res["runs"]
    if not a.merge:
        res["machine"]["load_avg_at_end"] = C.load_avg()
    else:
        res["machine"]["load_avg_at_end"] = [p["machine"].get("load_avg_at_end") for p in res["parts"]]
    res["summary"] = summarize(runs)
    res["ratios"] = compare(runs, res["summary"])
    first = next((r for r in runs if r["params"]["label"] != "baseline"), runs[0])
    # the first candidate run at top level, as the one-profile benchmark always wrote it
    res.update(load_seconds=first["load_seconds"], curve=first["curve"], reached=first["reached"],
               final=first["final"])
    res["params"]["profile"] = first["params"]["profile"]
    res["params"].update({k: first["params"][k] for k in ("n_train", "n_val", "n_test", "classes")})
    goal = next(iter(res["ratios"].values()))["goal"] if res["ratios"] else None
    if goal is not None:   # the first arm over the baseline decides
        res["goal"] = {"met": all(goal.values()), **goal}
    C.write_json(a.json, res)
    if a.markdown:
        C.write_text(a.markdown, markdown(res))
    if getattr(a, "plot", None):
        plot_curves(res, a.plot)
    return res


def plot_curves(res: dict, path: Path) -> None:
    """The trade-off the issue asks for when 97 % is out of reach: test accuracy after each epoch
    against training minutes, one line per run, coloured by arm. The full 0-100 % axis on the left
    so nothing is exaggerated; the right panel zooms into 90-100 % and says so in its title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [arm["label"] for arm in res["params"]["arms"]]
    colours = dict(zip(labels, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for ax, (lo, hi), title in zip(axes, [(0, 100), (90, 100)], ["full scale", "zoom: 90-100 %"]):
        seen = set()
        for r in res["runs"]:
            label = r["params"]["label"]
            xs = [c["minutes"] for c in r["curve"]]
            ys = [100 * c["test_accuracy"] for c in r["curve"]]
            ax.plot(xs, ys, color=colours.get(label), lw=1.2, alpha=0.85,
                    label=f"{label} ({r['precision']})" if label not in seen else None)
            seen.add(label)
        for level in (95, 97):
            ax.axhline(level, color="grey", ls=":", lw=1)
            ax.text(0, level, f" {level} %", va="bottom", fontsize=8, color="grey")
        ax.set(ylim=(lo, hi), xlabel="training minutes (wall clock, this machine)",
               ylabel="test accuracy after the epoch (%)",
               title=f"Time to accuracy, one line per seed ({title})")
    axes[0].legend(loc="lower right", fontsize=8)
    n = len(res["params"]["seeds"])
    fig.suptitle(f"{Path(str(res['params'].get('data', ''))).name}: {n} seed{'s' * (n != 1)}, "
                 f"{res['machine'].get('date', '')}", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
