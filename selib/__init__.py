"""selib — Squeeze-and-Excitation Networks to learn, reproduce and use."""
from __future__ import annotations

import os as _os

# Quiet TensorFlow's C++ start-up chatter before anything imports it.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from selib._quiet import import_tensorflow_quietly as _import_tf  # noqa: E402

if _os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    # Keras 3 runs selib's layers and models on any backend (JAX on a machine without
    # TensorFlow, for instance); training, data pipelines and evaluation use TensorFlow.
    _import_tf()

__version__ = "0.1.0"

from selib.layers.squeeze_excite import (  # noqa: E402
    SqueezeExcite,
    count_se_params,
    excitation,
    scale,
    se_param_count,
    squeeze,
)
from selib.models.resnet import (  # noqa: E402
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

from selib.models.flops import FlopCount, count_flops  # noqa: E402
from selib.models.tables import block_table, cost_table, layer_table, se_table  # noqa: E402
from selib.data.scanning import DataFolderError, DataFolderWarning, ScanResult, Summary, scan, summarize  # noqa: E402
from selib.data.loading import DecodeError, LoadedImages, decode_image, load_images  # noqa: E402
from selib.data.splits import Split, one_hot, split, to_float  # noqa: E402
from selib.data.feeding import augmentation, make_dataset  # noqa: E402
from selib.training.config import TrainConfig
from selib.training.profiles import PROFILES, resolve_profile  # noqa: E402

# The modules selib.training.trainer, selib.analysis.evaluation, selib.plots.figures and selib.synth are imported on first use
# of these names (``selib.train_run`` is ``selib.training.trainer.train``, ``selib.evaluate_model`` is
# ``selib.analysis.evaluation.evaluate``), so ``import selib`` stays quick.
_LAZY = {
    "train_run": ("selib.training.trainer", "train"), "ensure_run": ("selib.training.trainer", "ensure_run"),
    "load_run": ("selib.training.trainer", "load_run"), "prepare_data": ("selib.training.trainer", "prepare_data"),
    "build_model": ("selib.training.trainer", "build_model"), "TrainingDiverged": ("selib.training.trainer", "TrainingDiverged"),
    "evaluate_model": ("selib.analysis.evaluation", "evaluate"), "Evaluation": ("selib.analysis.evaluation", "Evaluation"),
    "excitation_stats": ("selib.analysis.evaluation", "excitation_stats"), "grad_cam": ("selib.analysis.evaluation", "grad_cam"),
    "ClassMismatchError": ("selib.analysis.evaluation", "ClassMismatchError"),
    "generate_synth": ("selib.synth", "generate"), "ensure_builtin": ("selib.synth", "ensure_builtin"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'selib' has no attribute {name!r}")


__all__ = [
    "FlopCount", "count_flops", "block_table", "cost_table", "layer_table", "se_table",
    "DataFolderError", "DataFolderWarning", "ScanResult", "Summary", "scan", "summarize",
    "DecodeError", "LoadedImages", "decode_image", "load_images",
    "Split", "augmentation", "make_dataset", "one_hot", "split", "to_float",
    "PROFILES", "TrainConfig", "resolve_profile", *_LAZY,
    "SqueezeExcite", "count_se_params", "excitation", "scale", "se_param_count", "squeeze",
    "se_inception_module", "se_inception_net", "se_resnet", "se_resnet18", "se_resnet34",
    "se_resnet50", "se_resnet101", "se_resnet152", "seed_model",
]
