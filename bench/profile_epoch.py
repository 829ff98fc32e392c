"""Where a CPU spends a training step: the ``cpu`` profile's step taken apart, one piece at a time.

    python bench/profile_epoch.py --json bench/results/profile_epoch.json          # every variant
    python bench/profile_epoch.py --variants full,no_augment --steps 8              # a few
    ONEDNN_MAX_CPU_ISA=AVX2 python bench/profile_epoch.py ...   # the AVX2 path on any x86 CPU
    python bench/profile_epoch.py --tiny                                            # seconds

Each variant is the ``cpu`` profile's network and training step (:func:`selib.build_model`,
:func:`selib.training.optimizers.compile_model`, ``model.fit`` on uint8 batches, as
``selib train`` runs it) with **one** thing changed: augmentation off, SE off, the weight
average off, plain SGD instead of AdamW, batch normalisation replaced by an identity, a
smaller input, another thread layout, or the JAX or PyTorch backend. The difference to ``full`` is what
that piece costs. Every variant runs in its own process (the backend, the precision and
TensorFlow's thread pools are fixed at start-up), after a warm-up that traces and compiles the
step, and reports the median seconds per step over ``--rounds`` timed passes of ``--steps``
steps, both on the wall clock and as this process's CPU seconds (all its threads): on a machine
where other jobs take a varying share of the cores, the CPU clock is the steadier of the two.

``ONEDNN_MAX_CPU_ISA=AVX2`` caps oneDNN (TensorFlow's CPU kernels for convolutions and matrix
products) at AVX2, so an AVX-512 machine shows the path a laptop without AVX-512 takes; each
variant records the instruction set oneDNN reported (``ONEDNN_VERBOSE``) so the cap is checked,
not assumed.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

#: name -> (TrainConfig overrides, process environment, what it removes or changes)
VARIANTS: dict[str, tuple[dict, dict, str]] = {
    "full": ({}, {}, "the cpu profile's step, float32"),
    "no_augment": ({"augment": None}, {}, "augmentation off (the affine warp, contrast, brightness)"),
    "warp_only": ({}, {"SELIB_PROFILE_AUG": "warp"}, "augmentation: the affine warp alone"),
    "color_only": ({}, {"SELIB_PROFILE_AUG": "color"}, "augmentation: contrast and brightness alone"),
    "no_se": ({"attn": None}, {}, "SE blocks off"),
    "no_ema": ({"use_ema": False}, {}, "weight average off"),
    "sgd": ({"optimizer": "sgd", "weight_decay": 0.0, "use_ema": False}, {}, "SGD, no weight average"),
    "no_bn": ({}, {"SELIB_PROFILE_NO_BN": "1"}, "batch normalisation replaced by an identity"),
    "size128": ({"image_size": 128}, {}, "input 128² instead of 144²"),
    "size112": ({"image_size": 112}, {}, "input 112²"),
    "size96": ({"image_size": 96}, {}, "input 96²"),
    "depth1111": ({"depth": (1, 1, 1, 1)}, {}, "one block per stage (an SE-ResNet-10) instead of two"),
    "batch64": ({"batch_size": 64}, {}, "batch 64 (per-image time)"),
    "inter_op1": ({}, {"SELIB_PROFILE_INTER_OP": "1"}, "TensorFlow: one inter-op thread"),
    # compare with no_ema: fit() on in-memory arrays with the weight average fails on JAX
    # ("donate the same buffer twice"); selib's own trainer, which feeds a PyDataset, does not
    "jax": ({"use_ema": False}, {"KERAS_BACKEND": "jax"}, "the JAX backend (XLA on the CPU), weight average off"),
    # PyTorch is not one of selib's dependencies: run this script with a Python that has it (its
    # CPU build, e.g. `pip install torch==2.13.0`); without it the row reports the import error
    "torch": ({}, {"KERAS_BACKEND": "torch"}, "the PyTorch backend (its CPU build)"),
}


@contextlib.contextmanager
def _no_bn():
    """While building: keras' BatchNormalization is an identity with the same signature."""
    import keras

    class NoBN(keras.layers.Layer):
        def __init__(self, *args, **kwargs):
            super().__init__(name=kwargs.get("name"))

        def call(self, x, training=None):
            return x

    saved, keras.layers.BatchNormalization = keras.layers.BatchNormalization, NoBN
    try:
        yield
    finally:
        keras.layers.BatchNormalization = saved


