"""selib — Squeeze-and-Excitation Networks to learn, reproduce and use.

``import selib`` is quick: it loads neither TensorFlow nor Keras. Every public name below is
importable as ``selib.X`` or ``from selib import X``; its module (and with it Keras and the
backend) is imported the first time the name is used. When Keras loads, by selib or by the
user's own ``import keras``, TensorFlow's start-up notices are hidden and selib's layers are
registered, so ``keras.saving.load_model(path, safe_mode=True)`` rebuilds a saved selib model.
"""
from __future__ import annotations

import importlib as _importlib
import os as _os

# The `selib` command stops on Ctrl-C from its first line on (a no-op for `import selib`).
from selib._interrupt import install_for_command_line as _ctrl_c  # noqa: E402

_ctrl_c()

# Quiet TensorFlow's C++ start-up chatter before anything imports it.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from selib._quiet import install_import_hook as _install_import_hook  # noqa: E402
from selib._quiet import quiet_retracing as _quiet_retracing  # noqa: E402
from selib.errors import (  # noqa: E402 - exceptions are light and caught by callers
    ClassMismatchError, ConfigError, DataFolderError, DecodeError, ModelFileError, RunFolderError,
    RunLockedError, SelibError, SplitError, TrainingDiverged,
)

__version__ = "0.2.0"

_install_import_hook()
_quiet_retracing()

#: module -> the public names it provides, each imported on first use (see ``__getattr__``)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "selib.layers.squeeze_excite": ("SqueezeExcite", "count_se_params", "excitation", "scale",
                                    "se_param_count", "se_units", "squeeze"),
    "selib.layers.attention": ("EfficientChannelAttention", "attention_layers", "get_attn", "register_attn"),
    "selib.layers.augment": ("RandomAffine", "augmentation"),
    "selib.models.resnet": ("se_resnet", "se_resnet18", "se_resnet34", "se_resnet50", "se_resnet101",
                            "se_resnet152", "se_resnet18v2", "se_resnet34v2", "se_resnet50v2",
                            "se_resnet101v2", "se_resnet152v2"),
    "selib.models.seed": ("report_model", "seed_model"),
    "selib.models.inception": ("se_inception_module", "se_inception_net"),
    "selib.models.flops": ("FlopCount", "count_flops"),
    "selib.models.tables": ("block_table", "cost_table", "layer_table", "se_table"),
    "selib.data.scanning": ("DataFolderWarning", "ScanResult", "Summary", "scan", "summarize"),
    "selib.data.loading": ("LoadedImages", "decode_image", "load_images"),
    "selib.data.splits": ("Split", "one_hot", "split", "to_float"),
    "selib.data.feeding": ("ArrayBatches", "SyncEpoch", "batches"),
    "selib.training.config": ("TrainConfig",),
    "selib.training.profiles": ("PROFILES", "resolve_profile"),
    "selib.training.trainer": ("train", "ensure_run", "prepare_data", "build_model"),
    "selib.training.run_io": ("load_model", "load_run"),
    "selib.predictor": ("Predictor",),
    "selib.analysis.evaluation": ("evaluate", "Evaluation", "predict_proba"),
    "selib.analysis.excitation": ("excitation_stats", "excitation_table", "collect_gates"),
    "selib.analysis.gradcam": ("grad_cam",),
    "selib.analysis.fig6": ("record_fig6", "load_fig6"),
    "selib.synth": ("generate_synth", "ensure_builtin"),
}
#: names that differ from the attribute in their module; ``report_model`` is the network of the
#: original report (the ``report`` profile's), also known as ``seed_model``
_RENAMED = {"generate_synth": "generate", "report_model": "seed_model"}
_LAZY = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    """Import a public name's module on first use (PEP 562) and keep the value."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'selib' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "__version__", "ClassMismatchError", "ConfigError", "DataFolderError", "DecodeError",
    "ModelFileError", "RunFolderError", "RunLockedError", "SelibError", "SplitError",
    "TrainingDiverged", *_LAZY,
]
