"""Procedural 3-D furniture photos: the built-in, download-free dataset of the series.

    from selib.synth import ensure_builtin
    root = ensure_builtin()          # data/synthchairs/<class>/<class>_<index>.jpg + metadata.csv
"""
from selib.synth.dataset import (
    CLASSES,
    DEFAULT_DIR,
    DEFAULT_PER_CLASS,
    RENDERER_VERSION,
    encode_jpeg,
    is_current,
    render_image,
)
from selib.synth.build import PROFILE_PER_CLASS, builtin_size, ensure_builtin, generate   # one renderer per folder at a time

__all__ = ["CLASSES", "DEFAULT_DIR", "DEFAULT_PER_CLASS", "PROFILE_PER_CLASS", "RENDERER_VERSION",
           "builtin_size", "encode_jpeg", "ensure_builtin", "generate", "is_current", "render_image"]
