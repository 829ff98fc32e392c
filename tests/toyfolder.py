"""A tiny, regenerable image folder for training tests (each class a different shape), the tiny
training config the run/CLI/predictor tests share, and a `selib` subprocess helper."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("bench", "chair", "office_chair", "sofa")
# subprocesses: quiet TensorFlow, never a GPU (so the results do not depend on the machine),
# and no fault injection inherited from the test process
ENV = {k: v for k, v in os.environ.items() if not k.startswith("SELIB_CRASH")}
ENV.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", SELIB_PROFILE="ci", KERAS_BACKEND="tensorflow")

# The `ci` profile made smaller still: 16² gray, one SE stage, 2 epochs. Every field is also
# given on the command line by TINY_SET, so `selib train --profile ci --set ...` trains exactly
# this config and a CLI run and an in-process run share one run folder.
TINY_CHANGES = dict(max_per_class=None, image_size=16, batch_size=16, epochs=2, depth=[1], filters=[8],
                    initial_filters=8)
TINY_SET = [a for k, v in TINY_CHANGES.items()
            for a in ("--set", f"{k}={'null' if v is None else str(v).replace(' ', '')}")]


def tiny_config(**changes):
    """The shared tiny config (``PROFILES["ci"]`` with :data:`TINY_CHANGES`), with ``changes``."""
    from selib.training.profiles import PROFILES

    return PROFILES["ci"].replace(**{**TINY_CHANGES, **changes})


@contextlib.contextmanager
def eager_steps():
    """TensorFlow's train and test steps run eagerly inside the block (see conftest's fixture)."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)   # tf.data's functions stay graphs (pyproject quiets its note)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(False)


def _draw(kind: int, rng: np.random.Generator, size: int) -> np.ndarray:
    img = np.full((size, size), int(rng.integers(0, 60)), np.uint8)
    c = size // 2 + rng.integers(-size // 8, size // 8 + 1, size=2)
    r = int(size * rng.uniform(0.2, 0.35))
    color = int(rng.integers(180, 256))
    if kind == 0:
        cv2.circle(img, (int(c[0]), int(c[1])), r, color, -1)
    elif kind == 1:
        cv2.rectangle(img, (int(c[0] - r), int(c[1] - r // 3)), (int(c[0] + r), int(c[1] + r // 3)), color, -1)
    elif kind == 2:
        cv2.rectangle(img, (int(c[0] - r // 3), int(c[1] - r)), (int(c[0] + r // 3), int(c[1] + r)), color, -1)
    else:
        pts = np.array([[c[0], c[1] - r], [c[0] - r, c[1] + r], [c[0] + r, c[1] + r]], np.int32)
        cv2.fillPoly(img, [pts], color)
    noise = rng.normal(0, 8, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def make_toy_folder(root: Path, classes=CLASSES, per_class: int = 30,
                    size: int = 48, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            cv2.imwrite(str(root / name / f"{name}_{i}.png"), _draw(k % 4, rng, size))
    return root


def selib_cli(*args: str, env: dict | None = None, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """``python -m selib ARGS`` in a subprocess (text output captured)."""
    return subprocess.run([sys.executable, "-m", "selib", *map(str, args)], capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=timeout, cwd=REPO, **kw)


def truncate_half(path: Path) -> None:
    """Keep the first half of a file's bytes: what an interrupted copy or a full disk leaves."""
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def one_line_error(stderr: str) -> str:
    """The single `selib: error:` line of a user error (asserts there is exactly one line)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("selib: error: "), stderr[-1500:]
    assert "Traceback" not in stderr
    return lines[0]
