"""The `selib` command line: synth, inspect, train, evaluate, predict, run-series, facts.

Errors a user can fix (a missing folder, a class-name mismatch, an unreadable image) are one
clear line on stderr and exit status 2, not a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


class CLIError(Exception):
    """A user-facing error: printed as one line."""


# ---------------------------------------------------------------------------------------------
def _synth(args) -> int:
    from selib.synth import generate

    out = generate(args.out, per_class=args.per_class, seed=args.seed, workers=args.workers,
                   progress=not args.quiet)
    print(f"built-in dataset ready at {out}")
    return 0


def _inspect(args) -> int:
    from selib.data.scanning import scan, summarize

    result = scan(args.data)
    if args.json:
        s = summarize(result)
        print(json.dumps({"class_names": result.class_names, "seen": result.n_seen,
                          "loaded": int(len(result.ok)), "skipped": result.skipped[["rel_path", "reason"]]
                          .to_dict("records"), "summary": str(s)}, indent=2, default=str))
    else:
        print(result.report())
        print(summarize(result))
    return 0


def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise CLIError(f"--set expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def _train(args) -> int:
    from selib.training.profiles import resolve_profile

    config = resolve_profile(args.profile)
    changes = {k: v for k, v in dict(epochs=args.epochs, image_size=args.image_size,
                                     batch_size=args.batch_size, learning_rate=args.lr,
                                     seed=args.seed, color=args.color).items() if v is not None}
    changes.update(_parse_set(args.set))
    config = config.replace(**changes)
    data = Path(args.data)
    if not data.is_dir():
        raise CLIError(f"data folder not found: {data}")
    from selib.training.trainer import train

    out = Path(args.out or Path("runs") / config.name)
    result = train(config, data, out, verbose=args.verbose, tensorboard=args.tensorboard)
    m = result.metrics
    print(f"run saved in {out}/ (model.keras, history.csv, metrics.json, config.json)")
    if "test_accuracy" in m:
        print(f"test accuracy {100 * m['test_accuracy']:.2f} %  loss {m['test_loss']:.4f}  "
              f"({m['epochs_run']} epochs, {m['train_seconds']:.0f} s of training)")
        print(f"worst confusions: {m['worst_pairs']}")
    return 0


def _model_info(model_path: Path):
    """Model, its input size/colour/fit, and the class names it was trained on."""
    import keras

    from selib.training.config import TrainConfig
    from selib.training.trainer import run_class_names

    if not model_path.is_file():
        raise CLIError(f"model file not found: {model_path}")
    model = keras.saving.load_model(model_path, safe_mode=True)
    _, h, w, c = model.input_shape
    fit = "squash"
    cfg_path = model_path.parent / "config.json"
    if cfg_path.exists():
        fit = TrainConfig.load(cfg_path).fit
    names = run_class_names(model_path.parent)
    if names is None:
        names = [f"class_{i}" for i in range(int(model.output_shape[-1]))]
    return model, (int(h), int(w)), ("grayscale" if c == 1 else "rgb"), fit, names


def _evaluate(args) -> int:
    import numpy as np

    from selib.analysis.evaluation import check_class_names, evaluate
    from selib.data.loading import load_images
    from selib.data.scanning import scan

    model, size, color, fit, trained = _model_info(Path(args.model))
    result = scan(args.data)
    check_class_names(trained, result.class_names, allow_subset=True)
    loaded = load_images(result, size=size, color=color, fit=fit)
    # map the folder's class indices onto the model's (a folder may hold a subset of classes)
    labels = np.array([trained.index(loaded.class_names[i]) for i in loaded.labels], dtype=int)
    ev = evaluate(model, loaded.images, labels, trained, tta=args.tta)
    print(loaded.report().splitlines()[0])
    print(ev.summary())
    print(ev.report())
    out = Path(args.out) if args.out else Path(args.model).parent / f"eval_{Path(args.data).name}"
    out.mkdir(parents=True, exist_ok=True)
    metrics = {"data": str(args.data), "accuracy": ev.accuracy, "loss": ev.loss,
               "class_names": trained, "confusion": ev.confusion.tolist(),
               "worst_pairs": ev.worst_pairs_text(), "n": int(len(labels)),
               "skipped": int(len(loaded.skipped))}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    ev.misclassified(loaded.paths).to_csv(out / "misclassified.csv", index=False)
    if not args.no_figures:
        from selib.plots import figures as plots

        plots.save_figure(plots.confusion_matrix(ev), out / "confusion_matrix.png")
    print(f"written: {out}/metrics.json, misclassified.csv")
    return 0


def _predict(args) -> int:
    import numpy as np

    from selib.analysis.evaluation import predict_proba
    from selib.data.loading import decode_image

    model, size, color, fit, names = _model_info(Path(args.model))
    results, failed = [], 0
    for path in args.images:
        try:
            img = decode_image(path, size=size, color=color, fit=fit)
        except (ValueError, OSError) as exc:  # DecodeError is a ValueError
            failed += 1
            results.append({"image": path, "error": str(exc).splitlines()[0]})
            continue
        p = predict_proba(model, img[None], tta=args.tta)[0]
        top = np.argsort(p)[::-1][: args.top_k]
        results.append({"image": path, "top": [{"class": names[i], "probability": round(float(p[i]), 4)}
                                               for i in top]})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "error" in r:
                print(f"{r['image']}: error: {r['error']}", file=sys.stderr)
            else:
                print(f"{r['image']}: " + ", ".join(f"{t['class']} {100 * t['probability']:.1f} %"
                                                   for t in r["top"]))
    return 1 if failed == len(args.images) else 0


def _run_series(args) -> int:
    from selib.series import run_series

    return run_series(only=args.only, profile=args.profile, data_dir=args.data, out=args.out,
                      keep_outputs=args.keep_outputs)


def _facts(args) -> int:
    """Print the parameter-count facts the tests check."""
    from selib import count_se_params, se_param_count, se_resnet18, se_resnet50, seed_model

    seed = seed_model()
    print(f"seed_model() at 473x473x1, 4 classes: {seed.count_params():,} parameters")
    print(f"SE-ResNet-18 (preact) at 473x473x1:    {se_resnet18((473, 473, 1), 4).count_params():,}")
    base = se_resnet50(style="v1", ratio=None).count_params()
    print(f"ResNet-50 (v1, no SE):                 {base:,}")
    for r in (2, 4, 8, 16, 32):
        m = se_resnet50(style="v1", ratio=r)
        print(f"SE-ResNet-50 r={r:<2}: {m.count_params() / 1e6:6.2f} M "
              f"(SE {count_se_params(m):,}; formula "
              f"{se_param_count([(3, 256), (4, 512), (6, 1024), (3, 2048)], r):,})")
    return 0


# ---------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="selib", description="Squeeze-and-Excitation networks: "
                                "data, training, evaluation and the notebook series.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="render the built-in procedural furniture dataset")
    s.add_argument("--out", default="data/synthchairs")
    s.add_argument("--per-class", type=int, default=300)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=None)
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=_synth)

    s = sub.add_parser("inspect", help="scan a photo folder: counts, sizes, skipped files")
    s.add_argument("data")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_inspect)

    s = sub.add_parser("train", help="train a profile on a folder into a run directory")
    s.add_argument("--data", required=True)
    s.add_argument("--profile", default=None, help="ci | quick | cpu | seed | gpu | auto (default: $SELIB_PROFILE or auto)")
    s.add_argument("--out", default=None, help="run directory (default runs/<profile>)")
    s.add_argument("--epochs", type=int)
    s.add_argument("--image-size", type=int)
    s.add_argument("--batch-size", type=int)
    s.add_argument("--lr", type=float)
    s.add_argument("--seed", type=int)
    s.add_argument("--color", choices=["grayscale", "rgb"])
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="any TrainConfig field (JSON value)")
    s.add_argument("--tensorboard", action="store_true")
    s.add_argument("--verbose", default="auto", help="Keras progress: 0, 1, 2 or auto")
    s.set_defaults(func=_train)

    s = sub.add_parser("evaluate", help="evaluate a saved model on a folder (class names must match)")
    s.add_argument("--model", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--out", default=None)
    s.add_argument("--tta", action="store_true", help="average with the horizontally flipped image")
    s.add_argument("--no-figures", action="store_true")
    s.set_defaults(func=_evaluate)

    s = sub.add_parser("predict", help="top-k classes for image files")
    s.add_argument("--model", required=True)
    s.add_argument("images", nargs="+")
    s.add_argument("--top-k", type=int, default=3)
    s.add_argument("--json", action="store_true")
    s.add_argument("--tta", action="store_true")
    s.set_defaults(func=_predict)

    s = sub.add_parser("run-series", help="the main job: execute the notebook series into runs/series")
    s.add_argument("--only", default=None, help="comma-separated notebook numbers, e.g. 01,02 or 06")
    s.add_argument("--profile", default=None)
    s.add_argument("--data", default=None, help="data folder (default: the built-in dataset)")
    s.add_argument("--out", default="runs/series")
    s.add_argument("--keep-outputs", action="store_true",
                   help="also write the executed notebooks back into notebooks/ (how the committed outputs are made)")
    s.set_defaults(func=_run_series)

    s = sub.add_parser("facts", help="print the model parameter counts checked by the tests")
    s.set_defaults(func=_facts)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("selib: interrupted", file=sys.stderr)
        return 130
    except (CLIError, ValueError, FileNotFoundError, NotADirectoryError, RuntimeError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"selib: error: {msg}", file=sys.stderr)
        return 2
