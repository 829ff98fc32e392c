"""Evaluation: accuracy, confusion, the seed report's worst pairs, the errors — on any backend.

selib's models take raw uint8 images (their preprocessing is inside), so evaluating is
``model.predict`` on the uint8 array, batched, with an optional horizontal-flip average.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

import keras

from selib.errors import ClassMismatchError, ModelFileError

__all__ = ["Evaluation", "ClassMismatchError", "predict_proba", "evaluate", "check_class_names",
           "binomial_interval"]


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


def predict_proba(model: keras.Model, x: np.ndarray, batch_size: int = 64, tta: bool = False) -> np.ndarray:
    """Class probabilities for uint8 images; ``tta`` averages the prediction with that of the
    horizontally flipped image (a chair mirrored is still a chair). A model that outputs NaN
    or infinity is an error, never a "sofa nan %" answer."""
    x = np.asarray(x)
    if not len(x):
        return np.zeros((0, int(model.output_shape[-1])))
    p = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)
    if tta:
        p = 0.5 * (p + np.asarray(model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0),
                                  dtype=np.float64))
    if not np.isfinite(p).all():
        raise ModelFileError("the model outputs NaN or infinite probabilities: its weights are not "
                             "finite (a diverged training run); retrain with a lower learning rate")
    return p


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


def binomial_interval(accuracy: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of an accuracy measured on ``n`` images (as fractions).

    One test image is ``1/n`` of the accuracy; the interval says how far the measured accuracy
    may be from the model's true one from the test set's size alone.
    """
    from scipy.stats import binomtest

    if n <= 0:
        return float("nan"), float("nan")
    ci = binomtest(int(round(accuracy * n)), n).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)
