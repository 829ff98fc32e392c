"""Use a trained model on new photos exactly as it was trained: one path for the CLI and notebooks.

A run folder holds ``model.keras`` (which takes raw uint8 images: its preprocessing is inside)
and ``preprocessing.json`` (the size, colour, fit and class names the photos were prepared
with). :class:`Predictor` reads both, so a new photo is decoded, resized and coloured the way
the training photos were — never guessed back from the model's input shape.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import keras
import numpy as np

from selib.errors import DecodeError, ModelFileError

__all__ = ["Predictor", "Prediction"]

SPEC_FILE = "preprocessing.json"


@dataclass
class Prediction:
    """One image's result: the top classes with probabilities, or why it could not be read."""

    image: str
    top: list[tuple[str, float]] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        if self.error is not None:
            return {"image": self.image, "error": self.error}
        return {"image": self.image, "top": [{"class": c, "probability": round(p, 4)} for c, p in self.top]}


@dataclass
class Predictor:
    """A saved model plus its preprocessing spec."""

    model: keras.Model
    spec: dict

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Predictor":
        """From a run folder, or from the ``model.keras`` inside one.

        Every file is checked before use: against the fingerprints the run recorded (a run
        folder without them is trusted as it is), and ``preprocessing.json`` against the
        manifest and the model's input — so a reordered class list or a wrong size or colour is
        refused in one line instead of giving wrong labels."""
        from selib.training.run_io import load_model

        path = Path(path)
        folder = path if path.is_dir() else path.parent
        model_path = path / "model.keras" if path.is_dir() else path
        spec_path = folder / SPEC_FILE
        if not spec_path.is_file():
            raise ModelFileError(f"{spec_path} is missing: {folder} is not a selib run folder "
                                 "(run folders from selib before 0.2 are not supported; retrain)")
        manifest = _check_recorded(folder, model_path)
        try:
            spec = json.loads(spec_path.read_text())
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{spec_path} is damaged ({exc})") from exc
        _check_spec(spec, spec_path, manifest)
        model = load_model(model_path)
        n_out = int(model.output_shape[-1])
        if len(spec.get("class_names", [])) != n_out:
            raise ModelFileError(f"{spec_path} names {len(spec.get('class_names', []))} classes but "
                                 f"the model predicts {n_out}: the run folder is inconsistent")
        want = (*map(int, spec["image_size"]), 1 if spec["color"] == "grayscale" else 3)
        if tuple(model.input_shape[1:]) != want:
            raise ModelFileError(f"{spec_path} describes {want[0]}x{want[1]} {spec['color']} images but the "
                                 f"model takes {tuple(model.input_shape[1:])}: the run folder is inconsistent")
        return cls(model, spec)

    @property
    def class_names(self) -> list[str]:
        return list(self.spec["class_names"])

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.spec["image_size"]
        return int(h), int(w)

    def prepare(self, path: str | os.PathLike) -> np.ndarray:
        """One photo as the model's uint8 input; never opens a FIFO or device (it could hang)."""
        from selib.data.loading import decode_image

        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise DecodeError(f"cannot read: {exc.strerror}") from exc
        if stat.S_ISDIR(mode):
            raise DecodeError("is a folder, not an image file (use `selib evaluate` for a folder)")
        if not stat.S_ISREG(mode):
            raise DecodeError("not a regular file (a pipe, socket or device)")
        return decode_image(path, size=self.size, color=self.spec["color"], fit=self.spec["fit"])

    def predict_proba(self, images: np.ndarray, tta: bool | None = None) -> np.ndarray:
        """Probabilities for uint8 images prepared by :meth:`prepare` (or loaded the same way)."""
        from selib.analysis.evaluation import predict_proba

        return predict_proba(self.model, images, tta=self.spec.get("tta", False) if tta is None else tta)

    def predict_files(self, paths: Sequence[str | os.PathLike], top_k: int = 3,
                      tta: bool | None = None) -> list[Prediction]:
        """Top-k classes for each file; an unreadable file gets its reason, the rest go on."""
        results, ready, images = [], [], []
        for p in paths:
            try:
                images.append(self.prepare(p))
                ready.append(len(results))
                results.append(Prediction(str(p)))
            except DecodeError as exc:
                results.append(Prediction(str(p), error=str(exc).splitlines()[0]))
        if images:
            probs = self.predict_proba(np.stack(images), tta)
            names = self.class_names
            for k, p in zip(ready, probs):
                top = np.argsort(p)[::-1][:top_k]
                results[k].top = [(names[i], float(p[i])) for i in top]
        return results

    def evaluate_folder(self, data_dir: str | os.PathLike, tta: bool | None = None, *,
                        use_cache: bool = True):
        """Evaluate on a folder of ``<class>/<image>`` photos prepared the training way.

        The folder may hold a subset of the trained classes (never a class the model has not
        seen: a one-line :class:`~selib.errors.ClassMismatchError`); its labels are mapped onto
        the model's class indices. Returns ``(Evaluation, LoadedImages)``.
        """
        from selib.analysis.evaluation import check_class_names, evaluate
        from selib.data.loading import load_images
        from selib.data.scanning import scan

        trained = self.class_names
        result = scan(data_dir)
        check_class_names(trained, result.class_names, allow_subset=True)
        loaded = load_images(result, size=self.size, color=self.spec["color"], fit=self.spec["fit"],
                             use_cache=use_cache)
        labels = np.array([trained.index(loaded.class_names[i]) for i in loaded.labels], dtype=int)
        tta = self.spec.get("tta", False) if tta is None else tta
        return evaluate(self.model, loaded.images, labels, trained, tta=tta), loaded


