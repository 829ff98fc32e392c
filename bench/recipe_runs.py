"""Collect finished ``selib train`` runs of one profile's variants into one result file.

    python bench/recipe_runs.py --runs runs/cpu runs/pilot/cpu_s128_e20_seed42 runs/pilot/cpu_s112_e20_seed42 \\
        --json bench/results/cpu_recipe_synthchairs.json

Each run folder already holds what was trained (``config.json``), on what (``manifest.json``) and
what came out (``metrics.json``); this writes one row per run with the settings that differ
between them, the saved model's test accuracy and the training seconds, plus the command that
trains such a run (``selib train --profile P --set ...``) and the machine, so that
``bench/report.py`` can show the comparison with its provenance. It trains nothing itself.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

#: the settings a recipe comparison varies, and how ``selib train`` sets each
COMPARED = ("image_size", "epochs", "seed")


def row(run: Path) -> dict:
    """One finished run: its compared settings, accuracy, seconds and the command that makes it."""
    from selib.training.config import TrainConfig

    config = TrainConfig.load(run / "config.json")
    metrics = json.loads((run / "metrics.json").read_text())
    settings = {k: config.get(k) for k in COMPARED}
    cmd = (f"selib train --data data/synthchairs --profile {config.name} --seed {settings['seed']} "
           f"--set image_size={settings['image_size']} --epochs {settings['epochs']} --out runs/<folder>")
    return {"run": str(run.name), "profile": config.name, **settings,
            "test_accuracy": metrics["test_accuracy"], "n_test": metrics.get("n_test"),
            "train_seconds": metrics.get("train_seconds"), "best_epoch": metrics.get("best_epoch"),
            "precision": metrics.get("precision"), "command": cmd}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", nargs="+", type=Path, required=True, help="finished run folders")
    ap.add_argument("--json", type=Path, help="write the result here")
    a = ap.parse_args(argv)
    missing = [str(r) for r in a.runs if not (r / "metrics.json").is_file()]
    if missing:
        ap.error(f"not a finished run (no metrics.json): {', '.join(missing)}")
    res = {"machine": C.machine_info(), "command": "python bench/recipe_runs.py " + " ".join(argv or sys.argv[1:]),
           "data": "synthchairs", "rows": [row(r) for r in a.runs]}
    C.write_json(a.json, res)
    for r in res["rows"]:
        print(f"{r['image_size']}², {r['epochs']} epochs, seed {r['seed']}: {100 * r['test_accuracy']:.2f} % "
              f"in {r['train_seconds'] / 60:.1f} min")
    return res


if __name__ == "__main__":
    main()
