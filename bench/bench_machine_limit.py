"""Benchmark 3: how close training gets to the machine's limit, in the precision training uses.

    python bench/bench_machine_limit.py                    # peak + 2 networks + op profile, ~2-3 min
    python bench/bench_machine_limit.py --precision float32   # the float32 figures (v0.1's default)
    python bench/bench_machine_limit.py --investigate      # + batch, threads, oneDNN, XLA, bf16 (~6 min)

**Precision**: ``--precision auto`` (the default) is what ``selib train`` picks here
(``selib.hardware.choose_precision``): ``mixed_bfloat16`` on a CPU with AVX512_BF16/AMX, else
``float32``. The networks are built under that Keras policy, and the peak below is measured in the
same compute dtype, so "% of peak" is always against the peak of the precision actually used
(bfloat16 products on a bf16 CPU; the float32 peak is reported next to it for reference).

**Peak**: the median GFLOP/s of large matrix products in the compute dtype, ``tf.matmul``
(oneDNN) and — in float32 only, NumPy has no bfloat16 BLAS — NumPy, n x n x n at
``--matmul-sizes``; 2 n³ FLOPs each. The peak is the best of those medians — what this machine's
best-tuned kernel of that dtype does, not a datasheet number.

**Achieved**: training images/s (``train_on_batch`` on an in-memory float32 batch, so no input
pipeline; Adam) times the FLOPs of one training image. Training FLOPs are counted as
**3 x the forward FLOPs** of ``selib.models.flops.count_flops`` (2 FLOPs per multiply-add of every
conv, dense and SE layer): the backward pass costs two more of each layer's products (gradient
with respect to the input and to the weights). BatchNorm, ReLU, additions and the optimiser
are not counted: they are a few FLOPs per value and memory-bound, so time spent in them is
exactly what lowers the fraction. Every training sample is paired with a short peak sample taken
just before it (same contention); the fraction divides the median achieved rate by the larger of
the machine peak above and the median of those paired samples (a conservative ceiling). It is
given per wall second and per CPU-second of our own threads: on a machine shared with other jobs
the CPU-second figure is the steady one (it does not depend on how much of the cores we got).

Networks: ``seed128`` — the seed network at 128x128x1, batch 32 (as benchmark 1) — and ``cpu``
— the ``cpu`` profile's network (half-width SE-ResNet-18, 112x112x3, batch 32).

**Why below the peak** (``--profile-ops``, on by default): a TensorFlow profiler trace of a few
training steps, its op time summed by kind — convolutions/matmuls (the counted FLOPs),
batch norm, SE, optimiser, the rest. ``--investigate`` re-measures ``seed128`` in fresh
processes with other batch sizes, thread settings, oneDNN off, XLA, and bfloat16 compute.
"""
from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

NETWORKS = {
    "seed128": dict(size=128, channels=1, batch=32),
    "cpu": dict(size=112, channels=3, batch=32),
}


def build(name: str, size: int, channels: int, tiny: bool = False):
    from selib.models import resnet as models
    from selib.training.profiles import PROFILES
    from selib.training.trainer import build_model

    if tiny:
        return models.se_resnet((size, size, channels), 4, depth=(1, 1), filters=(16, 32),
                                initial_filters=16, ratio=4)
    if name == "seed128":
        return models.seed_model((size, size, channels), 4)
    cfg = PROFILES["cpu"].replace(image_size=size)
    return build_model(cfg, 4)


# ---------------------------------------------------------------------------------------------
# Peak.
# ---------------------------------------------------------------------------------------------
def compute_dtype(precision: str) -> str:
    """The dtype the matrix products run in under a Keras policy name."""
    return {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}.get(precision, "float32")


def matmul_fns(n: int, dtype: str = "float32"):
    """(TensorFlow matmul, NumPy matmul or None) of two n x n matrices in ``dtype``."""
    tf = C.tf_quiet()
    import numpy as np

    rng = np.random.default_rng(0)
    a_np = rng.random((n, n), dtype=np.float32)
    b_np = rng.random((n, n), dtype=np.float32)
    a, b = tf.cast(tf.constant(a_np), dtype), tf.cast(tf.constant(b_np), dtype)

    def tf_mm():
        tf.matmul(a, b).numpy()

    def np_mm():
        a_np @ b_np

    return tf_mm, (np_mm if dtype == "float32" else None)


