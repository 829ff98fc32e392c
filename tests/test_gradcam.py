"""Grad-CAM's gradient of a score w.r.t. a feature map, checked against known derivatives on
each backend (a fresh interpreter for a backend this process does not run: Keras fixes its
backend at first import)."""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")

GRADIENTS = """
import json
import keras
import numpy as np
from selib.analysis.gradcam import gradients

# Conv "feature map" with known weights, then two heads whose d score / d fmap is known.
inp = keras.Input((4, 4, 2))
kernel = np.arange(6, dtype="float32").reshape(1, 1, 2, 3) / 6
fmap_fn = keras.Model(inp, keras.layers.Conv2D(3, 1, use_bias=False,
                      kernel_initializer=keras.initializers.Constant(kernel))(inp))
k = np.array([[1.0], [-2.0], [3.0]], "float32")
dense = lambda: keras.layers.Dense(1, use_bias=False, kernel_initializer=keras.initializers.Constant(k))
f_in = keras.Input((4, 4, 3))
gap_head = keras.Model(f_in, keras.ops.squeeze(dense()(keras.layers.GlobalAveragePooling2D()(f_in)), -1))
sq_head = keras.Model(f_in, keras.ops.sum(dense()(keras.ops.square(f_in)), axis=(1, 2, 3)))
x = np.random.default_rng(1).normal(size=(2, 4, 4, 2)).astype("float32")
expected_fmap = np.einsum("bhwc,cd->bhwd", x, kernel[0, 0])
fmap, g_gap = gradients(fmap_fn, gap_head, x)
_, g_sq = gradients(fmap_fn, sq_head, x)
print(json.dumps({
    "dtype": str(g_gap.dtype), "shape": list(g_gap.shape),
    "fmap": float(np.abs(fmap - expected_fmap).max()),
    "gap": float(np.abs(g_gap - np.broadcast_to(k[:, 0] / 16, g_gap.shape)).max()),
    "square": float(np.abs(g_sq - 2 * k[:, 0] * expected_fmap).max()),
}))
"""


def _run(code: str, backend: str) -> str:
    """``code``'s output on ``backend``: in this process where it already runs that backend, else
    in a fresh interpreter (each fresh TensorFlow start-up costs seconds of CPU)."""
    import keras

    if keras.backend.backend() == backend:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(code, {})
        return buf.getvalue()
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


@pytest.mark.slow   # the other backend in a fresh process
@pytest.mark.parametrize("backend", ["tensorflow", pytest.param("jax", marks=needs_jax)])
def test_gradients_wrt_feature_map(backend):
    out = json.loads(_run(GRADIENTS, backend).strip().splitlines()[-1])
    assert out["dtype"] == "float32" and out["shape"] == [2, 4, 4, 3]
    assert out["fmap"] < 1e-5 and out["gap"] < 1e-6 and out["square"] < 1e-4
