"""Keras layers: the SE block, other channel attention, in-model augmentation."""
