"""A tiny, regenerable image folder for training tests: each class is a different shape."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


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


def make_toy_folder(root: Path, classes=("bench", "chair", "office_chair", "sofa"), per_class: int = 30,
                    size: int = 48, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            cv2.imwrite(str(root / name / f"{name}_{i}.png"), _draw(k % 4, rng, size))
    return root