def measure_peak(sizes, repeats: int, dtype: str = "float32") -> dict:
    """Median GFLOP/s per library and size. The libraries are timed one after the other, not
    interleaved: right after a TensorFlow op its idle threads still spin for a moment, which
    would slow a NumPy (OpenBLAS) call that follows at once."""
    out = {}
    for n in sizes:
        fns = {k: f for k, f in zip(("tf", "numpy"), matmul_fns(n, dtype)) if f is not None}
        for k, fn in fns.items():
            time.sleep(0.2)
            t = C.interleaved({k: fn}, repeats, warmup=1)[k]
            st = C.stats([2 * n ** 3 / s / 1e9 for s in t["wall"]])
            st["per_cpu_second"] = C.median([2 * n ** 3 / s / 1e9 for s in t["cpu"]])
            out.setdefault(k, {})[str(n)] = st
    best = {k: max(v.values(), key=lambda s: s["median"]) for k, v in out.items()}
    peak_lib = max(best, key=lambda k: best[k]["median"])
    peak_cpu = max(st["per_cpu_second"] for d in out.values() for st in d.values())
    return {"dtype": dtype, "gflops": out, "peak_gflops": best[peak_lib]["median"],
            "peak_gflops_per_cpu_second": peak_cpu, "peak_from": peak_lib,
            "peak_size": int(max(out[peak_lib], key=lambda n: out[peak_lib][n]["median"]))}


# ---------------------------------------------------------------------------------------------
# Achieved.
# ---------------------------------------------------------------------------------------------
def train_fn(model, size, channels, batch, steps, jit=False):
    tf = C.tf_quiet()
    import keras
    import numpy as np

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy",
                  jit_compile=jit)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch, size, size, channels), dtype=np.float32))
    y = tf.constant(np.eye(4, dtype=np.float32)[np.arange(batch) % 4])
    return lambda: [model.train_on_batch(x, y) for _ in range(steps)]


def measure_network(name: str, size: int, channels: int, batch: int, steps: int, repeats: int,
                    peak_n: int, tiny: bool = False, jit: bool = False, peak_wall: float = 0.0,
                    peak_cpu: float = 0.0, dtype: str = "float32") -> dict:
    """Training rate of one network (built under the current Keras policy), and its fraction
    of max(machine peak, paired peak), both peaks in ``dtype``."""
    import keras

    from selib.models.flops import count_flops

    keras.utils.set_random_seed(0)
    model = build(name, size, channels, tiny)
    fwd = count_flops(model)
    train_flops = 3 * fwd.flops
    step = train_fn(model, size, channels, batch, steps, jit)
    tf_mm, _ = matmul_fns(peak_n, dtype)
    with C.Contention() as cont:
        t = C.interleaved({"peak": lambda: [tf_mm() for _ in range(3)], "train": step}, repeats, warmup=1)
    peaks = [3 * 2 * peak_n ** 3 / s / 1e9 for s in t["peak"]["wall"]]
    ips = [batch * steps / s for s in t["train"]["wall"]]
    achieved = [i * train_flops / 1e9 for i in ips]
    # the same per CPU-second of our threads: efficiency whatever share of the cores we got
    peaks_cpu = [3 * 2 * peak_n ** 3 / s / 1e9 for s in t["peak"]["cpu"]]
    achieved_cpu = [batch * steps * train_flops / s / 1e9 for s in t["train"]["cpu"]]
    metric = C.verdict_metric(cont.result)
    ceiling = {"wall": max(peak_wall, C.median(peaks)), "cpu": max(peak_cpu, C.median(peaks_cpu))}
    frac = {"wall": C.median(achieved) / ceiling["wall"], "cpu": C.median(achieved_cpu) / ceiling["cpu"]}
    return {"network": name, "size": size, "channels": channels, "batch": batch,
            "precision": keras.mixed_precision.global_policy().name, "peak_dtype": dtype,
            "params": int(model.count_params()),
            "forward_gflops_per_image": fwd.flops / 1e9,
            "train_gflops_per_image": train_flops / 1e9,
            "flop_share": {"conv": fwd.conv / fwd.macs, "dense": fwd.dense / fwd.macs, "se": fwd.se / fwd.macs},
            "images_per_s": C.stats(ips), "achieved_gflops": C.stats(achieved),
            "paired_peak_gflops": C.stats(peaks),
            "achieved_gflops_per_cpu_second": C.stats(achieved_cpu),
            "paired_peak_gflops_per_cpu_second": C.stats(peaks_cpu),
            "peak_used": {"wall_gflops": ceiling["wall"], "gflops_per_cpu_second": ceiling["cpu"]},
            "fraction_wall": frac["wall"], "fraction_cpu": frac["cpu"],
            "judged_on": metric, "fraction": frac[metric],
            "contention": cont.result,
            "cpu_utilisation": C.median([c / w for c, w in zip(t["train"]["cpu"], t["train"]["wall"])])}


