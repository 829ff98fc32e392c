"""The weight average (EMA) of a run: warmed up, and used for evaluation only.

Keras' optimizer EMA (``use_ema=True``) has two properties that stalled small data sets:

* its momentum is 0.99 from the second step on, so after ``n`` steps the random initial weights
  still carry ``0.99**n`` of the average (37 % after 100 steps), and
* ``ema_overwrite_frequency`` copies the average *into the training weights*: copied once an
  epoch, training restarts each epoch from a point about ``m / (1 - m)`` = 99 steps behind, so on
  the 27 steps per epoch of the built-in data set it moved at roughly an eighth of its speed
  (validation at chance for ten epochs, 78.75 % against 86.25 % without the average).

``ema_mode="evaluate"`` (the default) fixes both, as TensorFlow's ``ExponentialMovingAverage``
(``num_updates``) and timm's ``ModelEma`` do: the momentum warms up as
``min(m, (1 + t) / (10 + t))``, training always continues on the raw weights, and the average is
swapped in for validation and for every save (:class:`SwapAverage`), so the kept
``model.keras`` and the test see the average. ``ema_mode="overwrite"`` is Keras' own behaviour,
kept to reproduce the measurements made with it.

The warm-up replaces one method on the optimiser *instance* rather than subclassing it: the saved
model's optimiser stays a plain Keras one, so ``model.keras`` still loads with plain Keras and
``import selib.layers`` alone.
"""
from __future__ import annotations

import types

import keras
from keras import ops

__all__ = ["warm_momentum", "warm_up_average", "SwapAverage"]

#: the warm-up's constant: momentum (1 + t) / (WARMUP + t), as in TensorFlow's EMA
WARMUP = 10.0


def warm_momentum(step, momentum: float):
    """The momentum at optimiser step ``step`` (0 on the first step, so the average starts as
    the weights themselves): ``min(momentum, (1 + t) / (10 + t))``."""
    t = ops.cast(step, "float32")
    warm = ops.minimum(ops.cast(momentum, "float32"), (1.0 + t) / (WARMUP + t))
    return warm * ops.cast(ops.not_equal(step, 0), "float32")


def _update_warm_average(self, trainable_variables) -> None:
    """The optimiser's moving-average update with :func:`warm_momentum` (bound to an instance)."""
    if not self.use_ema:
        return
    m = warm_momentum(self.iterations, self.ema_momentum)
    for var, average in zip(trainable_variables, self._model_variables_moving_average):
        if average is not None:
            mv = ops.cast(m, var.dtype)
            average.assign(ops.add(ops.multiply(mv, average), ops.multiply(ops.subtract(1, mv), var)))


def warm_up_average(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """Make ``optimizer``'s weight average warm up (see the module docstring); returns it."""
    optimizer._update_model_variables_moving_average = types.MethodType(_update_warm_average, optimizer)
    return optimizer


class SwapAverage(keras.callbacks.SwapEMAWeights):
    """Keras' ``SwapEMAWeights(swap_on_epoch=True)``: the average is in the model for validation
    and at every epoch end (so the run recorder saves and commits the average), the raw weights
    during training steps.

    The committed backup is therefore written in the swapped state (average in the model, raw
    weights in the optimiser's average slots); ``resumed=True`` tells a run restored from such a
    backup to swap back before its first step instead of training on the average.
    """

    def __init__(self, resumed: bool = False) -> None:
        super().__init__(swap_on_epoch=True)
        self.resumed = bool(resumed)

    def on_train_begin(self, logs=None):
        self._ema_weights_in_model = self.resumed
