"""The `selib` command line: synth, inspect, cache, train, evaluate, predict, run-series, facts.

One error contract for every command:

* a mistake the user can fix (any :class:`~selib.errors.SelibError`: a bad flag value, a
  missing folder, a class-name mismatch, a run folder that holds another run, a damaged model
  file) and any ``OSError`` on the paths given (permissions, a full disk) prints one line,
  ``selib: error: <message>``, and exits with status **2**;
* ``selib predict`` prints a prediction for every readable image and one
  ``selib: error: <file>: <reason>`` line on stderr per unreadable one; it exits **1** when some
  images could not be read, **0** when all could;
* anything else is a bug in selib and keeps its traceback; ``--debug`` shows the traceback of a
  user error too.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from selib.errors import SelibError

EXIT_USER_ERROR = 2
EXIT_SOME_FAILED = 1


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in selib's one-line format and status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's API
        print(f"selib: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


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


def _cache(args) -> int:
    from selib.data.image_cache import clear_cache

    if not Path(args.data).is_dir():
        raise SelibError(f"cache clear: {args.data} is not a folder"
                         + ("" if Path(args.data).exists() else " (it does not exist)"))
    removed = clear_cache(args.data)
    print(f"removed {removed} cache file(s) for {args.data}")
    return 0


def train_config(args):
    """The profile with the command line's changes, each checked (one line if out of range)."""
    from selib.training.config import parse_assignment
    from selib.training.profiles import resolve_profile

    config = resolve_profile(args.profile)
    changes = {k: v for k, v in dict(epochs=args.epochs, image_size=args.image_size,
                                     batch_size=args.batch_size, learning_rate=args.lr,
                                     seed=args.seed, color=args.color).items() if v is not None}
    changes.update(parse_assignment(item) for item in args.set or [])
    return config.replace(**changes)


def _cluster(args) -> None:
    """``--workers a:p,b:p --task-index i``: the TF_CONFIG (TensorFlow) or JAX process group of a
    multi-worker run, set before any device is touched."""
    if not args.workers:
        return
    from selib.hardware import backend_name

    hosts = [h.strip() for h in args.workers.split(",") if h.strip()]
    if not 0 <= args.task_index < len(hosts):
        raise SelibError(f"--task-index must be in 0..{len(hosts) - 1} for {len(hosts)} workers")
    if backend_name() == "jax":
        import keras

        keras.distribution.initialize(",".join(hosts), len(hosts), args.task_index)
    else:
        os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": hosts},
                                              "task": {"type": "worker", "index": args.task_index}})


def _train(args) -> int:
    from selib.training.run_folder import RunFolder, refuse_out_inside_data

    config = train_config(args)
    _cluster(args)
    data = Path(args.data)
    if not data.is_dir():
        raise SelibError(f"data folder not found: {data}")
    out = Path(args.out or Path("runs") / config.name)
    refuse_out_inside_data(data, out)
    if not args.workers or args.task_index == 0:   # the chief: refuse a busy --out before any work
        with RunFolder(out).lock():
            pass
    from selib.training.trainer import train

    result = train(config, data, out, verbose=args.verbose, overwrite=args.overwrite,
                   use_cache=not args.no_cache)
    m = result.metrics
    print(f"run saved in {out}/ (model.keras, preprocessing.json, history.csv, metrics.json)")
    if "test_accuracy" in m:
        print(f"test accuracy {100 * m['test_accuracy']:.2f} %  loss {m['test_loss']:.4f}  "
              f"({m['epochs_run']} epochs, {m['train_seconds']:.0f} s of training)")
        print(f"worst confusions: {m['worst_pairs']}")
    return 0


def _evaluate(args) -> int:
    from selib.predictor import Predictor
    from selib.training.run_folder import write_json

    predictor = Predictor.load(args.model)
    ev, loaded = predictor.evaluate_folder(args.data, tta=args.tta or None, use_cache=not args.no_cache)
    print(loaded.report().splitlines()[0])
    print(ev.summary())
    print(ev.report())
    out = Path(args.out) if args.out else Path(args.model).parent / f"eval_{Path(args.data).name}"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", {
        "data": str(args.data), "accuracy": ev.accuracy, "loss": ev.loss, "class_names": ev.class_names,
        "confusion": ev.confusion.tolist(), "worst_pairs": ev.worst_pairs_text(), "n": int(len(ev.y_true)),
        "skipped": int(len(loaded.skipped))})
    ev.misclassified(loaded.paths).to_csv(out / "misclassified.csv", index=False)
    if not args.no_figures:
        from selib.plots import figures as plots

        plots.save_figure(plots.confusion_matrix(ev), out / "confusion_matrix.png")
    print(f"written: {out}/metrics.json, misclassified.csv")
    return 0


