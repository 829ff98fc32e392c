"""Compact, tabular views of the models selib builds — a short ``model.summary()``.

``model.summary()`` of SE-ResNet-50 prints hundreds of lines; a notebook reader wants one row
per residual block (or per SE block, or per model). These helpers read the keras.applications
layer names that :mod:`selib.models.resnet` and :mod:`selib.models.inception` give
(``conv{s}_block{b}_…``, ``conv{s}_inception_…``; stages numbered from 2) and return pandas
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

from selib.layers.attention import attention_layers
from selib.layers.squeeze_excite import SqueezeExcite, count_se_params, se_cost, se_layers
from selib.models.flops import count_flops

_BLOCK = re.compile(r"^conv(\d+)_(block\d+|inception)_")


def _shape_str(shape) -> str:
    """(None, 118, 118, 64) -> '118×118×64'."""
    return "×".join(str(d) for d in tuple(shape)[1:])


def _block_of(name: str) -> tuple[int, str] | None:
    m = _BLOCK.match(name)
    return (int(m.group(1)), m.group(2)) if m else None


def block_prefix(name: str) -> str | None:
    """``"conv3_block1_2_conv"`` -> ``"conv3_block1_"``: the block a layer belongs to (None
    for the stem and the head)."""
    m = _BLOCK.match(name)
    return m.group(0) if m else None


def layer_table(model: keras.Model, prefix: str | None = None) -> pd.DataFrame:
    """One row per layer (name, kind, output shape, parameters), optionally only the layers
    whose name starts with ``prefix`` (e.g. ``"conv3_block1_"`` for one residual block)."""
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
    """One row per block (layers named ``conv{s}_block{b}_…`` or ``conv{s}_inception_…``), in
    graph order.

    Columns: ``stage`` (keras numbering, from 2), ``block``, ``input`` and ``output`` (H×W×C),
    ``stride``, ``shortcut`` (``projection`` when the block has a 1×1 shortcut conv
    ``_0_conv``, ``identity`` otherwise; empty for blocks without an ``Add``), ``se_channels``
    (C seen by the block's attention layer, 0 without), ``se_units`` (the SE bottleneck C/r; 0
    for attention without one), ``params`` (the whole block) and ``se_params`` (the attention's).
    """
    attention = {id(layer) for layer in attention_layers(model)}
    groups: dict[tuple[int, str], list[keras.layers.Layer]] = {}
    for layer in model.layers:
        key = _block_of(layer.name)
        if key is not None:
            groups.setdefault(key, []).append(layer)
    rows = []
    for (stage, block), members in groups.items():
        first, last = members[0], members[-1]
        in_shape, out_shape = tuple(first.input.shape), tuple(last.output.shape)
        ses = [l for l in members if id(l) in attention]
        has_add = any(isinstance(l, keras.layers.Add) for l in members)
        projection = any(l.name.endswith("_0_conv") for l in members)
        # 'same' padding rounds up (119 → 60 is stride 2), hence round() and not //
        stride = round(in_shape[1] / out_shape[1]) if (in_shape[1] and out_shape[1]) else 1
        rows.append({
            "stage": stage,
            "block": block,
            "input": _shape_str(in_shape),
            "output": _shape_str(out_shape),
            "stride": int(stride),
            "shortcut": ("projection" if projection else "identity") if has_add else "",
            "se_channels": int(sum(int(l.input.shape[-1]) for l in ses)),
            "se_units": int(sum(l.units for l in ses if isinstance(l, SqueezeExcite))),
            "params": int(sum(l.count_params() for l in members)),
            "se_params": int(sum(l.count_params() for l in ses)),
        })
    return pd.DataFrame(rows, columns=["stage", "block", "input", "output", "stride", "shortcut",
                                       "se_channels", "se_units", "params", "se_params"])


def se_table(model: keras.Model) -> pd.DataFrame:
    """One row per SE layer: its name, the feature map it recalibrates (H×W×C), the bottleneck
    width ``C/r``, its parameters (``2·C·C/r`` without biases) and multiply-adds per image
    (the two FC layers plus pooling and scaling) — both from
    :func:`~selib.layers.squeeze_excite.se_cost`, as :func:`selib.models.flops.count_flops` counts."""
    rows = []
    for layer in se_layers(model):
        shape = tuple(layer.input.shape)
        h, w = (int(d) if d is not None else 1 for d in shape[1:3])
        cost = se_cost(layer.channels, layer.ratio, min_units=layer.min_units,
                       use_bias=layer.use_bias, height=h, width=w, squeeze=layer.squeeze)
        rows.append({
            "layer": layer.name,
            "feature_map": _shape_str(shape),
            "channels": int(layer.channels),
            "units": int(layer.units),
            "ratio": int(layer.ratio),
            "params": cost.params,
            "macs": cost.macs,
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
