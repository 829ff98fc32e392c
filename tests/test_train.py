"""Training runs: profiles, the optimisation recipe, reproducibility, the in-model preprocessing,
a complete run folder, resume/finished/refuse decisions, ensure_run.

Crash injection, damaged backups, NaN, the lock and bad CLI values: tests/test_run_folder.py.
Other backends and several devices: tests/test_backends.py.
"""
from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

from selib.errors import ConfigError, RunFolderError
from selib.training.profiles import PROFILES, profile_name, resolve_profile
from toyfolder import CLASSES, tiny_config


def test_profiles(monkeypatch):
    monkeypatch.setenv("SELIB_PROFILE", "report")
    seed = resolve_profile()
    assert (seed.data.image_size, seed.data.color, seed.optim.optimizer, seed.optim.learning_rate,
            seed.optim.epochs, seed.data.val_size) == (473, "grayscale", "adam", 1e-3, 20, 0.25)
    assert (seed.optim.beta_1, seed.optim.beta_2, seed.optim.epsilon) == (0.9, 0.999, 1e-8)
    assert resolve_profile("ci").data.image_size <= 64 and resolve_profile("ci").optim.epochs <= 3
    monkeypatch.setenv("SELIB_PROFILE", "auto")
    from selib.training.profiles import gpu_available
    assert profile_name() == ("gpu" if gpu_available() else "cpu") == resolve_profile().name
    with pytest.raises(ConfigError, match="unknown profile 'turbo'; choose one of: auto, report"):
        resolve_profile("turbo")
    with pytest.raises(ConfigError, match="unknown setting"):
        seed.replace(epoch=3)


def test_schedule_and_optimizers():
    from selib.training.optimizers import learning_rate, make_optimizer

    o = tiny_config(schedule="cosine", epochs=10, warmup_epochs=1, learning_rate=0.1).optim
    sched = learning_rate(o, 10)
    lrs = [float(sched(s)) for s in (0, 5, 10, 55, 99)]
    assert lrs[0] == pytest.approx(0.0) and lrs[1] == pytest.approx(0.05, rel=1e-3)   # linear warm-up
    assert lrs[2] == pytest.approx(0.1, rel=1e-3)                                     # peak
    assert lrs[3] < lrs[2] and lrs[4] < 0.01                                          # cosine decay
    one = learning_rate(tiny_config(schedule="onecycle", epochs=4, learning_rate=0.1).optim, 10)
    assert float(one(0)) == pytest.approx(0.1 / 25) and float(one(10)) == pytest.approx(0.1, rel=1e-3)
    assert learning_rate(tiny_config().optim, 10) == tiny_config().optim.learning_rate   # the seed's constant
    sgd = make_optimizer(tiny_config(optimizer="sgd").optim, 10)
    assert type(sgd).__name__ == "SGD" and sgd.nesterov and float(sgd.momentum) == 0.9
    adamw = make_optimizer(tiny_config(optimizer="adamw", weight_decay=0.05).optim, 10)
    assert type(adamw).__name__ == "AdamW" and adamw.weight_decay == pytest.approx(0.05)
    with pytest.raises(ConfigError, match="unknown optimizer 'lion'; choose one of: adam, adamw, sgd"):
        tiny_config(optimizer="lion")


def test_same_seed_same_split_and_weights(toy_data):
    from selib.training.trainer import build_model, prepare_data

    cfg = tiny_config()
    a, b = prepare_data(cfg, toy_data), prepare_data(cfg, toy_data)
    np.testing.assert_array_equal(a.split.test_idx, b.split.test_idx)
    assert a.info["fingerprint"] == b.info["fingerprint"] and a.info["loaded"] == 40
    # the split has its own seed; the training seed changes weights and batches, not the split
    np.testing.assert_array_equal(prepare_data(cfg.replace(seed=7), toy_data).split.test_idx, a.split.test_idx)
    assert not np.array_equal(prepare_data(cfg.replace(split_seed=7), toy_data).split.test_idx, a.split.test_idx)
    keras.utils.set_random_seed(1)
    w1 = build_model(cfg, 4).get_weights()
    keras.utils.set_random_seed(1)
    w2 = build_model(cfg, 4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(w1, w2))


def test_model_carries_its_preprocessing():
    from selib.training.trainer import build_model

    cfg = tiny_config(color="rgb", augment="strong")
    model = build_model(cfg, 4)
    assert model.input.dtype == "uint8" and tuple(model.input.shape) == (None, 16, 16, 3)
    assert model.layers[1].name == "rescale" and isinstance(model.layers[1], keras.layers.Rescaling)
    x = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    # augmentation inside the model is active only in training: inference is deterministic ...
    np.testing.assert_allclose(np.asarray(model(x, training=False)), np.asarray(model(x, training=False)))
    # ... and equals the same network without augmentation (same seed, same weights)
    plain = build_model(cfg.replace(augment=None), 4)
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(plain(x, training=False)), np.asarray(model(x, training=False)),
                               atol=1e-5)
    # the unscaled image would saturate everything: the model must divide by 255 itself
    scale = model.get_layer("rescale").get_config()["scale"]
    assert scale == pytest.approx(1 / 255)


