"""Keras layers: the SE block, other channel attention, in-model augmentation.

Importing this package registers every selib layer with Keras (``package="selib"``), which a
saved ``.keras`` file needs before ``keras.saving.load_model(path, safe_mode=True)`` can rebuild
it. ``import selib`` arranges that on Keras' first import, so users rarely import this directly.
"""
from selib.layers import attention, augment, squeeze_excite  # noqa: F401 - registration

__all__ = ["attention", "augment", "squeeze_excite"]
