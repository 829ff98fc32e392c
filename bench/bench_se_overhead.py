"""Benchmark 2: what SE costs — the same ResNet with and without SE blocks, on this machine.

    python bench/bench_se_overhead.py                  # seed network, 128² and 224², ~2 min
    python bench/bench_se_overhead.py --model se_resnet18 --channels 3 --json out.json

Network: by default **the seed network** (``selib.seed_model``'s pre-activation blocks
[2, 1, 1, 2], grayscale, r = 16) against the identical network built with ``ratio=None``
(``selib.se_resnet``); ``--model se_resnet18`` / ``se_resnet50`` use those presets instead.
For each input size it times, alternating between the two networks every repeat:

* a **training step** (``train_on_batch``, Adam, batch ``--batch``, in-memory float32 batch);
* **single-image inference latency** (``predict_on_batch`` on one image; the compiled graph,
  so Python's per-layer dispatch is not what is measured).

It prints the SE / no-SE time ratios (median of per-repeat ratios; goal <= 1.05x) next to the
ratio of multiply-adds from ``selib.models.flops.count_flops`` and the paper's own numbers:
ResNet-50 -> SE-ResNet-50 training 190 -> 209 ms per minibatch of 256 on 8 GPUs (1.10x) and
single-image CPU inference at 224² 164 -> 167 ms (1.02x).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def paper_numbers() -> dict:
    """The paper's timings (Sec. 4, the same in both versions), from ``selib.studies.paper``:
    imported here, not at the top, so TensorFlow is first imported by ``C.tf_quiet()``."""
    from selib.studies.paper import CPU_INFERENCE_MS, TRAIN_MS_PER_MINIBATCH

    def entry(ms: dict, setting: str) -> dict:
        plain, se = ms["ResNet-50"], ms["SE-ResNet-50"]
        return {"resnet50": plain, "se_resnet50": se, "ratio": se / plain, "setting": setting}

    return {"train_ms": entry(TRAIN_MS_PER_MINIBATCH, "minibatch 256, 8 GPUs (paper, Sec. 4)"),
            "cpu_inference_ms": entry(CPU_INFERENCE_MS, "one 224x224 image, CPU (paper, Sec. 4)")}


MODELS = ("seed", "se_resnet18", "se_resnet50")


def build(model: str, shape, classes: int, ratio, **net):
    from selib import models

    if model == "seed":
        return models.se_resnet(shape, classes, depth=models.SEED_DEPTH, block="basic", style="preact",
                                ratio=ratio, **net)
    preset = {"se_resnet18": models.se_resnet18, "se_resnet50": models.se_resnet50}[model]
    return preset(shape, classes, ratio=ratio, **net)


def run_size(model: str, size: int, channels: int, batch: int, classes: int, repeats: int,
             train_steps: int, infer_calls: int, **net) -> dict:
    tf = C.tf_quiet()
    import keras
    import numpy as np

    from selib.models.flops import count_flops

    shape = (size, size, channels)
    keras.utils.set_random_seed(0)
    nets = {"se": build(model, shape, classes, 16, **net), "plain": build(model, shape, classes, None, **net)}
    for m in nets.values():
        m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch, *shape), dtype=np.float32))
    y = tf.constant(np.eye(classes, dtype=np.float32)[np.arange(batch) % classes])
    x1 = x[:1]

    with C.Contention() as cont:
        tr = C.interleaved({k: (lambda m=m: [m.train_on_batch(x, y) for _ in range(train_steps)])
                            for k, m in nets.items()}, repeats, warmup=1)
        inf = C.interleaved({k: (lambda m=m: [m.predict_on_batch(x1) for _ in range(infer_calls)])
                             for k, m in nets.items()}, repeats, warmup=2)
    flops = {k: count_flops(m) for k, m in nets.items()}
    out = {"size": size, "params": {k: int(m.count_params()) for k, m in nets.items()},
           "gmacs": {k: f.macs / 1e9 for k, f in flops.items()},
           "macs_ratio": flops["se"].macs / flops["plain"].macs}
    out["params_ratio"] = out["params"]["se"] / out["params"]["plain"]
    for k in nets:
        out[f"train_step_ms_{k}"] = C.stats([1e3 * t / train_steps for t in tr[k]["wall"]])
        out[f"latency_ms_{k}"] = C.stats([1e3 * t / infer_calls for t in inf[k]["wall"]])
        out[f"train_cpu_ms_{k}"] = C.stats([1e3 * t / train_steps for t in tr[k]["cpu"]])
        out[f"latency_cpu_ms_{k}"] = C.stats([1e3 * t / infer_calls for t in inf[k]["cpu"]])
    out["train_ratios"] = C.ratios(tr["se"], tr["plain"])
    out["latency_ratios"] = C.ratios(inf["se"], inf["plain"])
    out["contention"] = cont.result
    metric = C.verdict_metric(cont.result)
    out["judged_on"] = metric
    out["train_ratio"] = out["train_ratios"][metric]
    out["latency_ratio"] = out["latency_ratios"][metric]
    return out


def report(res: dict) -> str:
    p = res["params"]
    rows = []
    for r in res["results"]:
        for what, key, label in (("train_step", "train", f"train step (batch {p['batch']})"),
                                 ("latency", "latency", "1-image inference")):
            q = r[f"{key}_ratios"]
            cpu = "train" if key == "train" else "latency"
            rows.append([f"{r['size']}² {label}", r[f"{what}_ms_plain"]["median"], r[f"{what}_ms_se"]["median"],
                         f"{q['wall']:.3f}", f"{q['wall_best']:.3f}", r[f"{cpu}_cpu_ms_plain"]["median"],
                         r[f"{cpu}_cpu_ms_se"]["median"], f"{q['cpu']:.3f}", f"{r['macs_ratio']:.4f}"])
    pp = paper_numbers()
    rows.append(["paper: ResNet-50 train, 8 GPUs", float(pp["train_ms"]["resnet50"]),
                 float(pp["train_ms"]["se_resnet50"]), f"{pp['train_ms']['ratio']:.3f}", None, None, None,
                 None, f"{3.872 / 3.858:.4f}"])
    rows.append(["paper: ResNet-50 224² CPU inference", float(pp["cpu_inference_ms"]["resnet50"]),
                 float(pp["cpu_inference_ms"]["se_resnet50"]), f"{pp['cpu_inference_ms']['ratio']:.3f}",
                 None, None, None, None, f"{3.872 / 3.858:.4f}"])
    head = (f"network: {p['model']} (r = 16) vs the same without SE, {p['channels']} channel(s); "
            f"median of {p['repeats']} interleaved repeats; ratio = SE / no SE")
    tab = C.table(["", "no SE ms", "SE ms", "wall ratio", "best", "no SE CPU ms", "SE CPU ms",
                   "CPU ratio", "MACs ratio"], rows)
    g = res["goal"]
    notes = [f"{r['size']}²: {C.contention_note(r['contention'])}" for r in res["results"]]
    goal = (f"goal <= 1.05x: {'met' if g['met'] else 'MISSED'} (worst {g['worst_ratio']:.3f}x, "
            f"judged on {'/'.join(sorted(set(r['judged_on'] for r in res['results'])))} time)")
    return "\n".join([head, tab, *notes, goal])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=MODELS, default="seed")
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 224])
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16, help="training batch size")
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--train-steps", type=int, default=1, help="training steps per timed repeat")
    ap.add_argument("--infer-calls", type=int, default=10, help="1-image predictions per timed repeat")
    C.add_common_args(ap, repeats=9)
    a = ap.parse_args(argv)
    net = {}
    if a.tiny:  # a narrow network at 32²: the code path, in seconds
        a.sizes, a.batch, a.repeats, a.train_steps, a.infer_calls = [32], 4, 2, 1, 2
        net = dict(filters=(16, 32, 64, 128), initial_filters=16)
    machine = C.machine_info()
    results = [run_size(a.model, s, a.channels, a.batch, a.classes, a.repeats, a.train_steps,
                        a.infer_calls, **net) for s in a.sizes]
    machine["load_avg_at_end"] = C.load_avg()
    worst = max(max(r["train_ratio"], r["latency_ratio"]) for r in results)
    res = {"machine": machine, "benchmark": "se_overhead",
           "params": {"model": a.model, "sizes": a.sizes, "channels": a.channels, "batch": a.batch,
                      "classes": a.classes, "repeats": a.repeats, "train_steps_per_repeat": a.train_steps,
                      "infer_calls_per_repeat": a.infer_calls, **{k: list(v) if isinstance(v, tuple)
                                                                   else v for k, v in net.items()}},
           "results": results, "paper": paper_numbers(),
           "goal": {"ratio_at_most": 1.05, "worst_ratio": worst, "met": bool(worst <= 1.05)}}
    print(report(res))
    C.write_json(a.json, res)
    return res


if __name__ == "__main__":
    main()
