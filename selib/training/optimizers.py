"""The optimisation recipe as Keras objects: learning-rate schedule, optimiser, loss, compile.

Everything here reads one :class:`~selib.training.config.OptimConfig` (plus the XLA choice),
so what a config says and what Keras runs cannot drift apart.
"""
from __future__ import annotations

import keras

from selib.training.config import OptimConfig
from selib.training.ema import warm_up_average

__all__ = ["learning_rate", "make_optimizer", "compile_model"]


def learning_rate(optim: OptimConfig, steps_per_epoch: int):
    """The learning rate: constant (the seed), cosine decay after an optional linear warm-up,
    or one-cycle (warm up over the first quarter from 1/25 of the peak, then cosine to zero).

    Keras' ``CosineDecay`` does all three, so the schedule is saved with the optimiser and a
    resumed run continues it from the restored step count.
    """
    if optim.schedule == "constant":
        return optim.learning_rate
    total = max(1, optim.epochs * int(steps_per_epoch))
    if optim.schedule == "onecycle":
        warmup = max(1, total // 4)
        start = optim.learning_rate / 25
    else:
        warmup = int(round(optim.warmup_epochs * steps_per_epoch))
        start = 0.0
    if warmup:
        return keras.optimizers.schedules.CosineDecay(
            start, decay_steps=max(1, total - warmup), warmup_target=optim.learning_rate,
            warmup_steps=warmup)
    return keras.optimizers.schedules.CosineDecay(optim.learning_rate, decay_steps=total)


def make_optimizer(optim: OptimConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Adam (the seed's), AdamW or SGD with Nesterov momentum (the paper's).

    ``use_ema`` keeps an exponential moving average of the weights. ``ema_mode="evaluate"``
    warms it up and leaves the training weights alone (the trainer's
    :class:`~selib.training.ema.SwapAverage` shows the average to validation and every save);
    ``"overwrite"`` is Keras' own: no warm-up, copied into the training weights every epoch.
    """
    lr = learning_rate(optim, steps_per_epoch)
    common = {}
    if optim.use_ema:
        overwrite = max(1, int(steps_per_epoch)) if optim.ema_mode == "overwrite" else None
        common = dict(use_ema=True, ema_momentum=optim.ema_momentum, ema_overwrite_frequency=overwrite)
    opt = _keras_optimizer(optim, lr, common)
    return warm_up_average(opt) if optim.swaps_average else opt


def _keras_optimizer(optim: OptimConfig, lr, common: dict) -> keras.optimizers.Optimizer:
    wd = optim.weight_decay or None
    if optim.optimizer == "adam":
        return keras.optimizers.Adam(lr, beta_1=optim.beta_1, beta_2=optim.beta_2,
                                     epsilon=optim.epsilon, weight_decay=wd, **common)
    if optim.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=optim.weight_decay or 0.004, beta_1=optim.beta_1,
                                      beta_2=optim.beta_2, epsilon=optim.epsilon, **common)
    return keras.optimizers.SGD(lr, momentum=optim.momentum, nesterov=True, weight_decay=wd, **common)


def compile_model(model: keras.Model, optim: OptimConfig, steps_per_epoch: int,
                  jit_compile: bool | str = False) -> keras.Model:
    """Compile with the config's optimiser, categorical cross-entropy (with label smoothing,
    which needs one-hot labels) and accuracy."""
    model.compile(optimizer=make_optimizer(optim, steps_per_epoch),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=optim.label_smoothing),
                  metrics=["accuracy"], jit_compile=jit_compile)
    return model
