"""Training on any Keras 3 backend and on several devices / workers (issue 12, parts 2 and 5).

Each test runs selib in fresh subprocesses: a backend and a device layout are fixed when the
backend first starts, and this test process already runs TensorFlow on one device.
"""
from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys

import pandas as pd
import pytest

from toyfolder import CLASSES, ENV, REPO, TINY_SET, selib_cli

JAX_ENV = {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
EMA_SET = ["--set", "use_ema=true", "--set", "ema_momentum=0.9"]

# resume, evaluate and predict through the command line's own main(), in one JAX process
JAX_FINISH = r"""
import contextlib, io, json, sys
from selib.cli import main
data, out, image = sys.argv[1:4]
train = main(["train", "--data", data, "--profile", "ci", "--out", out, "--verbose", "0", *sys.argv[4:]])
ev = main(["evaluate", "--model", out, "--data", data, "--out", out + "/eval", "--no-figures"])
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    pred = main(["predict", "--model", out, image, "--json", "--top-k", "2"])
import keras
print(json.dumps({"status": [train, ev, pred], "backend": keras.backend.backend(),
                  "predict": json.loads(buf.getvalue())}))
"""


@pytest.mark.slow
@pytest.mark.jax
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="the jax extra is not installed")
def test_jax_end_to_end_with_a_crash(toy_data, tmp_path):
    """`KERAS_BACKEND=jax selib train`, killed (os._exit) before committing its second epoch, then
    the same command resumes it; evaluate and predict run on JAX; TensorFlow reads the result."""
    from selib.predictor import Predictor

    out = tmp_path / "jax"
    # with the weight average on: its swap and the resume from a swapped backup run on JAX too
    killed = selib_cli("train", "--data", toy_data, "--profile", "ci", "--out", out, "--verbose", "0", *TINY_SET,
                       *EMA_SET, env={**JAX_ENV, "SELIB_CRASH_AT": "commit#2"})
    assert killed.returncode == 137, killed.stderr[-2000:]
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == [0]
    image = sorted((toy_data / "sofa").iterdir())[0]
    res = subprocess.run([sys.executable, "-c", JAX_FINISH, str(toy_data), str(out), str(image), *TINY_SET, *EMA_SET],
                         capture_output=True, text=True, env={**ENV, **JAX_ENV}, cwd=REPO, timeout=400)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["status"] == [0, 0, 0] and got["backend"] == "jax"
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == [0, 1]      # resumed: exactly 2 epochs
    m = json.loads((out / "metrics.json").read_text())
    assert m["epochs_run"] == 2 and m["hardware"]["backend"] == "jax" and not (out / "backup").exists()
    optim = json.loads((out / "config.json").read_text())["optim"]
    assert optim["use_ema"] and optim["ema_mode"] == "evaluate"
    ev = json.loads((out / "eval" / "metrics.json").read_text())
    assert ev["n"] == 40 and 0 <= ev["accuracy"] <= 1
    top = got["predict"][0]["top"]
    assert len(top) == 2 and top[0]["class"] in CLASSES
    # the JAX-trained file is plain Keras: TensorFlow loads it and agrees
    tf_top = Predictor.load(out).predict_files([image], top_k=2)[0].top
    assert tf_top[0][0] == top[0]["class"]
    # the backends' convolutions differ in the last digits (measured: 8e-4)
    assert [p for _, p in tf_top] == pytest.approx([t["probability"] for t in top], abs=5e-3)


MIRRORED = r"""
import json, sys
from selib.hardware import logical_cpus
devices = logical_cpus(2)              # before TensorFlow initialises its devices
from selib.training.trainer import train
sys.path.insert(0, "tests")
from toyfolder import tiny_config
res = train(tiny_config(devices=devices), sys.argv[1], sys.argv[2], verbose=0)
from selib.errors import ConfigError
try:    # 24 training images cannot fill one batch of 64 on every device: one clear line
    train(tiny_config(devices=devices, batch_size=64), sys.argv[1], sys.argv[2] + "-big", verbose=0)
    big = "trained"
except ConfigError as exc:
    big = str(exc)
print(json.dumps({**{k: res.metrics[k] for k in ("replicas", "distribution", "epochs_run")}, "big": big}))
"""


@pytest.mark.slow
@pytest.mark.full   # notebook 04 trains selib under the same strategy on two logical CPUs, and asserts it
def test_mirrored_strategy_on_two_logical_cpus(toy_data, tmp_path):
    out = tmp_path / "mirror"
    res = subprocess.run([sys.executable, "-c", MIRRORED, str(toy_data), str(out)], capture_output=True,
                         text=True, env=ENV, cwd=REPO, timeout=400)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got.pop("big").startswith("batch_size 64 is larger than the 24 training images")
    assert got == {"replicas": 2, "distribution": "mirrored", "epochs_run": 2}
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == [0, 1]


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_multi_worker_mirrored(toy_data, tmp_path):
    """`selib train --workers a,b --task-index i` twice on localhost: both train the same 2
    epochs in lock-step; the chief (worker 0) writes the run, worker 1 writes nothing."""
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    outs = [tmp_path / "chief", tmp_path / "worker1"]
    procs = [subprocess.Popen(
        [sys.executable, "-m", "selib", "train", "--data", str(toy_data), "--profile", "ci", "--out", str(out),
         "--verbose", "2", *TINY_SET, "--workers", workers, "--task-index", str(i)],
        env=ENV, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i, out in enumerate(outs)]
    try:
        results = [p.communicate(timeout=500) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (stdout, stderr) in zip(procs, results):
        assert p.returncode == 0, (stdout[-1000:], stderr[-3000:])
        assert "Epoch 2/2" in stdout and "Epoch 3/" not in stdout, stdout[-2000:]
    chief = outs[0]
    m = json.loads((chief / "metrics.json").read_text())
    assert (m["distribution"], m["replicas"], m["epochs_run"]) == ("multi_worker", 2, 2)
    assert list(pd.read_csv(chief / "history.csv")["epoch"]) == [0, 1]
    assert json.loads((chief / "manifest.json").read_text())["state"] == "finished"
    assert not outs[1].exists() or not any(outs[1].iterdir()), list(outs[1].rglob("*"))
