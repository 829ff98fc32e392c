"""selib's v1 networks against Keras, by their outputs: the same weights give the same predictions.

* ``se_resnet50(ratio=None)`` against ``keras.applications.ResNet50(weights=None)``: the same layer
  names in the same order (the classifier ``predictions`` included), the same weights, loaded by
  name from a file keras wrote, and the same outputs — with the top, and without it at any size.
* ``se_resnet50()`` against an SE-ResNet-50 written below from the paper with plain Keras layers
  (GAP -> Dense(C/r, ReLU) -> Dense(C, sigmoid) -> multiply, on the residual branch before the sum).

Weights are random but far from the initial ones (BN statistics included), so a missing or
misplaced layer changes the outputs; inputs are small (64² or less) to stay fast.
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from selib import se_resnet50
from selib.layers.squeeze_excite import se_layers
from selib.models.weights import load_weights_by_name

pytestmark = pytest.mark.slow
SIZE = (64, 64, 3)
CLASSES = 1000


def _randomise(model: keras.Model, seed: int = 0) -> None:
    """Weights of the right scale that no initialiser gives: BN variances stay positive."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        shape, name = tuple(w.shape), w.path
        if "moving_variance" in name:
            value = rng.uniform(0.5, 1.5, shape)
        elif "gamma" in name:
            value = rng.uniform(0.5, 1.5, shape)
        elif len(shape) == 1:               # biases, beta, moving mean
            value = rng.normal(0.0, 0.1, shape)
        else:                               # kernels: He-scaled, so activations neither vanish nor explode
            value = rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[:-1])), shape)
        w.assign(value.astype("float32"))


def _images(shape, n: int = 2, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def _run(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """One eager inference call (``predict`` would first trace and compile the whole graph)."""
    return keras.ops.convert_to_numpy(model(x, training=False))


def _names(model: keras.Model) -> list[str]:
    return [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


@pytest.fixture(scope="module")
def keras_weights(tmp_path_factory):
    """keras' ResNet50 (64², 1000 classes) with random weights, and the file it saved them to."""
    theirs = keras.applications.ResNet50(weights=None, input_shape=SIZE, classes=CLASSES)
    _randomise(theirs)
    path = str(tmp_path_factory.mktemp("r50") / "r50.weights.h5")
    theirs.save_weights(path)
    return theirs, path


def test_resnet50_equals_keras_names_weights_and_predictions(keras_weights):
    theirs, path = keras_weights
    ours = se_resnet50(SIZE, CLASSES, ratio=None)
    assert _names(ours) == _names(theirs)                    # head included: "predictions"
    report = load_weights_by_name(ours, path)
    assert not report.skipped and not report.unused          # every layer found its weights
    for a, b in zip(theirs.weights, ours.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    x = _images(SIZE)
    want = _run(theirs, x)
    assert want.std(axis=1).min() > 1e-4                     # not a flat softmax: a real test
    np.testing.assert_allclose(_run(ours, x), want, rtol=1e-4, atol=1e-6)
    assert ours.losses == [] and theirs.losses == []         # no regularisation unless asked


def test_resnet50_without_top_equals_keras_at_any_size(keras_weights):
    _, path = keras_weights
    theirs = keras.applications.ResNet50(weights=None, include_top=False, pooling="avg")
    ours = se_resnet50(ratio=None, include_top=False, pooling="avg")    # input_shape=None, as keras
    assert ours.input_shape == theirs.input_shape == (None, None, None, 3)
    assert _names(ours) == _names(theirs)
    load_weights_by_name(theirs, path)
    assert load_weights_by_name(ours, path).unused == ["predictions"]   # the top has no layer here
    x = _images((40, 56, 3))
    np.testing.assert_allclose(_run(ours, x), _run(theirs, x), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# SE-ResNet-50 from the paper, in plain Keras: keras' ResNet50 blocks with an SE block on the
# residual branch (after the last BN, before the addition). Layer names are keras' so that the
# convolutions and BNs load from the same file; the SE layers are ``{block}_se_*``.
# ---------------------------------------------------------------------------------------------
def _se_block(u, channels: int, ratio: int, name: str):
    z = layers.GlobalAveragePooling2D(name=f"{name}_se_squeeze")(u)                       # squeeze
    s = layers.Dense(channels // ratio, activation="relu", use_bias=False, name=f"{name}_se_reduce")(z)
    s = layers.Dense(channels, activation="sigmoid", use_bias=False, name=f"{name}_se_expand")(s)
    s = layers.Reshape((1, 1, channels), name=f"{name}_se_reshape")(s)
    return layers.Multiply(name=f"{name}_se_scale")([u, s])                                 # scale


def _bottleneck(x, filters: int, stride: int, project: bool, ratio: int, name: str):
    eps = 1.001e-5
    shortcut = x
    if project:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=eps, name=f"{name}_0_bn")(shortcut)
    r = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    r = layers.BatchNormalization(epsilon=eps, name=f"{name}_1_bn")(r)
    r = layers.Activation("relu", name=f"{name}_1_relu")(r)
    r = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(r)
    r = layers.BatchNormalization(epsilon=eps, name=f"{name}_2_bn")(r)
    r = layers.Activation("relu", name=f"{name}_2_relu")(r)
    r = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(r)
    r = layers.BatchNormalization(epsilon=eps, name=f"{name}_3_bn")(r)
    r = _se_block(r, 4 * filters, ratio, name)
    x = layers.Add(name=f"{name}_add")([shortcut, r])
    return layers.Activation("relu", name=f"{name}_out")(x)


def keras_se_resnet50(input_shape, classes: int, ratio: int = 16) -> keras.Model:
    image = keras.Input(input_shape)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(image)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=1.001e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (filters, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=2):
        for b in range(1, blocks + 1):
            stride = 2 if b == 1 and stage > 2 else 1
            x = _bottleneck(x, filters, stride, b == 1, ratio, f"conv{stage}_block{b}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(image, x, name="keras_se_resnet50")


def test_se_resnet50_equals_the_paper_in_plain_keras(tmp_path):
    theirs = keras_se_resnet50(SIZE, CLASSES)
    _randomise(theirs, seed=3)
    path = str(tmp_path / "se_r50.weights.h5")
    theirs.save_weights(path)
    ours = se_resnet50(SIZE, CLASSES)                        # r = 16, SE on the residual branch
    assert ours.count_params() == theirs.count_params()
    report = load_weights_by_name(ours, path)
    assert sorted(report.skipped) == sorted(l.name for l in se_layers(ours))       # 16 SE blocks
    for se in se_layers(ours):                               # SE: W1, W2 from the two Dense layers
        block = se.name[: -len("_se")]
        se.set_weights([theirs.get_layer(f"{block}_se_reduce").get_weights()[0],
                        theirs.get_layer(f"{block}_se_expand").get_weights()[0]])
    x = _images(SIZE)
    want = _run(theirs, x)
    assert want.std(axis=1).min() > 1e-4
    np.testing.assert_allclose(_run(ours, x), want, rtol=1e-4, atol=1e-6)
