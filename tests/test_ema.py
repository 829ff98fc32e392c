"""The weight average (``selib.training.ema``): the warm-up formula, the training weights left
raw, the average shown to validation and every save, and a resumed run that trains on the raw
weights again.  Each test fails for Keras' own EMA (no warm-up, overwrite every epoch)."""
from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from selib.training.config import OptimConfig
from selib.training.ema import warm_momentum
from selib.training.optimizers import make_optimizer
from selib.training.run_folder import SimulatedCrash
from toyfolder import tiny_config


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


@pytest.mark.parametrize("step,expected", [(0, 0.0), (1, 2 / 11), (10, 11 / 20), (90, 0.91), (5000, 0.99)])
def test_warm_momentum_is_zero_then_rises_to_the_cap(step, expected):
    assert float(_np(warm_momentum(step, 0.99))) == pytest.approx(expected, rel=1e-6)


def _run_steps(optim: OptimConfig, grads: list[float], steps_per_epoch: int = 3):
    """Apply ``grads`` to one scalar weight; the weight and the average after every step."""
    var = keras.Variable(np.ones((1,), "float32"))
    opt = make_optimizer(optim, steps_per_epoch)
    raw, avg = [], []
    for g in grads:
        opt.apply([keras.ops.convert_to_tensor(np.array([g], "float32"))], [var])
        raw.append(float(_np(var)[0]))
        avg.append(float(_np(opt._model_variables_moving_average[0])[0]) if optim.use_ema else None)
    return raw, avg


GRADS = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 1.0]
SGD = dict(optimizer="sgd", learning_rate=0.1, momentum=0.5, ema_momentum=0.9)


def test_evaluate_mode_averages_with_the_warm_up_and_never_touches_the_training_weight():
    plain, _ = _run_steps(OptimConfig(**SGD), GRADS)
    raw, avg = _run_steps(OptimConfig(**SGD, use_ema=True, ema_mode="evaluate"), GRADS)
    assert raw == pytest.approx(plain, abs=1e-6)     # 7 steps over 3 "epochs": never overwritten
    expected, a = [], 0.0
    for t, w in enumerate(raw):
        m = 0.0 if t == 0 else min(0.9, (1 + t) / (10 + t))
        a = m * a + (1 - m) * w
        expected.append(a)
    assert avg == pytest.approx(expected, abs=1e-6)


def test_overwrite_mode_is_keras_own_copied_into_the_training_weight_each_epoch():
    plain, _ = _run_steps(OptimConfig(**SGD), GRADS)
    raw, avg = _run_steps(OptimConfig(**SGD, use_ema=True, ema_mode="overwrite"), GRADS)
    assert raw[:2] == pytest.approx(plain[:2], abs=1e-6)
    assert raw[2] == pytest.approx(avg[2], abs=1e-6) and raw[2] != pytest.approx(plain[2], abs=1e-3)


class Probe(keras.callbacks.Callback):
    """Raw weights and the optimiser's average at each batch end (training state), the model's
    weights at epoch ends (what validation and the saves saw) and at the next epoch's first step."""

    def __init__(self):
        super().__init__()
        self.raw = self.avg = None
        self.epoch_end, self.epoch_begin, self.first_step = [], [], []

    def _weights(self):
        return [_np(v) for v in self.model.trainable_variables]

    def _slots(self):
        return [_np(v) for v in self.model.optimizer._model_variables_moving_average]

    def on_train_batch_begin(self, batch, logs=None):
        if not self.first_step:
            self.first_step = self._weights()

    def on_train_batch_end(self, batch, logs=None):
        self.raw, self.avg = self._weights(), self._slots()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_begin.append(self._weights())

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_end.append({"model": self._weights(), "raw": self.raw, "avg": self.avg})


def _close(a, b):
    return all(np.allclose(x, y, atol=1e-6) for x, y in zip(a, b))


EMA_CFG = tiny_config(use_ema=True, ema_momentum=0.9, epochs=3)


def _train(data, out, probe, **kw):
    from selib.training.trainer import train

    return train(EMA_CFG, data, out, verbose=0, callbacks=[probe], evaluate_test=False, **kw)


def test_fit_validates_and_saves_the_average_but_trains_on_the_raw_weights(toy_data, tmp_path):
    probe = Probe()
    res = _train(toy_data, tmp_path / "run", probe)
    ends = probe.epoch_end
    assert len(ends) == 3
    for e in ends[:-1]:
        assert _close(e["model"], e["avg"]) and not _close(e["model"], e["raw"])
    for e, begin in zip(ends[:-1], probe.epoch_begin[1:]):
        assert _close(begin, e["raw"])        # the next epoch trains on from the raw weights
    best = res.metrics["best_epoch"]
    assert _close([_np(w) for w in res.model.trainable_variables], ends[best - 1]["avg"])


@pytest.mark.slow   # two trainings, one of them crashed
def test_resumed_run_trains_on_the_raw_weights_not_the_average(toy_data, tmp_path, crash):
    out = tmp_path / "run"
    first = Probe()
    crash("commit#2")          # epoch 1 committed, epoch 2 trained but not committed
    with pytest.raises(SimulatedCrash, match=re.escape("commit")):
        _train(toy_data, out, first)
    crash(None)
    second = Probe()
    _train(toy_data, out, second)
    assert _close(second.first_step, first.epoch_end[0]["raw"])
    assert not _close(second.first_step, first.epoch_end[0]["avg"])
