"""Evaluation maths, the report's formats, excitation statistics and Grad-CAM."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from selib import SqueezeExcite
from selib.analysis.evaluation import (ClassMismatchError, Evaluation, binomial_interval, check_class_names,
                                       evaluate, predict_proba)
from selib.analysis.excitation import excitation_stats
from selib.analysis.gradcam import grad_cam
from selib.errors import ModelFileError

NAMES = ["bench", "chair", "office_chair", "sofa"]


def _evaluation(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    probs = np.eye(4)[y_pred] * 0.7 + 0.075
    return Evaluation(float(np.mean(y_true == y_pred)), 0.0, y_true, y_pred, probs, NAMES)


def test_worst_pairs_in_the_seed_format():
    # 46 benches, 7 predicted chair (15 %); 36 sofas, 8 predicted office_chair (22 %)
    y_true = [0] * 46 + [1] * 40 + [2] * 40 + [3] * 36
    y_pred = [1] * 7 + [0] * 39 + [1] * 40 + [2] * 40 + [2] * 8 + [3] * 28
    ev = _evaluation(y_true, y_pred)
    assert ev.worst_pairs(2) == [("sofa", "office_chair", 8, pytest.approx(100 * 8 / 36)),
                                 ("bench", "chair", 7, pytest.approx(100 * 7 / 46))]
    assert ev.worst_pairs_text() == "Sofa/Office_Chair (8 cnt, 22 %), Bench/Chair (7 cnt, 15 %)"
    cm = ev.confusion
    assert cm[0, 1] == 7 and cm[3, 2] == 8 and cm.sum() == len(y_true)
    wrong = ev.misclassified()
    assert len(wrong) == 15 and set(wrong["true"]) == {"bench", "sofa"}
    assert "bench" in ev.report() and "Test accuracy" in ev.summary()


def test_evaluate_accuracy_loss_and_tta():
    inp = keras.Input((4, 4, 1))
    # a "model" that puts all mass on class 0 when the left column is bright, else class 1
    x = keras.layers.Flatten()(inp)
    out = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inp, out)
    w = np.zeros((16, 2), "float32")
    w[[0, 4, 8, 12], 0] = 20.0
    model.layers[-1].set_weights([w, np.array([0, 5], "float32")])
    imgs = np.zeros((4, 4, 4, 1), np.uint8)
    imgs[:2, :, 0] = 255                   # left column bright -> class 0
    y = np.array([0, 0, 1, 1])
    ev = evaluate(model, imgs, y, ["a", "b"])
    assert ev.accuracy == 1.0 and ev.loss < 0.01
    # test-time flip moves the bright column to the right: the average is less confident
    p_flip = predict_proba(model, imgs, tta=True)
    assert p_flip[0, 0] < ev.probs[0, 0]
    with pytest.raises(ClassMismatchError, match="the model predicts 2 classes but 4 class names"):
        evaluate(model, imgs, y, NAMES)
    # one-hot labels are the same labels
    assert evaluate(model, imgs, np.eye(2)[y], ["a", "b"]).accuracy == 1.0


def test_non_finite_model_is_an_error_never_a_nan_answer():
    inp = keras.Input((4, 4, 1))
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, out)
    model.set_weights([np.full(w.shape, np.nan, "float32") for w in model.get_weights()])
    with pytest.raises(ModelFileError, match="NaN or infinite probabilities"):
        predict_proba(model, np.zeros((2, 4, 4, 1), np.uint8))
    with pytest.raises(ModelFileError):
        evaluate(model, np.zeros((2, 4, 4, 1), np.uint8), [0, 1], ["a", "b"])
    assert predict_proba(model, np.zeros((0, 4, 4, 1), np.uint8)).shape == (0, 2)


def test_binomial_interval():
    lo, hi = binomial_interval(0.8, 100)
    assert lo < 0.8 < hi and hi - lo == pytest.approx(0.16, abs=0.02)
    assert binomial_interval(0.8, 400)[1] - binomial_interval(0.8, 400)[0] < hi - lo
    assert all(np.isnan(binomial_interval(0.5, 0)))


def test_check_class_names():
    check_class_names(NAMES, list(NAMES))
    with pytest.raises(ClassMismatchError, match="class names differ"):
        check_class_names(NAMES, ["cat", "dog"])
    with pytest.raises(ClassMismatchError, match="class names differ"):
        check_class_names(NAMES, ["bench", "chair"])                    # strict by default
    check_class_names(NAMES, ["bench", "chair"], allow_subset=True)
    with pytest.raises(ClassMismatchError, match="cat unknown"):
        check_class_names(NAMES, ["bench", "cat"], allow_subset=True)


@pytest.fixture(scope="module")
def small_model():
    """A model as selib trains it: uint8 input, Rescaling, two SE stages."""
    from selib.training.trainer import build_model
    from toyfolder import tiny_config

    keras.utils.set_random_seed(0)
    return build_model(tiny_config(image_size=32, depth=[1, 1], filters=[8, 16], ratio=4), 4)


def test_excitation_stats_match_the_layer(small_model):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 32, 32, 1), dtype=np.uint8)
    y = np.array([0, 1, 2, 3] * 3)
    stats = excitation_stats(small_model, x, y, NAMES, batch_size=5)
    layers_ = [l for l in small_model.layers if isinstance(l, SqueezeExcite)]
    assert sorted(stats["block"].unique()) == sorted(l.name for l in layers_)
    assert stats.groupby("block").size().to_dict() == {l.name: 4 * l.channels for l in layers_}
    assert stats["mean"].between(0, 1).all()           # sigmoid gates
    # recompute one block's class-0 mean directly
    layer = layers_[-1]
    probe = keras.Model(small_model.input, layer.input)
    s = np.asarray(layer.excite(probe(x[y == 0])))                 # the model rescales uint8 itself
    got = stats[(stats["block"] == layer.name) & (stats["class"] == "bench")]["mean"].to_numpy()
    np.testing.assert_allclose(got, s.mean(axis=0), atol=1e-5)
    assert sorted(stats["depth"].unique()) == [0, 1]
    assert (stats["std"] >= 0).all() and stats["class"].nunique() == 4


def test_grad_cam_shape_range_and_locality():
    # a model whose class-1 logit is the sum of the feature map's top-left quadrant
    inp = keras.Input((16, 16, 1))
    fmap = keras.layers.Conv2D(1, 1, use_bias=False, name="feat")(inp)
    pooled = keras.layers.GlobalAveragePooling2D()(fmap)
    logits = keras.layers.Dense(2, name="logits")(pooled)
    out = keras.layers.Activation("softmax")(logits)
    model = keras.Model(inp, out)
    model.get_layer("feat").set_weights([np.ones((1, 1, 1, 1), "float32")])
    model.get_layer("logits").set_weights([np.array([[-1.0, 1.0]], "float32"), np.zeros(2, "float32")])
    x = np.zeros((1, 16, 16, 1), np.uint8)
    x[0, :8, :8] = 255
    cam = grad_cam(model, x, class_index=[1], layer_name="feat")
    assert cam.shape == (1, 16, 16) and cam.min() >= 0 and cam.max() <= 1 + 1e-6
    assert cam[0, :8, :8].mean() > 0.9 and cam[0, 8:, 8:].mean() < 0.1


def test_grad_cam_differentiates_the_logits_of_a_softmax_classifier(small_model):
    """selib's classifier is keras' Dense ``predictions`` with the softmax inside: the Grad-CAM
    head ends at its logits, whose softmax is the model's output."""
    from selib.analysis.gradcam import last_conv_layer, split_at

    body, head = split_at(small_model, last_conv_layer(small_model))
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 1), dtype=np.uint8)
    logits = keras.ops.convert_to_numpy(head(body(x)))
    probs = small_model.predict(x, verbose=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(logits)), probs, atol=1e-5)
    assert not np.allclose(logits.sum(axis=1), 1.0)
