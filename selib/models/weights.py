"""Load a local weights file into an selib network by layer name — nothing is ever downloaded.

selib's v1 networks use ``keras.applications.ResNet50``'s layer names, the classifier
``predictions`` included, so a plain ResNet's weights (the stem, every conv and BN, the classifier) land on the same layers of an SE-ResNet,
and only the attention layers, which the plain network lacks, keep their initial values — the
paper's way of starting SE-ResNet training from a ResNet.

selib never fetches weights from the internet. If you have ImageNet weights, they are a file on
your disk, for instance saved from a model you trained or loaded yourself::

    keras.applications.ResNet50(weights=None).save_weights("r50.weights.h5")   # your own copy
    model = selib.se_resnet50(weights="r50.weights.h5")

Formats read: Keras 3 ``.weights.h5`` (``model.save_weights``), a whole ``.keras`` model file,
and the Keras 2 / legacy ``.h5`` layout of the files keras.applications publishes.
"""
from __future__ import annotations

import io
import logging
import os
import zipfile
from dataclasses import dataclass, field
from typing import Mapping

import h5py
import keras
import numpy as np

log = logging.getLogger(__name__)

# file layer name -> selib layer name, for files whose layers are named otherwise: selib models
# saved before the classifier was named "predictions" like keras' called its Dense "logits".
ALIASES: Mapping[str, str] = {"logits": "predictions"}

_NO_DOWNLOAD = ("selib never downloads weights (weights={!r}). Pass the path of a weights file "
                "you already have, e.g. one saved with keras.applications.ResNet50(weights=None)"
                ".save_weights('r50.weights.h5') after loading your own ImageNet copy into it.")


@dataclass
class WeightsReport:
    """What :func:`load_weights_by_name` did: ``loaded`` layer names, ``skipped`` (layer name ->
    why: not in the file, or the shapes differ) and ``unused`` (file layers nothing took)."""

    path: str
    loaded: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        n = len(self.loaded) + len(self.skipped)
        text = f"loaded {len(self.loaded)} of {n} layers with weights from {self.path}"
        if self.skipped:
            text += "; not loaded: " + ", ".join(f"{k} ({v})" for k, v in self.skipped.items())
        return text


def check_weights(weights) -> str | None:
    """Validate a builder's ``weights`` argument before anything is built: ``None`` or the
    path of an existing file. ``"imagenet"`` is refused with an explanation."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights.lower() == "imagenet":
        raise ValueError(_NO_DOWNLOAD.format(weights))
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file {path!r} does not exist. " + _NO_DOWNLOAD.format(weights))
    return path


def _read_keras3(h5) -> dict[str, list[np.ndarray]]:
    out = {}
    for group_name, group in h5["layers"].items():
        vars_ = group.get("vars")
        if vars_ is None or not len(vars_):
            continue
        name = vars_.attrs.get("name", group_name)
        name = name.decode() if isinstance(name, bytes) else str(name)
        out[name] = [np.asarray(vars_[k]) for k in sorted(vars_, key=int)]
    return out


def _read_legacy(h5) -> dict[str, list[np.ndarray]]:
    root = h5["model_weights"] if "model_weights" in h5 else h5
    out = {}
    for name in root.attrs["layer_names"]:
        name = name.decode() if isinstance(name, bytes) else str(name)
        weight_names = root[name].attrs.get("weight_names", [])
        arrays = [np.asarray(root[name][w.decode() if isinstance(w, bytes) else w]) for w in weight_names]
        if arrays:
            out[name] = arrays
    return out


def read_weights(path: str) -> dict[str, list[np.ndarray]]:
    """Layer name -> its arrays in Keras' order (kernel, bias; gamma, beta, mean, variance)."""
    if zipfile.is_zipfile(path):                       # a .keras model: weights inside
        with zipfile.ZipFile(path) as z:
            data = io.BytesIO(z.read("model.weights.h5"))
        with h5py.File(data, "r") as h5:
            return _read_keras3(h5)
    with h5py.File(path, "r") as h5:
        if "layers" in h5:
            return _read_keras3(h5)
        if "layer_names" in h5.attrs or "model_weights" in h5:
            return _read_legacy(h5)
    raise ValueError(f"{path!r} is not a Keras weights file (.weights.h5, .keras or legacy .h5)")


def load_weights_by_name(model: keras.Model, path: str,
                         aliases: Mapping[str, str] = ALIASES) -> WeightsReport:
    """Set every layer of ``model`` whose name (or alias) and weight shapes match ``path``.

    Layers with no counterpart in the file — the attention layers of an SE network loaded from a
    plain ResNet, a classifier with a different number of classes — keep their initial
    values and are listed in the report's ``skipped``.

    Returns:
        A :class:`WeightsReport`; it is also logged (INFO, or WARNING when nothing loaded).
    """
    stored = read_weights(path)
    by_target = {target: source for source, target in aliases.items()}
    report, used = WeightsReport(str(path)), set()
    for layer in model.layers:
        if not layer.weights:
            continue
        source = layer.name if layer.name in stored else by_target.get(layer.name)
        if source not in stored:
            report.skipped[layer.name] = "not in the file"
            continue
        want = [tuple(w.shape) for w in layer.weights]
        have = [tuple(a.shape) for a in stored[source]]
        if want != have:
            report.skipped[layer.name] = f"shapes {have} in the file, {want} in the model"
            continue
        layer.set_weights(stored[source])
        report.loaded.append(layer.name)
        used.add(source)
    report.unused = [name for name in stored if name not in used]
    (log.info if report.loaded else log.warning)("%s", report)
    return report
