"""Collect finished ``selib train`` runs of one profile's variants into one result file, and
compare the variants over their seeds.

    python bench/recipe_runs.py --runs runs/cpu runs/pilot/cpu_e15_seed42 runs/pilot/cpu_e30_seed0 ... \\
        --json bench/results/cpu_recipe_synthchairs.json

Each run folder already holds what was trained (``config.json``) and what came out
(``metrics.json``, with the data set's fingerprint); this writes one row per run with the
settings that differ between them, the saved model's test accuracy and the training seconds,
plus the command that trains such a run (``selib train --profile P --set ...``) and the machine,
so that ``bench/report.py`` can show the comparison with its provenance. It trains nothing itself.

**The comparison.** Runs with the same settings but the seed are one *recipe*. Each recipe gets
its mean test accuracy with a 95 % t-interval over its seeds, and every other recipe its paired
difference to the reference recipe (the first run's) over the seeds both trained, with the
verdict read off that interval (:func:`selib.analysis.stats.effect_verdict`). Runs on different
data (another fingerprint, e.g. before the built-in set was re-rendered) are refused: their
accuracies do not compare.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

#: the settings a recipe comparison varies (besides the seed), and how ``selib train`` sets each
COMPARED = ("image_size", "epochs", "depth")


def _changes(config) -> dict:
    """The compared settings where ``config`` differs from its own profile, image size and epochs
    always (they are what a shorter recipe changes first)."""
    from selib.training.profiles import PROFILES

    own = PROFILES.get(config.name)
    return {k: config.get(k) for k in COMPARED
            if k in ("image_size", "epochs") or own is None or config.get(k) != own.get(k)}


def row(run: Path) -> dict:
    """One finished run: its compared settings, accuracy, seconds and the command that makes it."""
    from selib.training.config import TrainConfig

    config = TrainConfig.load(run / "config.json")
    metrics = json.loads((run / "metrics.json").read_text())
    changes = {k: list(v) if isinstance(v, tuple) else v for k, v in _changes(config).items()}
    sets = " ".join(f"--set {k}={json.dumps(v, separators=(',', ':'))}" for k, v in changes.items() if k != "epochs")
    cmd = (f"selib train --data data/synthchairs --profile {config.name} --seed {config.get('seed')} "
           f"{sets} --epochs {changes['epochs']} --out runs/<folder>")
    return {"run": str(run.name), "profile": config.name, "seed": config.get("seed"),
            **changes,
            "test_accuracy": metrics["test_accuracy"], "n_test": metrics.get("n_test"),
            "n_train": metrics.get("n_train"),
            "train_seconds": metrics.get("train_seconds"), "best_epoch": metrics.get("best_epoch"),
            "precision": metrics.get("precision"), "data_fingerprint": metrics["data"]["fingerprint"],
            "command": cmd}


def recipe_name(r: dict) -> str:
    """What a row's recipe is called: its compared settings but the seed."""
    depth = f", blocks per stage {'-'.join(map(str, r['depth']))}" if r.get("depth") else ""
    return f"{r['image_size']}², {r['epochs']} epochs{depth}"


def compare(rows: list[dict]) -> list[dict]:
    """Each recipe over its seeds, in the order first seen; the first is the reference. Accuracies
    and differences are in percentage points; ``images_share`` is how many images the recipe
    trains on (epochs × training images) against the reference, its exact cost in steps."""
    from selib.analysis.stats import effect_verdict, paired_difference

    by: dict[str, dict[int, dict]] = {}
    for r in rows:
        by.setdefault(recipe_name(r), {})[r["seed"]] = r
    ref_name, ref = next(iter(by.items()))
    out = []
    for name, seeds in by.items():
        acc = [100 * seeds[s]["test_accuracy"] for s in sorted(seeds)]
        own = paired_difference(acc, [0.0] * len(acc))   # the mean's t-interval, as main_job gives it
        first, ref_first = next(iter(seeds.values())), next(iter(ref.values()))
        entry = {"recipe": name, "image_size": first["image_size"], "epochs": first["epochs"],
                 "seeds": sorted(seeds),
                 # the exact cost: images trained on, against the reference's (timings move with the load)
                 "images_share": (first["epochs"] * first["n_train"]) / (ref_first["epochs"] * ref_first["n_train"])
                 if first.get("n_train") and ref_first.get("n_train") else None,
                 "mean_accuracy": own.mean, "accuracy_lo": own.lo, "accuracy_hi": own.hi,
                 "reference": name == ref_name}
        shared = sorted(set(seeds) & set(ref))
        if name != ref_name and shared:
            d = paired_difference([100 * seeds[s]["test_accuracy"] for s in shared],
                                  [100 * ref[s]["test_accuracy"] for s in shared])
            entry["vs_reference"] = {"seeds": shared, "mean": d.mean, "lo": d.lo, "hi": d.hi, "p": d.p,
                                     "verdict": effect_verdict(d, what=name, unit="points")}
        out.append(entry)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", nargs="+", type=Path, required=True, help="finished run folders")
    ap.add_argument("--json", type=Path, help="write the result here")
    a = ap.parse_args(argv)
    missing = [str(r) for r in a.runs if not (r / "metrics.json").is_file()]
    if missing:
        ap.error(f"not a finished run (no metrics.json): {', '.join(missing)}")
    rows = [row(r) for r in a.runs]
    other = [r["run"] for r in rows if r["data_fingerprint"] != rows[0]["data_fingerprint"]]
    if other:
        ap.error(f"trained on other data than {rows[0]['run']} (another fingerprint), so their "
                 f"accuracies do not compare: {', '.join(other)}")
    res = {"machine": C.machine_info(), "command": "python bench/recipe_runs.py " + " ".join(argv or sys.argv[1:]),
           "data": "synthchairs", "rows": rows, "recipes": compare(rows)}
    C.write_json(a.json, res)
    for r in res["recipes"]:
        spread = (f"95 % CI {r['accuracy_lo']:.2f} to {r['accuracy_hi']:.2f}, seeds {r['seeds']}"
                  if len(r["seeds"]) > 1 else f"one seed, {r['seeds'][0]}")
        print(f"{r['recipe']}: {r['mean_accuracy']:.2f} % ({spread})"
              + (f"; {r['vs_reference']['verdict']}" if "vs_reference" in r else ""))
    return res


if __name__ == "__main__":
    main()
