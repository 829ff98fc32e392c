"""Realism yardstick for the built-in dataset: train on synthetic photos only, test on real ones.

    python bench/synth_to_real.py --real ../shared/realdata --json bench/results/synth_to_real.json
    python bench/synth_to_real.py --synth-only --json bench/results/synth_only.json

Trains a small SE-CNN (grayscale, light augmentation) on the generated set and reports accuracy
and a confusion matrix on the real photos of chair, office_chair and sofa (there are no real
benches), predictions restricted to those three classes, so chance is 33 %. With --synth-only it
trains on the first 80 % of each class and tests on the rest (4 classes, chance 25 %): the
dataset should be learnable but not trivially so. The real photos are only read, never copied.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from selib.synth import CLASSES, generate  # noqa: E402

REAL_CLASSES = ("chair", "office_chair", "sofa")


def load_folder(root: Path, classes: tuple[str, ...], size: int, limit: int | None = None,
                cache: Path | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decode `root/<class>/*` to (N, size, size) uint8, squashed like the seed report."""
    if cache is not None and cache.is_file():
        z = np.load(cache, allow_pickle=False)
        return z["x"], z["y"], list(z["paths"])
    files = [(p, k) for k, c in enumerate(classes) if (root / c).is_dir()
             for p in sorted((root / c).iterdir())[:limit] if p.suffix.lower() in (".jpg", ".jpeg", ".png")]

    def read(item):
        path, _ = item
        img = cv2.imread(str(path), cv2.IMREAD_REDUCED_GRAYSCALE_2)
        if img is None or min(img.shape) < size:
            img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            return None
        return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)

    with ThreadPoolExecutor(4) as ex:
        imgs = list(ex.map(read, files))
    keep = [i for i, im in enumerate(imgs) if im is not None]
    x = np.stack([imgs[i] for i in keep])
    y = np.array([files[i][1] for i in keep], dtype=np.int64)
    paths = [str(files[i][0]) for i in keep]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, y=y, paths=np.array(paths))
    return x, y, paths


def small_se_cnn(size: int, n_classes: int, width: int = 24):
    """Four conv stages with Squeeze-and-Excitation, global pooling, softmax; ~0.4 M parameters."""
    import keras
    from keras import layers
    try:
        from selib.layers.squeeze_excite import SqueezeExcite
    except ImportError:  # the yardstick must not depend on the rest of selib being importable
        SqueezeExcite = None
    inp = keras.Input((size, size, 1))
    x = layers.Rescaling(1 / 255.0)(inp)
    x = layers.RandomFlip("horizontal")(x)
    x = layers.RandomTranslation(0.1, 0.1, fill_mode="reflect")(x)
    x = layers.RandomZoom((-0.15, 0.15), fill_mode="reflect")(x)
    x = layers.RandomContrast(0.3)(x)
    for i, f in enumerate((width, 2 * width, 4 * width, 8 * width)):
        for _ in range(1 if i == 0 else 2):
            x = layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        if SqueezeExcite is not None and i > 0:
            x = SqueezeExcite(8)(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    out = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inp, out)


def train(x: np.ndarray, y: np.ndarray, size: int, epochs: int, seed: int, batch: int = 32):
    import keras
    keras.utils.set_random_seed(seed)
    model = small_se_cnn(size, len(CLASSES))
    steps = epochs * int(np.ceil(len(x) / batch))
    lr = keras.optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.05)
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[..., None], y, batch_size=batch, epochs=epochs, verbose=2, shuffle=True)
    return model


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def _print_matrix(m: np.ndarray, names: list[str]) -> None:
    w = max(len(s) for s in names) + 2
    print(" " * w + "".join(f"{s[:10]:>12}" for s in names) + "   <- predicted")
    for name, row in zip(names, m):
        print(f"{name:<{w}}" + "".join(f"{v:>12d}" for v in row))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data/synthchairs", help="synthetic set (generated if absent)")
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0, help="dataset seed")
    ap.add_argument("--real", default="../shared/realdata", help="real photos: <real>/<class>/*.jpg")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--train-seed", type=int, default=1)
    ap.add_argument("--synth-only", action="store_true", help="80/20 split of the synthetic set")
    ap.add_argument("--real-cache", default=None, help="npz cache of the decoded real photos")
    ap.add_argument("--json", type=Path, help="write the result here (with machine and command)")
    args = ap.parse_args(argv)

    command = "python bench/synth_to_real.py " + " ".join(sys.argv[1:] if argv is None else argv)
    t0 = time.time()
    data = generate(args.data, per_class=args.per_class, seed=args.seed)
    t_gen = time.time() - t0
    x, y, _ = load_folder(Path(data), CLASSES, args.size)
    result: dict = {"data": str(data), "per_class": args.per_class, "size": args.size,
                    "epochs": args.epochs, "generate_s": round(t_gen, 1)}
    if args.synth_only:
        rank = np.concatenate([np.arange((y == k).sum()) for k in range(len(CLASSES))])
        test = rank >= 0.8 * args.per_class
        t1 = time.time()
        model = train(x[~test], y[~test], args.size, args.epochs, args.train_seed)
        pred = model.predict(x[test][..., None], verbose=0).argmax(1)
        m = confusion(y[test], pred, len(CLASSES))
        acc = float(np.trace(m) / m.sum())
        print(f"\nsynth-only test accuracy (4 classes, chance 25 %): {acc:.1%}  "
              f"[train {int((~test).sum())}, test {int(test.sum())}, {time.time() - t1:.0f} s]")
        _print_matrix(m, list(CLASSES))
        result.update(mode="synth-only", accuracy=acc, confusion=m.tolist(), classes=list(CLASSES),
                      train_s=round(time.time() - t1, 1), n_test=int(test.sum()))
    else:
        real = Path(args.real)
        if not real.is_dir():
            print(f"no real photos at {real}", file=sys.stderr)
            return 2
        t1 = time.time()
        model = train(x, y, args.size, args.epochs, args.train_seed)
        train_s = time.time() - t1
        cache = Path(args.real_cache) if args.real_cache else None
        xr, yr, _ = load_folder(real, REAL_CLASSES, args.size, cache=cache)
        probs = model.predict(xr[..., None], verbose=0)
        cols = [CLASSES.index(c) for c in REAL_CLASSES]        # restrict to the real classes
        pred = probs[:, cols].argmax(1)
        m = confusion(yr, pred, len(REAL_CLASSES))
        acc = float(np.trace(m) / m.sum())
        raw = probs.argmax(1)
        bench_share = float(np.mean(raw == CLASSES.index("bench")))
        print(f"\nsynth -> real accuracy, 3 real classes (chair, office_chair, sofa; chance 33 %): "
              f"{acc:.1%} on {len(yr)} photos  [train {train_s:.0f} s]")
        _print_matrix(m, list(REAL_CLASSES))
        print(f"(unrestricted, {bench_share:.1%} of the real photos would have been called 'bench')")
        result.update(mode="synth-to-real", accuracy=acc, confusion=m.tolist(),
                      classes=list(REAL_CLASSES), n_real=int(len(yr)), train_s=round(train_s, 1),
                      bench_share=bench_share)
    C.write_json(args.json, {"machine": C.machine_info(), "command": command, **result})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
