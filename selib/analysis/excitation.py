"""What the SE gates do: collect them per image, per block, and test the paper's Fig. 6 claim.

The paper (Sec. 7.2, Fig. 6) reads the excitation of every SE block per class: early blocks
excite the same channels for every class (class-agnostic), later blocks become class-specific,
and the last blocks saturate. :func:`collect_gates` gives the raw material — every block's
gates ``s`` (N images × C channels) — and :func:`excitation_table` the statistics of
:mod:`selib.analysis.gate_stats` per block, with a permutation null band, so a claim about
depth is tested against what chance alone gives.
"""
from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
import pandas as pd

from selib.layers.squeeze_excite import se_layers

__all__ = ["collect_gates", "excitation_stats", "excitation_table", "untrained_copy", "block_io"]


def _labels(y) -> np.ndarray:
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(int)


def channel_gates(layer, feats) -> np.ndarray:
    """One SE layer's gates on ``feats`` as float64 (N, C). An unsqueezed block
    (``squeeze="none"``) gates every position; its per-channel gate is the mean over positions."""
    g = np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(layer.excite(feats), "float32")), np.float64)
    return g.mean(axis=(1, 2)) if g.ndim == 4 else g


def collect_gates(model: keras.Model, x: np.ndarray, batch_size: int = 64) -> tuple[list[str], list[np.ndarray]]:
    """Every SE block's gates for every image: (block names, list of (N, C) float arrays)."""
    layers_ = se_layers(model)
    if not layers_:
        raise ValueError("the model has no SqueezeExcite layers")
    probe = keras.Model(model.input, [layer.input for layer in layers_])
    gates: list[list[np.ndarray]] = [[] for _ in layers_]
    for i in range(0, len(x), batch_size):
        feats = probe(np.asarray(x[i:i + batch_size]), training=False)
        feats = feats if isinstance(feats, (list, tuple)) else [feats]
        for k, (layer, f) in enumerate(zip(layers_, feats)):
            gates[k].append(channel_gates(layer, f))
    return [l.name for l in layers_], [np.concatenate(g) for g in gates]


def excitation_stats(model: keras.Model, x: np.ndarray, y: np.ndarray, class_names: Sequence[str],
                     batch_size: int = 64) -> pd.DataFrame:
    """Mean and std of every SE block's channel gates per class, in long format (the paper's
    Fig. 6 plots the mean): block, depth, class, channel, mean, std."""
    y = _labels(y)
    names, gates = collect_gates(model, x, batch_size)
    rows = []
    for depth, (name, g) in enumerate(zip(names, gates)):
        for c, cls in enumerate(class_names):
            sel = g[y == c]
            if len(sel):
                rows.append(pd.DataFrame({"block": name, "depth": depth, "class": cls,
                                          "channel": np.arange(g.shape[1]), "mean": sel.mean(axis=0),
                                          "std": sel.std(axis=0)}))
    return pd.concat(rows, ignore_index=True)


def excitation_table(model: keras.Model, x: np.ndarray, y: np.ndarray, *, n_permutations: int = 20,
                     seed: int = 0, batch_size: int = 64) -> pd.DataFrame:
    """Per SE block: class-specificity (η², the between-class share of each gate's variance,
    averaged over channels) with its permutation null band, and saturation (see
    :func:`selib.analysis.gate_stats.depth_table`)."""
    from selib.analysis.gate_stats import depth_table

    names, gates = collect_gates(model, x, batch_size)
    return depth_table(gates, _labels(y), names=names, n_permutations=n_permutations, seed=seed)


def untrained_copy(model: keras.Model, seed: int = 0) -> keras.Model:
    """The same network with fresh initial weights: the null baseline "no learning at all"."""
    keras.utils.set_random_seed(seed)
    return keras.models.clone_model(model)


def block_io(model: keras.Model, x: np.ndarray, block: str | int = -1) -> tuple[str, np.ndarray, np.ndarray]:
    """For one SE block: (name, the feature maps entering it (N, H, W, C), its gates (N, C)) —
    what the learned re-weighting figure shows."""
    layers_ = se_layers(model)
    layer = layers_[block] if isinstance(block, int) else model.get_layer(block)
    feats = keras.Model(model.input, layer.input)(np.asarray(x), training=False)
    as_np = lambda t: np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(t, "float32")))  # noqa: E731
    return layer.name, as_np(feats), channel_gates(layer, feats).astype(np.float32)