def test_train_writes_a_complete_run(trained_run, toy_data):
    from selib.training.run_folder import RunFolder
    from selib.training.run_io import load_run
    from selib.training.trainer import prepare_data

    names = {p.name for p in trained_run.iterdir()}
    assert {"manifest.json", "config.json", "preprocessing.json", "model.keras", "history.csv",
            "metrics.json"} <= names
    assert "backup" not in names and "classes.json" not in names            # the backup goes when finished
    assert not [n for n in names if n.startswith(".tmp-")]                  # every write was renamed into place
    h = pd.read_csv(trained_run / "history.csv")
    assert list(h["epoch"]) == [0, 1] and {"lr", "epoch_seconds", "val_accuracy", "loss"} <= set(h)
    assert np.isfinite(h[["loss", "val_loss"]].to_numpy()).all()
    m = json.loads((trained_run / "metrics.json").read_text())
    assert m["n_train"] + m["n_val"] + m["n_test"] == 40 and m["n_test"] == 8
    assert m["class_names"] == list(CLASSES) and m["epochs_run"] == 2 and m["profile"] == "ci"
    assert 0.0 <= m["test_accuracy"] <= 1.0 and np.isfinite(m["test_loss"])
    assert m["best_epoch"] == int(h["val_accuracy"].idxmax()) + 1
    spec = json.loads((trained_run / "preprocessing.json").read_text())
    assert spec == {"image_size": [16, 16], "color": "grayscale", "fit": "squash", "channels": 1,
                    "input_dtype": "uint8", "class_names": list(CLASSES), "tta": False}
    manifest = json.loads((trained_run / "manifest.json").read_text())
    assert manifest["state"] == "finished" and manifest["class_names"] == list(CLASSES)
    assert manifest["config"] == tiny_config().to_dict()
    fp = prepare_data(tiny_config(), toy_data).info["fingerprint"]
    assert manifest["data"]["fingerprint"] == fp
    assert RunFolder(trained_run).is_finished(tiny_config().to_dict(), fp)
    assert not RunFolder(trained_run).is_finished(tiny_config(epochs=3).to_dict(), fp)
    model, cfg, metrics = load_run(trained_run)
    assert cfg == tiny_config() and metrics == m
    assert model.input.dtype == "uint8" and int(model.output_shape[-1]) == 4


def test_finished_run_is_returned_and_another_is_refused(run_copy, toy_data):
    from selib.training.trainer import train

    before = (run_copy / "model.keras").stat().st_mtime_ns
    res = train(tiny_config(), toy_data, run_copy, verbose=0)      # finished: nothing is trained
    assert (run_copy / "model.keras").stat().st_mtime_ns == before and res.metrics["epochs_run"] == 2
    with pytest.raises(RunFolderError, match=r"holds a finished run of another config \(epochs 2 -> 3\); "
                                             r"pass --overwrite"):
        train(tiny_config(epochs=3), toy_data, run_copy, verbose=0)
    assert json.loads((run_copy / "manifest.json").read_text())["config"]["optim"]["epochs"] == 2


def test_ensure_run_reuses_then_replaces(run_copy, toy_data):
    from selib.training.trainer import ensure_run

    before = (run_copy / "model.keras").stat().st_mtime_ns
    res = ensure_run(tiny_config(), toy_data, run_copy, verbose=0)
    assert (run_copy / "model.keras").stat().st_mtime_ns == before and res.config == tiny_config()
    # another config in the folder is replaced (a notebook's cell always gets the run it names)
    res = ensure_run(tiny_config(epochs=1), toy_data, run_copy, verbose=0)
    assert res.metrics["epochs_run"] == 1 and len(res.history) == 1
    assert json.loads((run_copy / "manifest.json").read_text())["config"]["optim"]["epochs"] == 1


def test_folder_that_cannot_be_verified_is_refused(tmp_path, toy_data):
    from selib.training.trainer import train

    out = tmp_path / "run"
    out.mkdir()
    (out / "model.keras").write_bytes(b"someone else's model")
    with pytest.raises(RunFolderError, match="holds files of a run selib cannot verify \\(model.keras\\)"):
        train(tiny_config(), toy_data, out, verbose=0)
    assert (out / "model.keras").read_bytes() == b"someone else's model"
