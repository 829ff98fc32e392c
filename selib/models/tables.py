"""Compact, tabular views of the models selib builds — a short ``model.summary()``.

``model.summary()`` of SE-ResNet-50 prints hundreds of lines; a notebook reader wants one row
per residual block (or per SE block, or per model). These helpers read the layer names that
:mod:`selib.models.resnet` gives (``stage{s}_block{b}_…``, ``stage{s}_inception_…``) and return pandas
DataFrames:

* :func:`layer_table` — the layers of one block (or of a whole small model), one row each;
* :func:`block_table` — one row per block: shapes, stride, shortcut, SE width, parameters;
* :func:`se_table`    — one row per :class:`~selib.layers.squeeze_excite.SqueezeExcite` layer: ``C``, ``C/r``,
  parameters and multiply-adds;
* :func:`cost_table`  — one row per model: parameters (trainable / not), SE parameters,
  multiply-adds, and the overhead relative to a baseline model.
"""
from __future__ import annotations

import re
from typing import Mapping

import keras
import numpy as np
import pandas as pd

from selib.models.flops import count_flops
from selib.layers.squeeze_excite import SqueezeExcite, count_se_params, se_layers

_BLOCK = re.compile(r"^(stage\d+)_([a-z]+\d*)_")


def _shape_str(shape) -> str:
    """(None, 118, 118, 64) -> '118×118×64'."""
    return "×".join(str(d) for d in tuple(shape)[1:])


def _block_of(name: str) -> tuple[str, str] | None:
    m = _BLOCK.match(name)
    return (m.group(1), m.group(2)) if m else None


def layer_table(model: keras.Model, prefix: str | None = None) -> pd.DataFrame:
    """One row per layer (name, kind, output shape, parameters), optionally only the layers
    whose name starts with ``prefix`` (e.g. ``"stage2_block1_"`` for one residual block)."""
    rows = []
    for layer in model.layers:
        if prefix is not None and not layer.name.startswith(prefix):
            continue
        rows.append({
            "layer": layer.name,
            "kind": type(layer).__name__,
            "output": _shape_str(layer.output.shape),
            "params": int(layer.count_params()),
        })
    return pd.DataFrame(rows, columns=["layer", "kind", "output", "params"])


def block_table(model: keras.Model) -> pd.DataFrame:
    """One row per block (layers named ``stage{s}_{block}_…``), in graph order.

    Columns: ``stage``, ``block``, ``input`` and ``output`` (H×W×C), ``stride``, ``shortcut``
    (``projection`` when the block has a 1×1 shortcut conv, ``identity`` otherwise; empty for
    blocks without an ``Add``), ``se_channels`` (C seen by the block's SE layer, 0 without SE),
    ``se_units`` (the bottleneck C/r), ``params`` (the whole block) and ``se_params``.
    """
    groups: dict[tuple[str, str], list[keras.layers.Layer]] = {}
    for layer in model.layers:
        key = _block_of(layer.name)
        if key is not None:
            groups.setdefault(key, []).append(layer)
    rows = []
    for (stage, block), members in groups.items():
        first, last = members[0], members[-1]
        in_shape, out_shape = tuple(first.input.shape), tuple(last.output.shape)
        ses = [l for l in members if isinstance(l, SqueezeExcite)]
        has_add = any(isinstance(l, keras.layers.Add) for l in members)
        projection = any(l.name.endswith(("_proj", "_0_conv")) for l in members)
        # 'same' padding rounds up (119 → 60 is stride 2), hence round() and not //
        stride = round(in_shape[1] / out_shape[1]) if (in_shape[1] and out_shape[1]) else 1
        rows.append({
            "stage": int(stage[len("stage"):]),
            "block": block,
            "input": _shape_str(in_shape),
            "output": _shape_str(out_shape),
            "stride": int(stride),
            "shortcut": ("projection" if projection else "identity") if has_add else "",
            "se_channels": int(sum(l.channels for l in ses)),
            "se_units": int(sum(l.units for l in ses)),
            "params": int(sum(l.count_params() for l in members)),
            "se_params": int(sum(l.count_params() for l in ses)),
        })
    return pd.DataFrame(rows, columns=["stage", "block", "input", "output", "stride", "shortcut",
                                       "se_channels", "se_units", "params", "se_params"])


def se_table(model: keras.Model) -> pd.DataFrame:
    """One row per SE layer: its name, the feature map it recalibrates (H×W×C), the bottleneck
    width ``C/r``, its parameters (``2·C·C/r`` without biases) and multiply-adds per image
    (the two FC layers plus pooling and scaling, as :func:`selib.models.flops.count_flops` counts)."""
    rows = []
    for layer in se_layers(model):
        shape = tuple(layer.input.shape)
        h, w = (int(d) if d is not None else 1 for d in shape[1:3])
        rows.append({
            "layer": layer.name,
            "feature_map": _shape_str(shape),
            "channels": int(layer.channels),
            "units": int(layer.units),
            "ratio": int(layer.ratio),
            "params": int(layer.count_params()),
            "macs": int(2 * layer.channels * layer.units + 2 * h * w * layer.channels),
        })
    return pd.DataFrame(rows, columns=["layer", "feature_map", "channels", "units", "ratio",
                                       "params", "macs"])


def _trainable(model: keras.Model) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def cost_table(models: Mapping[str, keras.Model], baseline: str | None = None) -> pd.DataFrame:
    """One row per named model: ``params``, ``trainable``, ``non_trainable``, ``se_params``,
    ``macs`` (multiply-adds per image, :func:`selib.models.flops.count_flops`) and, when ``baseline``
    names one of the models, ``params_overhead_%`` and ``macs_overhead_%`` relative to it."""
    rows = []
    for name, model in models.items():
        params, trainable = int(model.count_params()), _trainable(model)
        rows.append({
            "model": name,
            "params": params,
            "trainable": trainable,
            "non_trainable": params - trainable,
            "se_params": count_se_params(model),
            "macs": int(count_flops(model).macs),
        })
    table = pd.DataFrame(rows, columns=["model", "params", "trainable", "non_trainable",
                                        "se_params", "macs"]).set_index("model")
    if baseline is not None:
        if baseline not in table.index:
            raise KeyError(f"baseline {baseline!r} is not one of {list(table.index)}")
        base = table.loc[baseline]
        table["params_overhead_%"] = 100.0 * (table["params"] / base["params"] - 1.0)
        table["macs_overhead_%"] = 100.0 * (table["macs"] / base["macs"] - 1.0)
    return table