# ---------------------------------------------------------------------------------------------
# Where the time goes: TensorFlow profiler, op time by kind.
# ---------------------------------------------------------------------------------------------
_MATMUL_OPS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MatMul", "BatchMatMulV2",
               "DepthwiseConv2dNative", "_FusedConv2D", "_FusedMatMul")


def _kind(node: str, op: str) -> str:
    base = op.replace("_MklNative", "").replace("_Mkl", "").replace("_MklFused", "_Fused")
    if base in _MATMUL_OPS or base.startswith(("Conv2D", "_FusedConv2D")):
        return "stem conv 7x7" if "stem_conv" in node else "other conv/matmul"
    low = node.lower()
    if low.startswith(("adam", "adamw", "sgd")) or "/adam/" in low or "optimizer" in low:
        return "optimiser update"
    if "_bn" in low or "batch_normalization" in low:
        return "batch norm"
    if "_se" in low:
        return "SE (pool, FCs, scale)"
    if "relu" in low:
        return "ReLU"
    return "other (add, pool, loss, copies…)"


def profile_ops(name: str, size: int, channels: int, batch: int, steps: int = 3,
                tiny: bool = False, jit: bool = False) -> dict:
    tf = C.tf_quiet()
    import keras
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    keras.utils.set_random_seed(0)
    model = build(name, size, channels, tiny)
    step = train_fn(model, size, channels, batch, 1, jit)
    step()
    step()
    logdir = tempfile.mkdtemp(prefix="selib-prof-")
    tf.profiler.experimental.start(logdir)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    wall = time.perf_counter() - t0
    tf.profiler.experimental.stop()
    files = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))
    by_kind, by_op = collections.Counter(), collections.Counter()
    if files:
        space = xplane_pb2.XSpace()
        space.ParseFromString(Path(files[-1]).read_bytes())
        for plane in space.planes:
            for line in plane.lines:
                if not line.name.startswith("tf_Compute"):
                    continue
                for ev in line.events:
                    full = plane.event_metadata[ev.metadata_id].name
                    if "::" in full or ":" not in full:
                        continue        # executor bookkeeping, not an op
                    node, op = full.rsplit(":", 1)
                    ms = ev.duration_ps / 1e9
                    by_kind[_kind(node, op)] += ms
                    by_op[op] += ms
    import shutil

    shutil.rmtree(logdir, ignore_errors=True)
    total = sum(by_kind.values()) or 1.0
    return {"network": name, "steps": steps, "wall_ms_per_step": 1e3 * wall / steps,
            "op_ms_per_step": {k: v / steps for k, v in by_kind.most_common()},
            "op_share": {k: v / total for k, v in by_kind.most_common()},
            "top_ops_ms_per_step": {k: v / steps for k, v in by_op.most_common(12)}}