def _predict(args) -> int:
    from selib.predictor import Predictor

    if args.top_k < 1:
        raise SelibError(f"--top-k must be at least 1, got {args.top_k}")
    folders = [p for p in args.images if Path(p).is_dir()]
    if folders:
        raise SelibError(f"{folders[0]} is a folder: predict takes image files "
                         "(`selib evaluate --data FOLDER` tests a whole folder)")
    results = Predictor.load(args.model).predict_files(args.images, top_k=args.top_k,
                                                       tta=args.tta or None)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    for r in results:
        if not r.ok:
            print(f"selib: error: {r.image}: {r.error}", file=sys.stderr)
        elif not args.json:
            print(f"{r.image}: " + ", ".join(f"{c} {100 * p:.1f} %" for c, p in r.top))
    return 0 if all(r.ok for r in results) else EXIT_SOME_FAILED


def _run_series(args) -> int:
    from selib.series import run_series

    return run_series(only=args.only, profile=args.profile, data_dir=args.data, out=args.out,
                      keep_outputs=args.keep_outputs)


def _facts(args) -> int:
    """Print the parameter-count facts the tests check."""
    from selib import count_se_params, report_model, se_param_count, se_resnet18v2, se_resnet50

    print(f"report_model() at 473x473x1, 4 classes: {report_model().count_params():,} parameters")
    print(f"SE-ResNet-18 (preact) at 473x473x1:    {se_resnet18v2((473, 473, 1), 4).count_params():,}")
    print(f"ResNet-50 (v1, no SE):                 {se_resnet50(ratio=None).count_params():,}")
    for r in (2, 4, 8, 16, 32):
        m = se_resnet50(ratio=r)
        print(f"SE-ResNet-50 r={r:<2}: {m.count_params() / 1e6:6.2f} M "
              f"(SE {count_se_params(m):,}; formula "
              f"{se_param_count([(3, 256), (4, 512), (6, 1024), (3, 2048)], r):,})")
    return 0


def _settings(args) -> int:
    """Every setting with its group, value (the defaults, or ``--profile``'s) and allowed values."""
    from selib.training.config import settings_table

    config = None
    if args.profile:
        from selib.training.profiles import resolve_profile

        config = resolve_profile(args.profile)
    rows = settings_table(config)
    value = f"{config.name} profile" if config else "default"
    header = ("group", "setting", value, "allowed (`selib train --set SETTING=VALUE`)")
    widths = [max(len(r[k]) for r in (*rows, header)) for k in range(3)]
    for row in (header, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[3])
    return 0


# ---------------------------------------------------------------------------------------------
EXAMPLES = """\
examples:
  selib synth                                    # render the built-in dataset into data/synthchairs
  selib inspect data/synthchairs                 # what a photo folder holds, and what is skipped
  selib train --data data/synthchairs --profile quick
  selib train --data my_photos --profile cpu --set ratio=8 --out runs/r8
  selib evaluate --model runs/quick --data other_photos
  selib predict --model runs/quick photo1.jpg photo2.jpg --top-k 2
  selib settings --profile cpu                   # every --set key: type, range, value
  selib run-series                               # the notebook series (`make run`)
"""


def _profiles_help() -> str:
    from selib.training.profiles import PROFILES

    return (f"{' | '.join(PROFILES)} | auto (default: $SELIB_PROFILE, else auto: gpu with a GPU, "
            "cpu without)")


def _add_train(sub) -> None:
    s = sub.add_parser("train", help="train a profile on a folder into a run directory",
                       description="Train a profile on a folder of <class>/<image> photos into a run "
                       "folder;\nan interrupted run resumes, a finished one is returned as it is.",
                       epilog="example:\n  selib train --data data/synthchairs --profile quick --epochs 5",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--data", required=True, metavar="FOLDER", help="photo folder, one subfolder per class")
    s.add_argument("--profile", default=None, help=_profiles_help())
    s.add_argument("--out", default=None, metavar="RUN", help="run directory (default runs/<profile>)")
    s.add_argument("--epochs", type=int, help="number of epochs (the profile's by default)")
    s.add_argument("--image-size", type=int, metavar="PIXELS", help="side of the square input image")
    s.add_argument("--batch-size", type=int, help="images per training step")
    s.add_argument("--lr", type=float, metavar="RATE", help="peak learning rate (setting learning_rate)")
    s.add_argument("--seed", type=int, help="random seed of initial weights, batch order and augmentation "
                   "(the split has its own: --set split_seed=N)")
    s.add_argument("--color", choices=["grayscale", "rgb"], help="read the photos in grayscale or colour")
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="any setting (`selib settings` lists them); the value is JSON; repeatable")
    s.add_argument("--overwrite", action="store_true", help="replace a run of another config or data in --out")
    s.add_argument("--no-cache", action="store_true", help="decode every photo, ignore the image cache")
    s.add_argument("--workers", default=None, metavar="HOST:PORT,...",
                   help="multi-worker training: every worker's address, the same on every worker")
    s.add_argument("--task-index", type=int, default=0, help="this worker's index in --workers")
    s.add_argument("--verbose", default="auto", help="Keras progress: 0, 1, 2 or auto")
    s.set_defaults(func=_train)


