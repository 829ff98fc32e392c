"""Grad-CAM (Selvaraju et al.): where in the image the evidence for a class lies, on any backend.

The gradient of the chosen class's logit (pre-softmax, so saturation does not flatten it) with
respect to the last feature map, averaged over space, weights that map's channels; the ReLU of
the weighted sum, normalised and resized, is the heat map. The gradient itself comes from
:func:`gradients`, which has one branch per Keras backend: Keras 3 has no backend-neutral
gradient of an intermediate tensor.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import numpy as np

__all__ = ["grad_cam", "gradients", "last_conv_layer", "split_at"]


def last_conv_layer(model: keras.Model) -> str:
    """Name of the last layer with a 4-D output before global pooling (Grad-CAM's target)."""
    for layer in reversed(model.layers):
        out = getattr(layer, "output", None)
        if out is not None and len(out.shape) == 4:
            return layer.name
    raise ValueError("no 4-D feature map found for Grad-CAM")


def _without_activation(layer: keras.layers.Layer) -> keras.layers.Layer:
    """A twin of a Dense classifier with its activation removed (its logits); other layers as is."""
    if not isinstance(layer, keras.layers.Dense) or layer.get_config().get("activation") == "linear":
        return layer
    twin = keras.layers.Dense.from_config({**layer.get_config(), "activation": "linear",
                                           "name": f"{layer.name}_logits"})
    twin.build(layer.input.shape)
    twin.set_weights(layer.get_weights())
    return twin


def split_at(model: keras.Model, layer_name: str, head_name: str = "logits") -> tuple[keras.Model, keras.Model]:
    """The model cut in two at ``layer_name``: ``x -> feature map`` and ``feature map -> logits``.

    The second part is rebuilt on a new input from the layers after the cut, which must form a
    chain (true of every selib network after its last block: pooling, classifier). It ends at
    the layer ``head_name`` if there is one, else at the last layer; a Dense classifier with its
    softmax inside (keras' and selib's ``predictions``) ends it without the softmax."""
    names = [layer.name for layer in model.layers]
    cut = names.index(layer_name)
    end = names.index(head_name) if head_name in names else len(names) - 1
    fmap = model.get_layer(layer_name).output
    inp = keras.Input(tuple(fmap.shape[1:]), name=f"{layer_name}_in")
    x, prev = inp, model.layers[cut]
    for layer in model.layers[cut + 1:end + 1]:
        if layer.input is not prev.output:
            raise ValueError(f"the layers after {layer_name!r} do not form a chain at {layer.name!r}; "
                             "pick a later layer for Grad-CAM")
        x, prev = (_without_activation(layer) if layer is model.layers[end] else layer)(x), layer
    return keras.Model(model.input, fmap), keras.Model(inp, x)


def gradients(fmap_fn: Callable, head_fn: Callable, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Feature map and d(sum of scores)/d(feature map), as float32 NumPy arrays (Grad-CAM).

    The gradient is w.r.t. an *intermediate* tensor, which JAX (and, cleanly, torch) only allow
    when it is the input of the differentiated function; so the model comes as two callables,
    typically Keras sub-models: ``fmap_fn: x -> feature_map`` (layers up to the tapped layer)
    and ``head_fn: feature_map -> score``, score shaped (batch,) (e.g. the class logit). Summing
    the per-image scores gives each image its own gradient. Works under mixed precision.
    """
    name = keras.backend.backend()
    x = keras.ops.convert_to_tensor(x)
    fmap = fmap_fn(x, training=False)
    if name == "tensorflow":
        import tensorflow as tf
        with tf.GradientTape() as tape:
            tape.watch(fmap)
            total = tf.reduce_sum(tf.cast(head_fn(fmap, training=False), tf.float32))
        grads = tape.gradient(total, fmap)
    elif name == "jax":
        import jax
        import jax.numpy as jnp
        grads = jax.grad(lambda f: jnp.sum(head_fn(f, training=False).astype(jnp.float32)))(fmap)
    elif name == "torch":
        import torch
        fmap = fmap.detach().requires_grad_(True)
        total = head_fn(fmap, training=False).float().sum()
        (grads,) = torch.autograd.grad(total, fmap)
    else:
        raise RuntimeError(f"gradients() is not supported on backend {name!r}")
    as_np = lambda t: np.asarray(keras.ops.convert_to_numpy(t), dtype=np.float32)  # noqa: E731
    return as_np(fmap), as_np(grads)


def grad_cam(model: keras.Model, x: np.ndarray, class_index: Sequence[int] | None = None,
             layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heat maps (N, H, W) in [0, 1] at the input resolution, for uint8 images ``x``.

    ``class_index`` (one per image) defaults to the predicted class.
    """
    x = np.asarray(x)
    body, head = split_at(model, layer_name or last_conv_layer(model))
    if class_index is None:
        class_index = model.predict(x, verbose=0).argmax(axis=1)
    idx = keras.ops.convert_to_tensor(np.asarray(class_index, dtype="int32")[:, None])

    def score(fmap, training=False):
        return keras.ops.take_along_axis(head(fmap, training=training), idx, axis=1)[:, 0]

    fmap, grads = gradients(body, score, x)
    weights = grads.mean(axis=(1, 2), keepdims=True)
    cam = np.maximum((weights * fmap).sum(axis=-1), 0.0)
    cam /= cam.max(axis=(1, 2), keepdims=True) + 1e-8
    resized = keras.ops.image.resize(cam[..., None], tuple(x.shape[1:3]), interpolation="bilinear")
    return np.asarray(keras.ops.convert_to_numpy(resized), dtype=np.float32)[..., 0]
