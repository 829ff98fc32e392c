"""Benchmark 1: selib's seed network vs a plain-Keras transcription of the seed report's code.

    python bench/bench_vs_keras.py                     # 128x128x1, batch 32, 7 repeats (~1-2 min)
    python bench/bench_vs_keras.py --size 224 --json out.json

The plain-Keras side is written here the way the seed report's code builds the network (the
popular Keras SE-ResNet it came from): SE as GlobalAveragePooling2D -> Reshape((1, 1, C)) ->
Dense(C/16, relu) -> Dense(C, sigmoid) -> multiply, pre-activation blocks with a 1x1 projection
shortcut, and the report's dedented block loop, which turns N = [2, 2, 2, 2] into blocks
[2, 1, 1, 2]. It is checked to have exactly the parameters of ``selib.seed_model()`` and, after
copying selib's weights into it, the same outputs — so the two are the same function, built two
ways, and only the speed differs.

Both are compiled identically (Adam 1e-3, categorical cross-entropy, Keras' default
``jit_compile="auto"``, which is off on a CPU) and timed on the same in-memory float32 batch:
training with ``train_on_batch`` and inference with ``predict_on_batch`` (compiled graphs, no
input pipeline), alternating between the two models every repeat. Reported: images/s medians
and the median of the per-repeat ratios selib / Keras (goal: >= 1.0x).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def keras_seed_transcription(input_shape=(128, 128, 1), num_classes: int = 4, ratio: int = 16,
                             weight_decay: float = 1e-4, N=(2, 2, 2, 2),
                             filters=(64, 128, 256, 512), initial_conv_filters: int = 64):
    """The seed report's ``create_se_resnet`` (non-bottleneck, width 1), ported to Keras 3 as
    literally as possible: ``init._keras_shape[-1]`` becomes ``init.shape[-1]``; nothing else."""
    import keras
    from keras.layers import (Activation, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D,
                              Input, MaxPooling2D, Reshape, add, multiply)
    from keras.regularizers import l2

    def squeeze_excite_block(x_in):
        filters_ = x_in.shape[-1]
        se = GlobalAveragePooling2D()(x_in)
        se = Reshape((1, 1, filters_))(se)
        se = Dense(filters_ // ratio, activation="relu", kernel_initializer="he_normal", use_bias=False)(se)
        se = Dense(filters_, activation="sigmoid", kernel_initializer="he_normal", use_bias=False)(se)
        return multiply([x_in, se])

    def resnet_block(x_in, f, strides=(1, 1)):
        init = x_in
        x = BatchNormalization(axis=-1)(x_in)
        x = Activation("relu")(x)
        if strides != (1, 1) or init.shape[-1] != f:
            init = Conv2D(f, (1, 1), padding="same", kernel_initializer="he_normal", use_bias=False,
                          strides=strides)(x)
        x = Conv2D(f, (3, 3), padding="same", kernel_initializer="he_normal", use_bias=False,
                   strides=strides)(x)
        x = BatchNormalization(axis=-1)(x)
        x = Activation("relu")(x)
        x = Conv2D(f, (3, 3), padding="same", kernel_initializer="he_normal", use_bias=False)(x)
        x = squeeze_excite_block(x)
        return add([x, init])

    img_input = Input(shape=tuple(input_shape))
    x = Conv2D(initial_conv_filters, (7, 7), padding="same", use_bias=False, strides=(2, 2),
               kernel_initializer="he_normal", kernel_regularizer=l2(weight_decay))(img_input)
    x = MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
    for _ in range(N[0]):
        x = resnet_block(x, filters[0])
    for k in range(1, len(N)):
        x = resnet_block(x, filters[k], strides=(2, 2))
    for _ in range(N[k] - 1):          # dedented in the report: runs once, with the last k
        x = resnet_block(x, filters[k])
    x = BatchNormalization(axis=-1)(x)
    x = Activation("relu")(x)
    x = GlobalAveragePooling2D()(x)
    x = Dense(num_classes, use_bias=False, kernel_regularizer=l2(weight_decay), activation="softmax")(x)
    return keras.Model(img_input, x, name="keras_seed_transcription")


def match_by_shape(source: list, target: list) -> list:
    """``source``'s arrays in ``target``'s order: the i-th array of a shape goes to the i-th slot
    of that shape. The two builds list their layers in different topological orders (selib's
    attention is one layer, the transcription's two Dense layers), but arrays of one shape
    appear in the same order along the network in both; the output check below proves it."""
    from collections import defaultdict, deque

    pools: dict = defaultdict(deque)
    for w in source:
        pools[w.shape].append(w)
    if sorted(map(str, (w.shape for w in source))) != sorted(map(str, (w.shape for w in target))):
        raise AssertionError("the two builds hold different weight shapes")
    return [pools[w.shape].popleft() for w in target]


def run(size: int = 128, channels: int = 1, batch: int = 32, classes: int = 4, repeats: int = 15,
        train_steps: int = 1, infer_calls: int = 2, filters=(64, 128, 256, 512),
        initial_filters: int = 64) -> dict:
    tf = C.tf_quiet()
    import keras
    import numpy as np

    import selib
    from selib.models.flops import count_flops

    shape = (size, size, channels)
    keras.utils.set_random_seed(0)
    models = {"selib": selib.seed_model(shape, classes, filters=filters, initial_filters=initial_filters),
              "keras": keras_seed_transcription(shape, classes, filters=filters,
                                                initial_conv_filters=initial_filters)}
    params = {k: int(m.count_params()) for k, m in models.items()}
    if params["selib"] != params["keras"]:
        raise AssertionError(f"parameter counts differ: {params}")

    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch, *shape), dtype=np.float32))
    y = tf.constant(np.eye(classes, dtype=np.float32)[np.arange(batch) % classes])
    # same function: copy selib's weights into the transcription (matched by shape, in order)
    models["keras"].set_weights(match_by_shape(models["selib"].get_weights(), models["keras"].get_weights()))
    diff = float(np.max(np.abs(models["selib"].predict_on_batch(x) - models["keras"].predict_on_batch(x))))
    if diff > 1e-4:
        raise AssertionError(f"the two builds disagree after copying weights: max |diff| {diff}")

    for m in models.values():
        m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")

    def trainer(m):
        return lambda: [m.train_on_batch(x, y) for _ in range(train_steps)]

    def predictor(m):
        return lambda: [m.predict_on_batch(x) for _ in range(infer_calls)]

    with C.Contention() as cont:
        tr = C.interleaved({k: trainer(m) for k, m in models.items()}, repeats, warmup=1)
        inf = C.interleaved({k: predictor(m) for k, m in models.items()}, repeats, warmup=1)
    n_train, n_inf = batch * train_steps, batch * infer_calls
    out = {"train": {}, "inference": {}}
    for phase, t, n in (("train", tr, n_train), ("inference", inf, n_inf)):
        for k in models:
            out[phase][k] = {"images_per_s": C.stats([n / s for s in t[k]["wall"]]),
                             "cpu_s_per_image": C.median(t[k]["cpu"]) / n}
        # keras time / selib time == selib throughput / keras throughput
        out[phase]["selib_over_keras"] = C.ratios(t["keras"], t["selib"])
    metric = C.verdict_metric(cont.result)
    ratio = out["train"]["selib_over_keras"][metric]
    return {
        "benchmark": "vs_keras",
        "params": {"size": size, "channels": channels, "batch": batch, "classes": classes,
                   "repeats": repeats, "train_steps_per_repeat": train_steps,
                   "infer_calls_per_repeat": infer_calls, "filters": list(filters),
                   "initial_filters": initial_filters},
        "check": {"parameters": params, "max_abs_output_diff_same_weights": diff,
                  "forward_gmacs_per_image": count_flops(models["selib"]).macs / 1e9},
        "contention": cont.result,
        "results": out,
        "goal": {"train_ratio_at_least": 1.0, "judged_on": metric, "ratio": ratio,
                 "met": bool(ratio >= 1.0)},
    }


def report(res: dict) -> str:
    p, r = res["params"], res["results"]
    rows = []
    for phase in ("train", "inference"):
        s, k = r[phase]["selib"]["images_per_s"], r[phase]["keras"]["images_per_s"]
        q = r[phase]["selib_over_keras"]
        rows.append([phase, s["median"], k["median"], f"{q['wall']:.3f}", f"{q['wall_best']:.3f}",
                     f"{q['cpu']:.3f}"])
    narrow = "" if p["filters"] == [64, 128, 256, 512] else f" (filters {p['filters']})"
    head = (f"seed network{narrow}, {p['size']}x{p['size']}x{p['channels']}, batch {p['batch']}: "
            f"{res['check']['parameters']['selib']:,} parameters in both builds, same outputs "
            f"(max |diff| {res['check']['max_abs_output_diff_same_weights']:.1e}); "
            f"median of {p['repeats']} interleaved repeats")
    tab = C.table(["", "selib img/s", "plain Keras img/s", "selib/Keras wall", "best", "CPU time"], rows)
    g = res["goal"]
    goal = (f"goal selib >= 1.0x in training: {'met' if g['met'] else 'MISSED'} "
            f"({g['ratio']:.3f}x by {g['judged_on']} time)")
    return "\n".join([head, tab, C.contention_note(res["contention"]), goal])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--train-steps", type=int, default=1, help="training steps per timed repeat")
    ap.add_argument("--infer-calls", type=int, default=2, help="predict_on_batch calls per timed repeat")
    C.add_common_args(ap, repeats=15)
    a = ap.parse_args(argv)
    net = {}
    if a.tiny:  # a narrow seed network (16..128 filters) at 32x32: the code path, in seconds
        a.size, a.batch, a.repeats, a.train_steps, a.infer_calls = 32, 4, 2, 1, 1
        net = dict(filters=(16, 32, 64, 128), initial_filters=16)
    machine = C.machine_info()
    res = run(a.size, a.channels, a.batch, repeats=a.repeats, train_steps=a.train_steps,
              infer_calls=a.infer_calls, **net)
    machine["load_avg_at_end"] = C.load_avg()
    res = {"machine": machine, **res}
    print(report(res))
    C.write_json(a.json, res)
    return res


if __name__ == "__main__":
    main()