@contextlib.contextmanager
def _partial_augmentation(part: str):
    """While building: keep one part of the augmentation block (the warp, or the colour changes)."""
    import keras

    from selib.layers import augment

    full = augment.augmentation

    def partial(strength="light", **kwargs):
        block = full(strength, **kwargs)
        keep = [la for la in block.layers if isinstance(la, augment.RandomAffine) == (part == "warp")]
        return keras.Sequential(keep, name=block.name)

    augment.augmentation = partial
    try:
        yield
    finally:
        augment.augmentation = full


def _build_patch(env: dict):
    if env.get("SELIB_PROFILE_NO_BN"):
        return _no_bn()
    if env.get("SELIB_PROFILE_AUG"):
        return _partial_augmentation(env["SELIB_PROFILE_AUG"])
    return contextlib.nullcontext()


#: process-level settings: a variant with one of these runs in a process of its own
PROCESS_ENV = ("KERAS_BACKEND", "SELIB_PROFILE_INTER_OP")


def _in_process(variant: str) -> bool:
    return not any(k in VARIANTS[variant][1] for k in PROCESS_ENV)


def _prepared(variant: str, profile: str, steps: int, tiny: bool):
    """(model, x, y, batch size, callbacks, precision) of one variant, built and traced."""
    import keras
    import numpy as np
    from selib.training.ema import SwapAverage
    from selib.training.optimizers import compile_model
    from selib.training.profiles import PROFILES
    from selib.training.trainer import build_model, runtime

    overrides, env, _what = VARIANTS[variant]
    config = PROFILES[profile].replace(precision="float32", **overrides)
    if tiny:
        config = config.replace(image_size=32, depth=(1,), filters=(8,), initial_filters=8)
    d, bs = config.data, config.optim.batch_size
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (bs * steps, d.image_size, d.image_size, d.channels), dtype=np.uint8)
    y = keras.utils.to_categorical(rng.integers(0, 4, bs * steps), 4)
    with runtime(config.runtime) as rt, _build_patch(env):
        model = build_model(config, 4)
        compile_model(model, config.optim, steps, rt.jit_compile)
    # the trainer's own weight-average swap (validation and saves see the average)
    cbs = [SwapAverage()] if config.optim.swaps_average else []
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=bs, epochs=1, verbose=0, shuffle=False, callbacks=cbs)   # trace
    return model, x, y, bs, cbs, rt.precision, time.perf_counter() - t0, d.image_size


def measure(variants: list[str], profile: str, steps: int, rounds: int, tiny: bool) -> list[dict]:
    """Seconds per training step of each variant, in this process, the rounds interleaved
    (v1, v2, …, v1, v2, …) so that a change in the machine's load hits every variant alike."""
    if os.environ.get("SELIB_PROFILE_INTER_OP"):
        import tensorflow as tf

        tf.config.threading.set_inter_op_parallelism_threads(int(os.environ["SELIB_PROFILE_INTER_OP"]))
    import keras
    import selib  # noqa: F401

    ready = {v: _prepared(v, profile, steps, tiny) for v in variants}
    wall: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(rounds):
        for v, (model, x, y, bs, cbs, *_rest) in ready.items():
            w0, c0 = time.perf_counter(), time.process_time()
            model.fit(x, y, batch_size=bs, epochs=1, verbose=0, shuffle=False, callbacks=cbs)
            wall[v].append((time.perf_counter() - w0) / steps)
            cpu[v].append((time.process_time() - c0) / steps)
    rows = []
    for v, (model, x, y, bs, cbs, precision, warm, size) in ready.items():
        w, c = statistics.median(wall[v]), statistics.median(cpu[v])
        rows.append({"variant": v, "what": VARIANTS[v][2], "backend": keras.backend.backend(),
                     "image_size": size, "batch_size": bs, "precision": precision,
                     "first_pass_seconds": warm, "wall_per_step": w, "cpu_per_step": c,
                     "wall_per_image": w / bs, "cpu_per_image": c / bs, "rounds": rounds, "steps": steps,
                     "process": "shared" if _in_process(v) else "own"})
    return rows


