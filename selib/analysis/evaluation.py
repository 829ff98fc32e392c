"""Evaluation: accuracy, confusion, the seed report's worst pairs, errors, excitations, Grad-CAM."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from selib._quiet import import_tensorflow_quietly

tf = import_tensorflow_quietly()
import keras  # noqa: E402

from selib.data.splits import to_float  # noqa: E402
from selib.layers.squeeze_excite import se_layers  # noqa: E402


class ClassMismatchError(ValueError):
    """A model evaluated on a folder whose class names differ from the ones it was trained on."""


@dataclass
class Evaluation:
    """Everything the report printed, as data."""

    accuracy: float
    loss: float
    y_true: np.ndarray
    y_pred: np.ndarray
    probs: np.ndarray
    class_names: list[str]

    @property
    def confusion(self) -> np.ndarray:
        from sklearn.metrics import confusion_matrix

        return confusion_matrix(self.y_true, self.y_pred, labels=range(len(self.class_names)))

    def report(self) -> str:
        """scikit-learn's per-class precision / recall / F1."""
        from sklearn.metrics import classification_report

        return classification_report(self.y_true, self.y_pred, labels=range(len(self.class_names)),
                                     target_names=self.class_names, digits=3, zero_division=0)

    def worst_pairs(self, k: int = 3) -> list[tuple[str, str, int, float]]:
        """The most frequent (true, predicted) confusions: count and % of the true class."""
        cm = self.confusion
        totals = cm.sum(axis=1)
        pairs = [(self.class_names[t], self.class_names[p], int(cm[t, p]),
                  100.0 * cm[t, p] / max(1, totals[t]))
                 for t in range(len(cm)) for p in range(len(cm)) if t != p and cm[t, p] > 0]
        return sorted(pairs, key=lambda r: (-r[2], -r[3]))[:k]

    def worst_pairs_text(self, k: int = 2) -> str:
        """In the seed report's format: ``Bench/Chair (7 cnt, 15 %), Sofa/Office_Chair (8 cnt, 22 %)``."""
        title = lambda s: "_".join(w.capitalize() for w in s.split("_"))
        return ", ".join(f"{title(t)}/{title(p)} ({n} cnt, {pct:.0f} %)"
                         for t, p, n, pct in self.worst_pairs(k)) or "none"

    def misclassified(self, paths: Sequence[str] | None = None) -> pd.DataFrame:
        """index, true, predicted, confidence (and path) of every error, most confident first."""
        wrong = np.flatnonzero(self.y_true != self.y_pred)
        df = pd.DataFrame({
            "index": wrong,
            "true": [self.class_names[i] for i in self.y_true[wrong]],
            "predicted": [self.class_names[i] for i in self.y_pred[wrong]],
            "confidence": self.probs[wrong, self.y_pred[wrong]].round(4),
        })
        if paths is not None:
            df["path"] = [paths[i] for i in wrong]
        return df.sort_values("confidence", ascending=False).reset_index(drop=True)

    def summary(self) -> str:
        """The report's lines: accuracy and loss, then the worst pairs."""
        return (f"Test accuracy: {100 * self.accuracy:.2f} %   Test loss: {self.loss:.4f}\n"
                f"Worst confusions: {self.worst_pairs_text()}")


def _as_float(x: np.ndarray) -> np.ndarray:
    """uint8 images to the model's [0, 1] floats; anything else is taken as already scaled."""
    x = np.asarray(x)
    return to_float(x) if x.dtype == np.uint8 else x


def predict_proba(model: keras.Model, x: np.ndarray, batch_size: int = 64, tta: bool = False) -> np.ndarray:
    """Class probabilities for uint8 (or already scaled float) images; ``tta`` averages the
    prediction with that of the horizontally flipped image (a chair mirrored is still a chair)."""
    probs = []
    for i in range(0, len(x), batch_size):
        xb = _as_float(x[i:i + batch_size])
        p = np.asarray(model(xb, training=False), dtype=np.float64)
        if tta:
            p = 0.5 * (p + np.asarray(model(xb[:, :, ::-1, :], training=False), dtype=np.float64))
        probs.append(p)
    if not probs:
        return np.zeros((0, int(model.output_shape[-1])))
    return np.concatenate(probs)


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray, class_names: Sequence[str],
             batch_size: int = 64, tta: bool = False) -> Evaluation:
    """Accuracy and categorical cross-entropy on ``x`` (uint8) with integer or one-hot ``y``."""
    y = np.asarray(y)
    y_true = y.argmax(axis=1) if y.ndim == 2 else y.astype(int)
    if int(model.output_shape[-1]) != len(class_names):
        raise ClassMismatchError(f"the model predicts {model.output_shape[-1]} classes but "
                                 f"{len(class_names)} class names were given")
    probs = predict_proba(model, x, batch_size, tta)
    y_pred = probs.argmax(axis=1)
    p_true = np.clip(probs[np.arange(len(y_true)), y_true], 1e-7, 1.0)
    return Evaluation(float(np.mean(y_pred == y_true)) if len(y_true) else float("nan"),
                      float(-np.log(p_true).mean()) if len(y_true) else float("nan"),
                      y_true, y_pred, probs, list(class_names))


