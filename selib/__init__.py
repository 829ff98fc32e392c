"""selib — Squeeze-and-Excitation Networks to learn, reproduce and use."""
from __future__ import annotations

import os as _os

# Quiet TensorFlow's C++ start-up chatter before anything imports it.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from selib._quiet import import_tensorflow_quietly as _import_tf  # noqa: E402

_import_tf()

__version__ = "0.1.0"

from selib.se import (  # noqa: E402
    SqueezeExcite,
    count_se_params,
    excitation,
    scale,
    se_param_count,
    squeeze,
)
from selib.models import (  # noqa: E402
    se_inception_module,
    se_inception_net,
    se_resnet,
    se_resnet18,
    se_resnet34,
    se_resnet50,
    se_resnet101,
    se_resnet152,
    seed_model,
)

__all__ = [
    "SqueezeExcite", "count_se_params", "excitation", "scale", "se_param_count", "squeeze",
    "se_inception_module", "se_inception_net", "se_resnet", "se_resnet18", "se_resnet34",
    "se_resnet50", "se_resnet101", "se_resnet152", "seed_model",
]