# ---------------------------------------------------------------------------------------------
# Investigation: variants in fresh processes (threads and oneDNN are fixed at TF start-up).
# ---------------------------------------------------------------------------------------------
VARIANTS = [
    ("default (batch 32, TF threads auto, oneDNN on)", {}, {}),
    ("batch 16", {"batch": 16}, {}),
    ("batch 64", {"batch": 64}, {}),
    ("batch 128", {"batch": 128}, {}),
    ("intra-op 2, inter-op 1", {"intra": 2, "inter": 1}, {}),
    ("intra-op 1, inter-op 1 (one core)", {"intra": 1, "inter": 1}, {}),
    ("oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)", {}, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    ("XLA (jit_compile=True)", {"jit": True}, {}),
    ("mixed_bfloat16 (AVX512-BF16; not float32)", {"policy": "mixed_bfloat16"}, {}),
    ("float32 vs mixed_bfloat16, side by side", {"mode": "bf16_pair", "repeats": 7}, {}),
]


def bf16_pair(network: str, size: int, channels: int, batch: int, steps: int, repeats: int,
              tiny: bool = False) -> dict:
    """float32 vs mixed_bfloat16 (bfloat16 compute, float32 weights) of the same network, built
    and timed side by side in one process: the policy only matters when a model is built."""
    import keras

    fns, flops = {}, {}
    from selib.models.flops import count_flops

    for policy in ("float32", "mixed_bfloat16"):
        keras.mixed_precision.set_global_policy(policy)
        keras.utils.set_random_seed(0)
        model = build(network, size, channels, tiny)
        flops[policy] = 3 * count_flops(model).flops
        fns[policy] = train_fn(model, size, channels, batch, steps)
    keras.mixed_precision.set_global_policy("float32")
    with C.Contention() as cont:
        t = C.interleaved(fns, repeats, warmup=1)
    return {"network": network, "batch": batch,
            "speedup_bf16": C.ratios(t["float32"], t["mixed_bfloat16"]),
            "gflops_per_cpu_second": {k: C.median([batch * steps * flops[k] / s / 1e9 for s in v["cpu"]])
                                      for k, v in t.items()},
            "contention": cont.result}


def child(spec: dict) -> dict:
    """One variant, in this (fresh) process: set threads/policy before TF runs anything."""
    tf = C.tf_quiet()
    if spec.get("mode") == "bf16_pair":
        return bf16_pair(spec["network"], spec["size"], spec["channels"], spec["batch"], spec["steps"],
                         spec["repeats"], spec.get("tiny", False))
    if spec.get("intra"):
        tf.config.threading.set_intra_op_parallelism_threads(spec["intra"])
    if spec.get("inter"):
        tf.config.threading.set_inter_op_parallelism_threads(spec["inter"])
    import keras

    policy = spec.get("policy") or spec.get("default_policy") or "float32"
    keras.mixed_precision.set_global_policy(policy)
    same = compute_dtype(policy) == spec.get("peak_dtype", "float32")   # the given peak applies
    return measure_network(spec["network"], spec["size"], spec["channels"], spec["batch"],
                           spec["steps"], spec["repeats"], spec["peak_n"], spec.get("tiny", False),
                           spec.get("jit", False), spec.get("peak_wall", 0.0) if same else 0.0,
                           spec.get("peak_cpu", 0.0) if same else 0.0, compute_dtype(policy))


def investigate(network: str, net: dict, steps: int, repeats: int, peak_n: int, tiny: bool,
                variants=VARIANTS, peak: dict | None = None) -> list[dict]:
    rows = []
    peak = peak or {}
    for label, spec, env in variants:
        spec = {"network": network, **net, "steps": steps, "repeats": repeats, "peak_n": peak_n,
                "tiny": tiny, "peak_wall": peak.get("peak_gflops", 0.0),
                "default_policy": peak.get("precision", "float32"), "peak_dtype": peak.get("dtype", "float32"),
                "peak_cpu": peak.get("peak_gflops_per_cpu_second", 0.0), **spec}
        e = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=e,
                           capture_output=True, text=True)
        if p.returncode != 0:
            rows.append({"variant": label, "error": (p.stderr or p.stdout)[-800:]})
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r.update(variant=label, spec=spec, env=env, seconds=time.perf_counter() - t0)
        rows.append(r)
        if "speedup_bf16" in r:
            print(f"  {label}: bfloat16 {r['speedup_bf16']['cpu']:.2f}x float32's speed per CPU-second",
                  flush=True)
        else:
            print(f"  {label}: {r['images_per_s']['median']:.1f} img/s, {100 * r['fraction_cpu']:.0f} % "
                  f"of the peak per CPU-second", flush=True)
    return rows


