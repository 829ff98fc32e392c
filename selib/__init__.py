"""selib — Squeeze-and-Excitation Networks to learn, reproduce and use."""
from __future__ import annotations

import os as _os

# Quiet TensorFlow's C++ start-up chatter before anything imports it.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from selib._quiet import import_tensorflow_quietly as _import_tf, quiet_retracing as _quiet_retracing  # noqa: E402

if _os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    # selib runs on any Keras 3 backend (KERAS_BACKEND=jax, torch); only on TensorFlow, the
    # default, is TensorFlow imported here — quietly, without its start-up notices.
    _import_tf()
    _quiet_retracing()

__version__ = "0.2.0"

from selib.layers.squeeze_excite import (  # noqa: E402
    SqueezeExcite,
    count_se_params,
    excitation,
    scale,
    se_param_count,
    se_units,
    squeeze,
)
from selib.layers.attention import EfficientChannelAttention, attention_layers, get_attn, register_attn  # noqa: E402
from selib.models.resnet import (  # noqa: E402
    se_resnet,
    se_resnet18,
    se_resnet18v2,
    se_resnet34,
    se_resnet34v2,
    se_resnet50,
    se_resnet50v2,
    se_resnet101,
    se_resnet101v2,
    se_resnet152,
    se_resnet152v2,
)
from selib.models.seed import seed_model  # noqa: E402
from selib.models.inception import se_inception_module, se_inception_net  # noqa: E402

from selib.models.flops import FlopCount, count_flops  # noqa: E402
from selib.models.tables import block_table, cost_table, layer_table, se_table  # noqa: E402
from selib.data.scanning import DataFolderError, DataFolderWarning, ScanResult, Summary, scan, summarize  # noqa: E402
from selib.data.loading import DecodeError, LoadedImages, decode_image, load_images  # noqa: E402
from selib.data.splits import Split, one_hot, split, to_float  # noqa: E402
from selib.data.feeding import ArrayBatches, SyncEpoch, batches  # noqa: E402
from selib.layers.augment import RandomAffine, augmentation  # noqa: E402
from selib.errors import (  # noqa: E402
    ClassMismatchError, ConfigError, ModelFileError, RunFolderError, RunLockedError, SelibError,
    SplitError, TrainingDiverged,
)
from selib.training.config import TrainConfig  # noqa: E402
from selib.training.profiles import PROFILES, resolve_profile  # noqa: E402

# The training, evaluation, plotting and rendering modules are imported on first use of these
# names (``selib.train`` is ``selib.training.trainer.train``, ``selib.evaluate`` is
# ``selib.analysis.evaluation.evaluate``), so ``import selib`` stays quick.
_LAZY = {
    "train": ("selib.training.trainer", "train"), "ensure_run": ("selib.training.trainer", "ensure_run"),
    "load_run": ("selib.training.trainer", "load_run"), "load_model": ("selib.training.trainer", "load_model"),
    "prepare_data": ("selib.training.trainer", "prepare_data"),
    "build_model": ("selib.training.trainer", "build_model"),
    "Predictor": ("selib.predictor", "Predictor"),
    "evaluate": ("selib.analysis.evaluation", "evaluate"), "Evaluation": ("selib.analysis.evaluation", "Evaluation"),
    "predict_proba": ("selib.analysis.evaluation", "predict_proba"),
    "excitation_stats": ("selib.analysis.excitation", "excitation_stats"),
    "excitation_table": ("selib.analysis.excitation", "excitation_table"),
    "collect_gates": ("selib.analysis.excitation", "collect_gates"),
    "grad_cam": ("selib.analysis.gradcam", "grad_cam"),
    "record_fig6": ("selib.analysis.fig6", "record_fig6"), "load_fig6": ("selib.analysis.fig6", "load_fig6"),
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
    "Split", "one_hot", "split", "to_float", "ArrayBatches", "SyncEpoch", "batches", "RandomAffine", "augmentation",
    "SelibError", "ConfigError", "ModelFileError", "RunFolderError", "RunLockedError", "SplitError",
    "ClassMismatchError", "TrainingDiverged",
    "PROFILES", "TrainConfig", "resolve_profile", *_LAZY,
    "SqueezeExcite", "count_se_params", "excitation", "scale", "se_param_count", "se_units", "squeeze",
    "EfficientChannelAttention", "attention_layers", "get_attn", "register_attn",
    "se_inception_module", "se_inception_net", "se_resnet", "se_resnet18", "se_resnet34",
    "se_resnet50", "se_resnet101", "se_resnet152", "se_resnet18v2", "se_resnet34v2",
    "se_resnet50v2", "se_resnet101v2", "se_resnet152v2", "seed_model",
]
