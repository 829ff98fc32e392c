"""Benchmark 8: does SE help on real photos? SE vs no SE, paired seeds, a 95 % interval, a verdict.

    python bench/se_on_real.py --data ../shared/realdata --json bench/results/se_on_real_cpu.json
    python bench/se_on_real.py --data DIR --seeds 8 --image-size 96 --epochs 10    # the short recipe
    python bench/se_on_real.py --tiny                                               # seconds

Notebook 06 asks the question on the built-in renders; this asks it on photos, with the same
machinery (:mod:`selib.studies`): one recipe, two arms that differ only in ``attn=None``, and
seed ``k`` giving both arms the same split, batch order, augmentation draws and test images, so
the result is a *paired* difference per seed. The verdict is read off the 95 % t-interval of the
mean paired difference (:func:`selib.studies.compare`), never off which mean is larger, and every
accuracy comes with its binomial standard error on the test set's size.

The recipe is the ``cpu`` profile as a user trains it (half-width pre-activation SE-ResNet-18 at
144², AdamW + cosine for 30 epochs, the warmed-up weight average, medium augmentation, test-time
flip), with SE bottlenecks of at least 8 units (``attn_kwargs.min_units=8``) as in every study;
4 paired seeds by default. On a 2-core CPU without bfloat16 one training takes most of an hour,
so run it in the background: it resumes where it stopped. ``--image-size 96 --epochs 10`` is the
short recipe of the published 8-seed result, which stops before the networks have converged. The test set is each seed's own 20 % split (590 images for the 3 real classes).
Runs are resumable (``--out``, default ``runs/bench/se_on_real``): a finished (variant, seed) is
read back, not retrained. Without the photo folder the benchmark says so and exits 0 (a fresh
clone has no ``../shared/realdata``).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def base_config(image_size: int, epochs: int):
    """The ``cpu`` recipe at ``image_size`` for ``epochs``, with never-degenerate SE bottlenecks."""
    from selib.training.profiles import PROFILES

    return PROFILES["cpu"].replace(name="se_on_real", image_size=image_size, epochs=epochs,
                                   attn_kwargs={"min_units": 8},
                                   notes="bench/se_on_real.py: SE vs no SE on photos")


#: --tiny: the smallest network the recipe builds, so the smoke test pays seconds, not minutes
TINY = dict(depth=(1,), filters=(8,), initial_filters=8, use_ema=False, tta=False, batch_size=64)


def make_study(image_size: int, epochs: int, seeds: int, **overrides):
    from selib.studies import Study

    base = base_config(image_size, epochs).replace(**overrides)
    return Study("se_on_real", base, {"no SE": {"attn": None}, "SE": {}},
                 tuple(range(seeds)), reference="no SE", title="SE vs no SE on real photos",
                 xlabel="network", question="Does adding SE blocks change test accuracy on photos?",
                 paper="se", paper_labels={"no SE": "no SE", "SE": "SE"})


def summarize(results, study) -> dict:
    """The comparison row of SE against no SE, each arm's mean, and SE's cost per epoch."""
    from selib.studies import compare

    table = compare(results, study).set_index("label")
    se, ref = table.loc["SE"], table.loc["no SE"]
    times = results.pivot_table(index="seed", columns="label", values="epoch_seconds")
    params = results.groupby("label")["params"].first()
    return {"pairs": int(se["n_pairs"]), "mean_accuracy": {"no SE": float(ref["mean"]), "SE": float(se["mean"])},
            "resolution_points": {"no SE": float(ref["resolution"]), "SE": float(se["resolution"])},
            "paired_difference": {"mean": float(se["diff"]), "ci95": [float(se["diff_lo"]), float(se["diff_hi"])],
                                  "p": None if se["p"] != se["p"] else float(se["p"])},
            "verdict": str(se["verdict"]),
            "params": {k: int(v) for k, v in params.items()},
            "epoch_time_ratio_se_over_plain": C.median(list((times["SE"] / times["no SE"]).dropna()))
            if {"SE", "no SE"} <= set(times.columns) else None}


def main(argv: list[str] | None = None) -> dict:
    default_data = C.REPO.parent / "shared" / "realdata"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=default_data if default_data.is_dir() else None,
                    help="a photo folder <data>/<class>/*.jpg (default ../shared/realdata when present)")
    ap.add_argument("--seeds", type=int, default=4, help="paired seeds 0..N-1 (default 4)")
    ap.add_argument("--image-size", type=int, default=144,
                    help="input size (default 144, the cpu profile's; the published 8-seed run used 96)")
    ap.add_argument("--epochs", type=int, default=30,
                    help="epochs (default 30, the cpu profile's: trained to convergence, as a user would)")
    ap.add_argument("--out", type=Path, help="run folders (default runs/bench/se_on_real; resumable)")
    C.add_common_args(ap, repeats=1)
    a = ap.parse_args(argv)
    C.tf_quiet()
    from selib.studies import run_study

    tmp = None
    if a.tiny:
        from time_to_accuracy import toy_folder

        tmp = tempfile.TemporaryDirectory()
        a.data, a.out = toy_folder(Path(tmp.name) / "toy", per_class=16, size=32), Path(tmp.name) / "runs"
        a.seeds, a.image_size, a.epochs = 2, 32, 1
    if a.data is None or not Path(a.data).is_dir():
        res = {"machine": C.machine_info(), "skipped": True,
               "reason": f"no photo folder ({a.data or default_data} is absent); pass --data"}
        print(f"se_on_real: skipped: {res['reason']}")
        C.write_json(a.json, res)
        return res
    study = make_study(a.image_size, a.epochs, a.seeds, **(TINY if a.tiny else {}))
    out = a.out or C.REPO / "runs" / "bench" / "se_on_real"
    t0, load0 = time.perf_counter(), C.load_avg()
    with C.Contention() as cont:
        results = run_study(study, a.data, out, progress=True)
    summary = summarize(results, study)
    res = {"machine": C.machine_info(), "skipped": False, "command": "python bench/se_on_real.py " + " ".join(argv or sys.argv[1:]),
           "params": {"data": str(a.data) if not a.tiny else "toy", "seeds": a.seeds, "image_size": a.image_size,
                      "epochs": a.epochs, "config": study.base.to_dict()},
           "results": results.drop(columns=["run_dir"]).to_dict(orient="records"), "summary": summary,
           "wall_seconds": time.perf_counter() - t0, "load_avg": {"before": load0, "after": C.load_avg()},
           "contention": cont.result}
    print(f"\nSE vs no SE on {res['params']['data']}: {summary['pairs']} paired seeds, mean test accuracy "
          f"{summary['mean_accuracy']['no SE']:.2f} % (no SE) vs {summary['mean_accuracy']['SE']:.2f} % (SE), "
          f"binomial SE of one run ±{summary['resolution_points']['SE']:.2f} points")
    lo, hi = summary["paired_difference"]["ci95"]
    print(f"paired difference SE − no SE: {summary['paired_difference']['mean']:+.2f} points, 95 % CI "
          f"{lo:+.2f} to {hi:+.2f}\nverdict: {summary['verdict']}")
    C.write_json(a.json, res)
    if tmp is not None:
        tmp.cleanup()
    return res


if __name__ == "__main__":
    main()