# ---------------------------------------------------------------------------------------------
def report(res: dict) -> str:
    pk = res["peak"]
    lines = [f"training precision {pk['precision']} ({res['params']['precision_setting']}); "
             f"{pk['dtype']} matmul peak on {res['machine']['usable_cpus']} CPUs: "
             f"{pk['peak_gflops']:.0f} GFLOP/s ({pk['peak_from']}, n = {pk['peak_size']}, median), "
             f"{pk['peak_gflops_per_cpu_second']:.0f} GFLOP per CPU-second"]
    if pk.get("float32_reference"):
        f32 = pk["float32_reference"]
        lines.append(f"float32 matmul for reference (n = {f32['peak_size']}): {f32['peak_gflops']:.0f} GFLOP/s, "
                     f"{f32['peak_gflops_per_cpu_second']:.0f} GFLOP per CPU-second "
                     f"({pk['dtype']} = {pk['peak_gflops'] / f32['peak_gflops']:.2f}x)")
    rows = [[f"{lib} matmul n={n}", s["median"], s["min"], s["max"], s["per_cpu_second"]]
            for lib, d in pk["gflops"].items() for n, s in d.items()]
    lines.append(C.table(["", "GFLOP/s median", "min", "max", "GFLOP/CPU-s"], rows))
    rows = []
    for r in res["training"]:
        rows.append([f"{r['network']} {r['size']}²x{r['channels']} b{r['batch']}",
                     r["train_gflops_per_image"], r["images_per_s"]["median"],
                     r["achieved_gflops"]["median"], r["peak_used"]["wall_gflops"],
                     f"{100 * r['fraction_wall']:.0f} %",
                     r["achieved_gflops_per_cpu_second"]["median"],
                     r["peak_used"]["gflops_per_cpu_second"],
                     f"{100 * r['fraction_cpu']:.0f} %", f"{r['cpu_utilisation']:.2f}"])
    lines.append(f"training in {pk['precision']} (FLOPs = 3 x forward, count_flops; % of the {pk['dtype']} "
                 "peak); wall: GFLOP/s; CPU: GFLOP per CPU-second of our threads:")
    lines.append(C.table(["network", "GFLOP/img", "img/s", "GFLOP/s", "peak", "of peak (wall)",
                          "GFLOP/CPU-s", "peak/CPU-s", "of peak (CPU)", "CPU s/s"], rows))
    for r in res["training"]:
        lines.append(f"{r['network']}: {C.contention_note(r['contention'])}")
    for p in res.get("op_profile", []):
        lines.append(f"op time by kind, {p['network']} ({p['wall_ms_per_step']:.0f} ms/step wall):  " +
                     ", ".join(f"{k} {100 * v:.0f} %" for k, v in p["op_share"].items()))
    inv = res.get("investigation")
    if inv:
        pct = lambda r, k: f"{100 * r[k]:.0f} %" if k in r else "error"
        rows = [[r["variant"], r.get("images_per_s", {}).get("median"), pct(r, "fraction_wall"),
                 (r.get("achieved_gflops_per_cpu_second") or {}).get("median"), pct(r, "fraction_cpu"),
                 (r.get("contention") or {}).get("others_cores")]
                for r in inv if "speedup_bf16" not in r]
        lines.append(f"investigation ({res['params']['investigate_network']}, each in a fresh process):")
        lines.append(C.table(["variant", "img/s", "of peak (wall)", "GFLOP/CPU-s", "of peak (CPU)",
                              "others' cores"], rows))
        for r in inv:
            if "speedup_bf16" in r:
                q = r["speedup_bf16"]
                lines.append(f"mixed_bfloat16 vs float32, same process, interleaved: {q['cpu']:.2f}x the "
                             f"training speed per CPU-second ({q['wall']:.2f}x wall)")
    g = res["goal"]
    lines.append(f"goal >= 75 % of peak: {'met' if g['met'] else 'MISSED'} "
                 f"(best {100 * g['best_fraction']:.0f} %, judged on {g['judged_on']} time)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS))
    ap.add_argument("--precision", default="auto",
                    help="auto (what selib train picks here: mixed_bfloat16 on a bf16 CPU) | float32 | "
                         "mixed_bfloat16 | mixed_float16")
    ap.add_argument("--matmul-sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    ap.add_argument("--peak-n", type=int, default=2048, help="matmul size paired with training samples")
    ap.add_argument("--steps", type=int, default=2, help="training steps per timed repeat")
    ap.add_argument("--no-profile-ops", action="store_true", help="skip the TF profiler breakdown")
    ap.add_argument("--investigate", action="store_true",
                    help="re-measure seed128 with other batch/threads/oneDNN/XLA/bf16 (fresh processes)")
    ap.add_argument("--investigate-network", choices=list(NETWORKS), default="seed128")
    ap.add_argument("--variants", nargs="+", type=int, help="investigate only these VARIANTS indices")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    C.add_common_args(ap, repeats=5)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(json.loads(a.child)), default=C._jsonable))
        return {}
    nets = {k: dict(NETWORKS[k]) for k in a.networks}
    if a.tiny:
        a.matmul_sizes, a.peak_n, a.steps, a.repeats = [256, 512], 256, 1, 2
        nets = {k: dict(size=32, channels=v["channels"], batch=4) for k, v in list(nets.items())[:1]}
    machine = C.machine_info()
    import keras

    from selib import hardware

    precision = hardware.choose_precision(a.precision)
    dtype = compute_dtype(precision)
    machine.update(cpu_bf16=hardware.cpu_has_bf16(), auto_precision=hardware.choose_precision("auto"))
    peak = measure_peak(a.matmul_sizes, a.repeats, dtype)
    peak["precision"] = precision
    if dtype != "float32":   # the float32 peak next to it, at the size that peaked
        peak["float32_reference"] = measure_peak([peak["peak_size"]], a.repeats, "float32")
    keras.mixed_precision.set_global_policy(precision)
    try:
        training = [measure_network(k, v["size"], v["channels"], v["batch"], a.steps, a.repeats, a.peak_n,
                                    a.tiny, peak_wall=peak["peak_gflops"],
                                    peak_cpu=peak["peak_gflops_per_cpu_second"], dtype=dtype)
                    for k, v in nets.items()]
        ops = [] if a.no_profile_ops else [profile_ops(k, v["size"], v["channels"], v["batch"],
                                                       1 if a.tiny else 3, a.tiny)
                                           for k, v in nets.items()]
    finally:
        keras.mixed_precision.set_global_policy("float32")
    inv = None
    if a.investigate:
        print("investigating (each variant in a fresh process) …", flush=True)
        net = nets.get(a.investigate_network) or NETWORKS[a.investigate_network]
        inv = investigate(a.investigate_network, net, a.steps, max(3, a.repeats - 2), a.peak_n, a.tiny,
                          [VARIANTS[i] for i in a.variants] if a.variants else
                          VARIANTS[:2] if a.tiny else VARIANTS, peak=peak)
    machine["load_avg_at_end"] = C.load_avg()
    for r in training:
        r["fraction_of_matmul_peak"] = r["achieved_gflops"]["median"] / peak["peak_gflops"]
    best_run = max(training, key=lambda r: r["fraction"])
    best = best_run["fraction"]
    res = {"machine": machine, "benchmark": "machine_limit",
           "params": {"networks": nets, "matmul_sizes": a.matmul_sizes, "peak_n": a.peak_n,
                      "steps_per_repeat": a.steps, "repeats": a.repeats,
                      "investigate_network": a.investigate_network, "precision_setting": a.precision,
                      "precision": precision,
                      "train_flops": "3 x forward FLOPs of selib.models.flops.count_flops (2 per MAC)"},
           "peak": peak, "training": training, "op_profile": ops, "investigation": inv,
           "goal": {"fraction_at_least": 0.75, "best_fraction": best, "judged_on": best_run["judged_on"],
                    "met": bool(best >= 0.75)}}
    print(report(res))
    C.write_json(a.json, res)
    return res


if __name__ == "__main__":
    main()
