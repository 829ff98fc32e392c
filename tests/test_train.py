"""Training runs: profiles, reproducibility, resume after SIGKILL, NaN handling, multi-device."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selib.training.config import TrainConfig
from selib.training.profiles import PROFILES, resolve_profile
from toyfolder import make_toy_folder

TINY = PROFILES["ci"].replace(max_per_class=None, epochs=3, image_size=32, batch_size=16)
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return make_toy_folder(tmp_path_factory.mktemp("toy") / "seats", per_class=24, size=40)


def test_profiles(monkeypatch):
    monkeypatch.setenv("SELIB_PROFILE", "seed")
    seed = resolve_profile()
    assert (seed.image_size, seed.color, seed.optimizer, seed.learning_rate, seed.epochs, seed.val_size) == \
        (473, "grayscale", "adam", 1e-3, 20, 0.25)
    assert (seed.beta_1, seed.beta_2, seed.epsilon) == (0.9, 0.999, 1e-8)
    assert resolve_profile("ci").image_size <= 64
    monkeypatch.setenv("SELIB_PROFILE", "auto")
    assert resolve_profile().name == "cpu"          # no GPU on this machine
    with pytest.raises(ValueError, match="unknown profile"):
        resolve_profile("turbo")
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        seed.replace(epoch=3)


def test_config_json_roundtrip(tmp_path):
    cfg = PROFILES["cpu"].replace(depth=(1, 2), extra={"k": 1})
    cfg.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == cfg


def test_schedule_and_optimizers():
    from selib.training.trainer import learning_rate, make_optimizer

    sched = learning_rate(TINY.replace(schedule="cosine", epochs=10, warmup_epochs=1, learning_rate=0.1), 10)
    lrs = [float(sched(s)) for s in (0, 5, 10, 55, 99)]
    assert lrs[0] == pytest.approx(0.0) and lrs[2] == pytest.approx(0.1, rel=1e-3)  # warm-up to peak
    assert lrs[3] < lrs[2] and lrs[4] < 0.01                                        # cosine decay
    assert learning_rate(TINY, 10) == TINY.learning_rate
    assert type(make_optimizer(TINY.replace(optimizer="sgd"), 10)).__name__ == "SGD"
    assert type(make_optimizer(TINY.replace(optimizer="adamw"), 10)).__name__ == "AdamW"
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer(TINY.replace(optimizer="lion"), 10)


def test_same_seed_same_split_and_weights(toy):
    import keras

    from selib.training.trainer import build_model, prepare_data

    a, b = prepare_data(TINY, toy), prepare_data(TINY, toy)
    np.testing.assert_array_equal(a.split.test_idx, b.split.test_idx)
    c = prepare_data(TINY.replace(seed=7), toy)
    assert not np.array_equal(a.split.test_idx, c.split.test_idx)
    keras.utils.set_random_seed(1)
    w1 = build_model(TINY, 4).get_weights()
    keras.utils.set_random_seed(1)
    w2 = build_model(TINY, 4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(w1, w2))


def test_train_writes_a_complete_run(toy, tmp_path):
    from selib.training.trainer import load_run, train

    cfg = TINY.replace(epochs=4, learning_rate=3e-3, batch_size=8)
    res = train(cfg, toy, tmp_path / "run", verbose=0)
    for f in ("config.json", "model.keras", "history.csv", "metrics.json", "classes.json"):
        assert (tmp_path / "run" / f).exists(), f
    assert not (tmp_path / "run" / "backup").exists()     # removed after a finished run
    h = pd.read_csv(tmp_path / "run" / "history.csv")
    assert list(h["epoch"]) == [0, 1, 2, 3] and {"lr", "epoch_seconds", "val_accuracy"} <= set(h)
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["n_train"] + m["n_val"] + m["n_test"] == 96
    assert m["class_names"] == ["bench", "chair", "office_chair", "sofa"]
    # the shapes are easy: images and labels must line up, so training accuracy climbs well
    # above chance (25 %) and the loss falls (test accuracy after 4 tiny epochs is dominated by
    # BatchNorm's still-warming moving averages, so it is not asserted here)
    assert h["accuracy"].iloc[-1] > 0.6 and h["loss"].iloc[-1] < h["loss"].iloc[0], h
    assert 0.0 <= m["test_accuracy"] <= 1.0
    model, loaded_cfg, metrics = load_run(tmp_path / "run")
    assert loaded_cfg == cfg and metrics == m
    assert model.count_params() == res.model.count_params()


def test_nan_loss_stops_with_clear_message_and_keeps_checkpoint(toy, tmp_path):
    import keras

    from selib.training.trainer import TrainingDiverged, train

    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:   # two good epochs, then the weights blow up
                self.model.set_weights([np.full(w.shape, np.nan, w.dtype) for w in self.model.get_weights()])

    with pytest.raises(TrainingDiverged, match="NaN") as err:
        train(TINY.replace(epochs=5), toy, tmp_path / "nan", verbose=0, extra_callbacks=[Poison()])
    assert "last good checkpoint" in str(err.value)
    kept = keras.saving.load_model(tmp_path / "nan" / "model.keras", safe_mode=True)
    assert all(np.all(np.isfinite(w)) for w in kept.get_weights())


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "selib", *args], capture_output=True, text=True,
                          env=ENV, timeout=300, **kw)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume(tmp_path):
    data = make_toy_folder(tmp_path / "seats", per_class=60, size=40)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "selib", "train", "--data", str(data), "--profile", "ci", "--out", str(run),
           "--verbose", "0", "--set", "epochs=6", "--set", "batch_size=4", "--set", "max_per_class=null"]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    hist = run / "history.csv"
    deadline = time.time() + 240
    while time.time() < deadline:
        if hist.exists() and len(hist.read_text().strip().splitlines()) >= 3:   # header + 2 epochs
            break
        if proc.poll() is not None:
            pytest.fail(f"training ended before it could be killed: {proc.stderr.read().decode()[-500:]}")
        time.sleep(0.05)
    time.sleep(0.4)                              # well inside the third epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (run / "backup").exists(), "BackupAndRestore left no state to resume from"
    done_before = len(pd.read_csv(hist))
    assert 2 <= done_before < 6
    res = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-800:]
    h = pd.read_csv(hist)
    assert list(h["epoch"]) == list(range(6))      # exactly the configured epochs, none repeated
    m = json.loads((run / "metrics.json").read_text())
    assert m["epochs_run"] == 6
    import keras
    keras.saving.load_model(run / "model.keras", safe_mode=True)


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(toy, tmp_path):
    code = f"""
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from selib.training.profiles import PROFILES
from selib.training.trainer import train
cfg = PROFILES["ci"].replace(epochs=1, max_per_class=None, batch_size=8, extra={{"devices": ["/cpu:0", "/cpu:1"]}})
res = train(cfg, {str(toy)!r}, {str(tmp_path / 'mirror')!r}, verbose=0)
print(json.dumps(res.metrics["replicas"]))
"""
    out = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout.strip().splitlines()[-1] == "2"