def check_class_names(trained: Sequence[str], found: Sequence[str], allow_subset: bool = False) -> None:
    """Raise a one-line :class:`ClassMismatchError` unless the folder has the trained classes.

    ``allow_subset`` accepts a folder holding only some of them (evaluating on fewer classes is
    fine; a class the model never saw is not)."""
    unknown = [c for c in found if c not in trained]
    if unknown or (not allow_subset and list(trained) != list(found)):
        extra = f" ({', '.join(unknown)} unknown)" if unknown else ""
        raise ClassMismatchError(f"class names differ: the model was trained on {list(trained)} "
                                 f"but the folder has {list(found)}{extra}")


# ---------------------------------------------------------------------------------------------
# Excitations (the paper's Fig. 6/7) and Grad-CAM.
# ---------------------------------------------------------------------------------------------
def excitation_stats(model: keras.Model, x: np.ndarray, y: np.ndarray, class_names: Sequence[str],
                     batch_size: int = 64) -> pd.DataFrame:
    """Mean and std of every SE block's channel gates per class (long format).

    Columns: block (SE layer name), depth (0..n-1 in graph order), class, channel, mean, std.
    The paper's finding: early blocks excite the same channels for every class
    (class-agnostic), late blocks become class-specific.
    """
    y = np.asarray(y)
    y = y.argmax(axis=1) if y.ndim == 2 else y.astype(int)
    layers_ = se_layers(model)
    if not layers_:
        raise ValueError("the model has no SqueezeExcite layers")
    probe = keras.Model(model.input, [layer.input for layer in layers_])
    gates: list[list[np.ndarray]] = [[] for _ in layers_]
    for i in range(0, len(x), batch_size):
        feats = probe(_as_float(x[i:i + batch_size]), training=False)
        feats = feats if isinstance(feats, (list, tuple)) else [feats]
        for k, (layer, f) in enumerate(zip(layers_, feats)):
            gates[k].append(np.asarray(layer.excite(f), dtype=np.float64))
    rows = []
    for depth, (layer, g) in enumerate(zip(layers_, gates)):
        g = np.concatenate(g)
        for c, name in enumerate(class_names):
            sel = g[y == c]
            if not len(sel):
                continue
            mean, std = sel.mean(axis=0), sel.std(axis=0)
            rows.append(pd.DataFrame({"block": layer.name, "depth": depth, "class": name,
                                      "channel": np.arange(g.shape[1]), "mean": mean, "std": std}))
    return pd.concat(rows, ignore_index=True)


def class_specificity(stats: pd.DataFrame) -> pd.DataFrame:
    """Per SE block: how much the mean gates differ between classes.

    ``spread`` is the std over classes of the per-class mean gate, averaged over channels,
    relative to the mean gate — near 0 means class-agnostic, larger means class-specific.
    """
    rows = []
    for (depth, block), g in stats.groupby(["depth", "block"], sort=True):
        table = g.pivot(index="channel", columns="class", values="mean")
        spread = float((table.std(axis=1) / (table.mean(axis=1).abs() + 1e-8)).mean())
        rows.append({"depth": depth, "block": block, "channels": len(table), "spread": spread})
    return pd.DataFrame(rows)


def last_conv_layer(model: keras.Model) -> str:
    """Name of the last layer with a 4-D output before global pooling (Grad-CAM's target)."""
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None)
        if shape is not None and len(layer.output.shape) == 4:
            return layer.name
    raise ValueError("no 4-D feature map found for Grad-CAM")


def grad_cam(model: keras.Model, x: np.ndarray, class_index: Sequence[int] | None = None,
             layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heat maps (N, H, W) in [0, 1] at the input resolution.

    Gradients of the chosen class's logit (pre-softmax, so saturation does not flatten them)
    with respect to the last feature map, averaged spatially to weight its channels.
    """
    layer_name = layer_name or last_conv_layer(model)
    logits_layer = model.get_layer("logits") if "logits" in [l.name for l in model.layers] else model.layers[-1]
    grad_model = keras.Model(model.input, [model.get_layer(layer_name).output, logits_layer.output])
    xb = tf.convert_to_tensor(_as_float(x))
    with tf.GradientTape() as tape:
        fmap, logits = grad_model(xb, training=False)
        idx = tf.argmax(logits, axis=1) if class_index is None else tf.constant(list(class_index))
        chosen = tf.gather(logits, tf.cast(idx, tf.int32), axis=1, batch_dims=1)
    grads = tape.gradient(chosen, fmap)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * fmap, axis=-1))
    cam = cam / (tf.reduce_max(cam, axis=(1, 2), keepdims=True) + 1e-8)
    cam = tf.image.resize(cam[..., None], tuple(np.asarray(x).shape[1:3]))[..., 0]
    return cam.numpy()