def _add_use(sub) -> None:
    s = sub.add_parser("evaluate", help="evaluate a saved model on a folder (class names must match)")
    s.add_argument("--model", required=True, metavar="RUN", help="a run folder or its model.keras")
    s.add_argument("--data", required=True, metavar="FOLDER",
                   help="photo folder with some or all of the trained class names as subfolders")
    s.add_argument("--out", default=None, metavar="FOLDER",
                   help="where metrics.json, misclassified.csv and the figure go (default: "
                   "eval_<data folder name> in the run folder)")
    s.add_argument("--tta", action="store_true", help="average with the horizontally flipped image "
                   "(default: as the run was tested)")
    s.add_argument("--no-figures", action="store_true", help="skip the confusion-matrix figure")
    s.add_argument("--no-cache", action="store_true", help="decode every photo, ignore the image cache")
    s.set_defaults(func=_evaluate)

    s = sub.add_parser("predict", help="top-k classes for image files (exit 1 if some could not be read)")
    s.add_argument("--model", required=True, metavar="RUN", help="a run folder or its model.keras")
    s.add_argument("images", nargs="+", metavar="IMAGE", help="image files (a folder: use evaluate)")
    s.add_argument("--top-k", type=int, default=3, metavar="K", help="classes to show per image (default 3)")
    s.add_argument("--json", action="store_true", help="print the results as JSON")
    s.add_argument("--tta", action="store_true", help="average with the horizontally flipped image "
                   "(default: as the run was tested)")
    s.set_defaults(func=_predict)


def _add_data(sub) -> None:
    s = sub.add_parser("synth", help="render the built-in procedural furniture dataset")
    s.add_argument("--out", default="data/synthchairs", metavar="FOLDER",
                   help="where to write it (default data/synthchairs)")
    s.add_argument("--per-class", type=int, default=300, metavar="N", help="images per class (default 300)")
    s.add_argument("--seed", type=int, default=0, help="random seed of the scenes (default 0)")
    s.add_argument("--workers", type=int, default=None, metavar="N",
                   help="rendering processes (default: one per CPU core)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_synth)

    s = sub.add_parser("inspect", help="scan a photo folder: counts, sizes, skipped files")
    s.add_argument("data", metavar="FOLDER", help="photo folder, one subfolder per class")
    s.add_argument("--json", action="store_true", help="print the scan as JSON")
    s.set_defaults(func=_inspect)

    s = sub.add_parser("cache", help="the decoded-image cache of a folder: `selib cache clear DATA`")
    s.add_argument("action", choices=["clear"], help="clear: delete the folder's cache files")
    s.add_argument("data", metavar="FOLDER", help="the photo folder whose cache to clear")
    s.set_defaults(func=_cache)


def build_parser() -> argparse.ArgumentParser:
    from selib import __version__

    p = _Parser(prog="selib", description="Squeeze-and-Excitation networks: data, training, "
                "evaluation and the notebook series.", epilog=EXAMPLES,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"selib {__version__}")
    p.add_argument("--debug", action="store_true", help="show the traceback of a user error too")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    _add_data(sub)
    _add_train(sub)
    _add_use(sub)

    s = sub.add_parser("run-series", help="the main job: execute the notebook series into runs/series")
    s.add_argument("--only", default=None, help="comma-separated notebook numbers, e.g. 01,02 or 06")
    s.add_argument("--profile", default=None, help=_profiles_help())
    s.add_argument("--data", default=None, metavar="FOLDER", help="data folder (default: the built-in dataset)")
    s.add_argument("--out", default="runs/series", metavar="FOLDER",
                   help="executed notebooks, HTML and results (default runs/series)")
    s.add_argument("--keep-outputs", action="store_true",
                   help="also write the executed notebooks back into notebooks/ (how the committed outputs are made)")
    s.set_defaults(func=_run_series)

    s = sub.add_parser("facts", help="print the model parameter counts checked by the tests")
    s.set_defaults(func=_facts)
    s = sub.add_parser("settings", help="every training setting: group, type and range or choices, default")
    s.add_argument("--profile", default=None, help="show this profile's values instead of the defaults: "
                   + _profiles_help().split(" (")[0])
    s.set_defaults(func=_settings)
    return p


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.formatwarning = _one_line_warning
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("selib: interrupted", file=sys.stderr)
        return 130
    except (SelibError, OSError) as exc:
        if args.debug:
            raise
        print(f"selib: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR


def run() -> None:
    """The ``selib`` command: :func:`main`, then leave at once with its status.

    Python restores the default SIGINT handler while it shuts down, so a Ctrl-C in those last
    moments would kill the process without the one line and status 130 that selib promises
    (:mod:`selib._interrupt`). Everything selib writes is flushed and committed before
    :func:`main` returns, so nothing is lost by skipping the interpreter's own shutdown."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe: nothing more to deliver
            pass
    os._exit(code)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """A warning on the command line is one line too (``selib: warning: ...``), not two."""
    return f"selib: warning: {message}\n"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, SelibError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
