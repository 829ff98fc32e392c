"""Who feeds whom in a functional Keras model, read from its public config (no private
``_inbound_nodes``): the one wiring helper of the test suite."""
from __future__ import annotations

from typing import Iterable

import keras


def _histories(obj) -> Iterable[str]:
    """Names of the layers whose outputs appear in a serialised call argument."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            yield obj["config"]["keras_history"][0]
            return
        for value in obj.values():
            yield from _histories(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _histories(value)


def inputs_of(model: keras.Model) -> dict[str, list[str]]:
    """Layer name -> the names of the layers feeding it, in argument order (``[]`` for inputs)."""
    return {layer["name"]: list(_histories(layer["inbound_nodes"]))
            for layer in model.get_config()["layers"]}


def outputs_of(model: keras.Model) -> dict[str, list[str]]:
    """Layer name -> the names of the layers it feeds, in graph order."""
    feeds = inputs_of(model)
    out: dict[str, list[str]] = {name: [] for name in feeds}
    for name, sources in feeds.items():
        for src in sources:
            if name not in out[src]:
                out[src].append(name)
    return out


def wiring(model: keras.Model, names: Iterable[str]) -> dict[str, tuple[list[str], list[str]]]:
    """For each named layer: (layers feeding it, layers it feeds)."""
    ins, outs = inputs_of(model), outputs_of(model)
    return {name: (ins[name], outs[name]) for name in names}
