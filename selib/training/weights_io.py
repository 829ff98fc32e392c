"""A model's weights (with the optimiser state) as ``.weights.h5`` bytes built in memory.

``model.save_weights(path)`` lets HDF5 write the file itself. When the disk fills up during
that write, the error happens inside the HDF5 library: Python sees a stream of "Exception
ignored" messages and then, often, a segmentation fault. Built in memory, the same bytes reach
the disk through one ordinary Python write, whose failure is a plain ``OSError`` — one line
for the user, and the committed backup untouched. :meth:`keras.Model.load_weights` reads the
result like any ``.weights.h5`` file.
"""
from __future__ import annotations

import io

import keras

__all__ = ["weights_bytes"]


def weights_bytes(model: keras.Model) -> bytes:
    """What ``model.save_weights("x.weights.h5")`` would write, without touching the disk."""
    try:
        from keras.src.saving.saving_lib import H5IOStore, _save_state
    except ImportError:   # another Keras layout: fall back to a file in memory-backed /dev/shm
        return _via_file(model)
    buffer = io.BytesIO()
    store = H5IOStore(buffer, mode="w")
    try:
        _save_state(model, weights_store=store, assets_store=None, inner_path="",
                    visited_saveables=set())
    finally:
        store.close()
    return buffer.getvalue()


def _via_file(model: keras.Model) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="selib-weights-") as tmp:
        path = Path(tmp) / "w.weights.h5"
        model.save_weights(path)
        return path.read_bytes()