def _check_recorded(folder: Path, model_path: Path) -> dict | None:
    """The run's manifest (``None``: a bare model folder), after checking the model and
    preprocessing.json against their recorded fingerprints; a mismatch is one line."""
    from selib.errors import RunFolderError
    from selib.training.integrity import problems
    from selib.training.run_folder import RunFolder

    run = RunFolder(folder)
    try:
        manifest, expected = run.manifest(), run.expected_files()
    except RunFolderError as exc:
        raise ModelFileError(str(exc)) from exc
    names = [SPEC_FILE, *(["model.keras"] if model_path.name == "model.keras" else [])]
    bad = problems(folder, {n: expected.get(n) for n in names if expected.get(n)})
    if bad:
        raise ModelFileError(f"{folder} is damaged: {'; '.join(bad)}; run the same `selib train` to "
                             "repair what can be re-derived")
    return manifest


def _check_spec(spec, spec_path: Path, manifest: dict | None) -> None:
    """preprocessing.json has every key with a usable value, and says what the manifest says."""
    from selib.training.config import CHOICES

    size = spec.get("image_size") if isinstance(spec, dict) else None
    names = spec.get("class_names") if isinstance(spec, dict) else None
    why = ("it is not a JSON object" if not isinstance(spec, dict) else
           "image_size must be [height, width]" if not (isinstance(size, list) and len(size) == 2 and all(
               isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)) else
           f"color must be one of {', '.join(CHOICES['color'])}" if spec.get("color") not in CHOICES["color"] else
           f"fit must be one of {', '.join(CHOICES['fit'])}" if spec.get("fit") not in CHOICES["fit"] else
           "class_names must be a list of names" if not (isinstance(names, list) and names and all(
               isinstance(n, str) for n in names)) else None)
    if why:
        raise ModelFileError(f"{spec_path} is damaged ({why})")
    if not manifest:
        return
    data = manifest.get("config", {}).get("data", {})
    recorded = {"class_names": manifest.get("class_names"), "color": data.get("color"), "fit": data.get("fit"),
                "image_size": [data["image_size"]] * 2 if "image_size" in data else None}
    differ = [k for k, v in recorded.items() if v is not None and spec.get(k) != v]
    if differ:
        raise ModelFileError(f"{spec_path} disagrees with the run's manifest ({', '.join(differ)}): "
                             "the run folder is inconsistent; run the same `selib train` to re-derive it")
