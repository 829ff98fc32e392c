"""The seed report's network: a thin preset of :func:`selib.models.resnet.se_resnet`."""
from __future__ import annotations

import keras

from selib.models.resnet import se_resnet

SEED_DEPTH = (2, 1, 1, 2)
# The builder's options that make the seed network, its L2 penalty included (the training profile
# "seed" passes these, and every other config field, to se_resnet).
SEED_OPTIONS = dict(depth=SEED_DEPTH, filters=(64, 128, 256, 512), block="basic", style="preact",
                    ratio=16, l2=1e-4)


def seed_model(input_shape=(473, 473, 1), num_classes: int = 4, **kwargs) -> keras.Model:
    """The seed report's network, reproduced exactly (9,777,472 parameters at 473×473×1).

    The report does not name its depth; its code reads as an SE-ResNet-18 attempt (our
    inference: basic blocks, two per stage intended). Its model summary (9,777,472 parameters: 9,771,200
    trainable, 6,272 non-trainable) is reproduced only by blocks per stage ``[2, 1, 1, 2]``. Its
    code has the ``for i in range(N[k] - 1)`` loop dedented out of the ``for k in …`` stage
    loop, so stages 2 and 3 get one block each and the leftover loop, run once with the last
    ``k``, appends one more 512-filter block to stage 4. A correct SE-ResNet-18 at the same
    input (:func:`~selib.models.resnet.se_resnet18v2`, the same pre-activation blocks) has
    11,265,344 parameters.

    It is ``se_resnet(input_shape, num_classes, depth=(2, 1, 1, 2), style="preact",
    block="basic", ratio=16, l2=1e-4)`` (:data:`SEED_OPTIONS`: the seed code's L2 penalty on the
    stem conv and the classifier is part of its network); ``kwargs`` are the builder's other
    options (``se_placement``, ``include_top``, ``weights``, …), and may override the seed's own
    (e.g. ``filters`` for a narrow copy, ``ratio`` for an ablation, ``l2=0`` for no penalty).
    """
    kwargs.setdefault("name", "seed_se_resnet")
    return se_resnet(input_shape, num_classes, **{**SEED_OPTIONS, **kwargs})