def run_group(variants: list[str], a: argparse.Namespace) -> list[dict]:
    """Variants measured together in one fresh process (its backend, threads and oneDNN dispatch)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for v in variants:
        env.update({k: val for k, val in VARIANTS[v][1].items() if k in PROCESS_ENV})
    env.setdefault("KERAS_BACKEND", "tensorflow")
    cmd = [sys.executable, __file__, "--child", ",".join(variants), "--profile", a.profile, "--steps", str(a.steps),
           "--rounds", str(a.rounds)] + (["--tiny"] if a.tiny else [])
    load0 = C.load_avg()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        return [{"variant": v, "error": tail[0]} for v in variants]
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    isa = onednn_isa(env) if env["KERAS_BACKEND"] == "tensorflow" else None
    for row in rows:
        row["load_avg"] = {"before": load0, "after": C.load_avg()}
        row["onednn_isa"] = isa
    return rows


def onednn_isa(env: dict) -> str | None:
    """The ISA oneDNN reports for a convolution under ``env`` (checks ONEDNN_MAX_CPU_ISA took effect)."""
    code = ("import tensorflow as tf; x=tf.random.normal([1,16,16,8]); k=tf.random.normal([3,3,8,8]);"
            "tf.nn.conv2d(x,k,1,'SAME')")
    out = subprocess.run([sys.executable, "-c", code], env=dict(env, ONEDNN_VERBOSE="1"),
                         capture_output=True, text=True, timeout=300)
    for line in (out.stdout + out.stderr).splitlines():
        if "isa:" in line:
            return line.split("isa:", 1)[1].split(",")[0].strip()
    return None


#: the variant each one is compared with (default: full); JAX runs without the weight average
REFERENCE = {"jax": "no_ema"}


def summarize(rows: list[dict]) -> list[dict]:
    """Each variant's time per image as a ratio of its reference's (wall and CPU clock); a variant
    measured in a process of its own is compared across processes (noisier: see ``process``)."""
    ok = {r["variant"]: r for r in rows if "error" not in r}
    out = []
    for r in rows:
        ref = ok.get(REFERENCE.get(r["variant"], "full"))
        if "error" in r or ref is None:
            out.append({"variant": r["variant"], "error": r.get("error", "no reference row")})
            continue
        out.append({"variant": r["variant"], "what": r["what"], "reference": ref["variant"],
                    "process": r.get("process"),
                    "wall_ms_per_image": 1000 * r["wall_per_image"], "cpu_ms_per_image": 1000 * r["cpu_per_image"],
                    "wall_ratio": r["wall_per_image"] / ref["wall_per_image"],
                    "cpu_ratio": r["cpu_per_image"] / ref["cpu_per_image"]})
    return out


def markdown(rows: list[dict]) -> str:
    body = [[r["variant"], r.get("what", r.get("error")), r.get("reference", ""), r.get("process", ""),
             f"{r.get('wall_ms_per_image', 0):.2f}", f"{r.get('cpu_ms_per_image', 0):.2f}",
             f"{r.get('wall_ratio', 0):.2f}", f"{r.get('cpu_ratio', 0):.2f}"] for r in rows]
    return C.table(["variant", "what changes", "against", "process", "wall ms/image", "CPU ms/image",
                    "wall ×", "CPU ×"], body)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated (default: all)")
    ap.add_argument("--profile", default="cpu", help="the training profile to take apart (default cpu)")
    ap.add_argument("--steps", type=int, default=10, help="training steps per timed pass (default 10)")
    ap.add_argument("--rounds", type=int, default=5, help="timed passes per variant (default 3)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="write the result here")
    ap.add_argument("--markdown", type=Path, help="write the table here")
    ap.add_argument("--tiny", action="store_true", help="a tiny network at 32², 2 steps: seconds")
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(measure(a.child.split(","), a.profile, a.steps, a.rounds, a.tiny)))
        return {}
    if a.tiny:
        a.steps, a.rounds = 2, 1
    wanted = [v.strip() for v in a.variants.split(",") if v.strip()]
    unknown = sorted(set(wanted) - set(VARIANTS))
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    res = {"machine": C.machine_info(), "command": "python bench/profile_epoch.py " + " ".join(argv or sys.argv[1:]),
           "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"), "rows": []}
    shared = [v for v in wanted if _in_process(v)]
    groups = ([shared] if shared else []) + [[v] for v in wanted if not _in_process(v)]
    for group in groups:
        rows = run_group(group, a)
        res["rows"].extend(rows)
        res["summary"] = summarize(res["rows"])
        print(json.dumps(rows), flush=True)
        C.write_json(a.json, res)
    print(markdown(res["summary"]))
    C.write_text(a.markdown, markdown(res["summary"]) + "\n")
    return res


if __name__ == "__main__":
    main()
