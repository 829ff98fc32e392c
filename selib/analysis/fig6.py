"""The paper's Fig. 6 claim over several trained models, recorded once as JSON.

One trained network gives one draw of the verdict: two networks trained with different seeds can
rank the blocks differently (their Spearman ρ and the number of blocks above chance move). So the
unit here is the training seed. :func:`record_fig6` reads several finished run folders of SE
models, measures per SE block the **pooled η²** of the gates (the between-class share of all the
block's gate variance, :func:`~selib.analysis.gate_stats.pooled_eta_squared`) with its
label-permutation null band and the same statistic for an untrained copy of each network, and
writes one JSON with its provenance (command, date, hardware). :func:`load_fig6` reads it back as
one long table; :func:`fig6_summary` and :func:`fig6_verdict` turn that into the figure's numbers
and a sentence with the spread over models.

Run it as ``python -m selib.analysis.fig6 --runs <run folders or a folder of runs> --data <images>
--out notebooks/results/fig6.json``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["FORMAT", "Fig6", "paper_label", "paper_panels", "model_table", "record_fig6", "load_fig6",
           "fig6_summary", "fig6_verdict", "main"]

FORMAT = "selib.fig6/1"
_BLOCK = re.compile(r"conv(\d+)_block(\d+)_se$")
#: the per-block columns a record keeps (the rest of a depth table is saturation, kept too)
_KEEP = ["block", "se_block", "stage", "depth", "channels", "eta2_pooled", "pooled_null_mean",
         "pooled_null_lo", "pooled_null_hi", "pooled_above_null", "eta2", "null_mean", "null_hi",
         "above_null", "untrained_eta2_pooled", "share_low", "share_high", "off_channels", "on_channels"]


# ---------------------------------------------------------------------------------------------
# The paper's names for the blocks, and its choice of panels.
# ---------------------------------------------------------------------------------------------
def paper_label(block: str) -> str:
    """``conv5_block2_se`` -> ``SE_5_2``: the paper's SE_stage_block name (Keras' conv2..conv5 are the
    paper's stages 2–5); a name of another form is returned unchanged."""
    m = _BLOCK.search(block)
    return f"SE_{m.group(1)}_{m.group(2)}" if m else block


def _stage(block: str) -> int | None:
    m = _BLOCK.search(block)
    return int(m.group(1)) if m else None


def paper_panels(blocks: Sequence[str]) -> list[int]:
    """Indices of the blocks the paper's Fig. 6 would show: the last SE block of every stage but
    the last (its SE_2_3, SE_3_4, SE_4_6) and every block of the last stage (SE_5_1 … SE_5_3).
    On a network with one block per stage that is every block. Names without a stage: all."""
    stages = [_stage(b) for b in blocks]
    if any(s is None for s in stages):
        return list(range(len(blocks)))
    last = max(stages)
    return [i for i, s in enumerate(stages)
            if s == last or i + 1 == len(stages) or stages[i + 1] != s]


# ---------------------------------------------------------------------------------------------
# Measuring one model.
# ---------------------------------------------------------------------------------------------
def model_table(model, x: np.ndarray, y: np.ndarray, *, n_permutations: int = 20, seed: int = 0,
                untrained: bool = True) -> pd.DataFrame:
    """One row per SE block of ``model`` on images ``x`` with labels ``y``: the
    :func:`~selib.analysis.gate_stats.depth_table` columns, the paper's block name (``se_block``),
    the stage, and (``untrained``) the pooled η² of the same network with fresh weights."""
    from selib.analysis.excitation import collect_gates, untrained_copy
    from selib.analysis.gate_stats import depth_table, pooled_eta_squared

    y = np.asarray(y)
    y = y.argmax(axis=1) if y.ndim == 2 else y.astype(int)
    names, gates = collect_gates(model, x)
    table = depth_table(gates, y, names=names, n_permutations=n_permutations, seed=seed)
    table.insert(1, "se_block", [paper_label(n) for n in names])
    table.insert(2, "stage", [_stage(n) for n in names])
    if untrained:
        _, fresh = collect_gates(untrained_copy(model, seed=seed), x)
        table["untrained_eta2_pooled"] = [pooled_eta_squared(g, y) for g in fresh]
    else:
        table["untrained_eta2_pooled"] = np.nan
    return table


def _has_se(model) -> bool:
    from selib.layers.squeeze_excite import se_layers

    return bool(se_layers(model))


def _expand(run_dirs: Sequence[str | os.PathLike]) -> list[Path]:
    """Run folders as given; a folder that is not a run (no ``manifest.json``) stands for the run
    folders below it, in sorted order (``runs/studies/<profile>/runs`` holds a whole study's)."""
    out: list[Path] = []
    for d in map(Path, run_dirs):
        if (d / "manifest.json").is_file():
            out.append(d)
        elif d.is_dir():
            found = sorted(p.parent for p in d.glob("**/manifest.json"))
            out.extend(f for f in found if not any((a / "manifest.json").is_file() for a in f.parents))
        else:
            raise FileNotFoundError(f"no run folder at {d}")
    return list(dict.fromkeys(out))


def _images(config, manifest: dict, data_dir: Path, cache: dict):
    """The images the run was tested on, at its size, colour and fit: its own test split of
    ``data_dir``, or — if it was tested on a separately rendered folder — every image of
    ``data_dir``, which must then be that folder (training images would measure something else)."""
    from selib.data.loading import load_images
    from selib.data.scanning import scan
    from selib.training.run_io import data_info
    from selib.training.trainer import prepare_data

    d = config.data
    key = (str(data_dir.resolve()), d.image_size, d.color, d.fit)
    if key not in cache:
        cache[key] = load_images(scan(data_dir), size=d.image_size, color=d.color, fit=d.fit, progress=False)
    loaded = cache[key]
    tested_on = (manifest.get("data") or {}).get("test")
    if tested_on:
        if data_info(loaded, data_dir)["fingerprint"] != tested_on.get("fingerprint"):
            raise ValueError(f"this run was tested on the separate folder "
                             f"'{Path(str(tested_on.get('root', '?'))).name}'; pass that folder as the data "
                             f"(the gates must be measured on images the network was not trained on)")
        return loaded.images, loaded.labels, list(loaded.class_names), "every image of the separate test folder"
    sp = prepare_data(config, data_dir, loaded=loaded).split
    return sp.x_test, sp.y_test, list(loaded.class_names), "the run's own test split"


def _shown(path: Path) -> str:
    """A path as a reader should see it: relative to the project (or the working folder)."""
    from selib.paths import project_root

    path = Path(path).resolve()
    for base in (project_root(), Path.cwd()):
        if path.is_relative_to(base.resolve()):
            return path.relative_to(base.resolve()).as_posix()
    return path.name


def _hardware() -> dict:
    from selib.hardware import cpu_model, device_summary, speed_flags

    # the CPU's model and speed-relevant flags, as the study record keeps them
    return {**device_summary(), "cpu": cpu_model(), "cpu_flags": speed_flags()}


def _records(table: pd.DataFrame) -> list[dict]:
    """Rows as plain JSON values: NaN (a block whose gates never move) becomes null, not 'NaN'."""
    def plain(v):
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return float(v) if np.isfinite(v) else None
        return v
    return [{k: plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def record_fig6(run_dirs: Sequence[str | os.PathLike], data_dir: str | os.PathLike,
                path: str | os.PathLike | None, *, n_permutations: int = 20, seed: int = 0,
                untrained: bool = True, command: str | None = None) -> dict:
    """Measure every SE model among ``run_dirs`` and write one JSON to ``path`` (None: do not write).

    Each model's gates are read on the images it was tested on (see ``_images``), each block
    against ``n_permutations`` label shuffles (the same ``seed`` for every block and model). Run
    folders whose model has no SE block (a study's no-SE arm) are listed under ``skipped`` with
    the reason, never dropped silently. Returns the record that was written.
    """
    import keras

    import selib
    from selib.training.run_folder import RunFolder, write_json

    data_dir, cache = Path(data_dir), {}
    models, skipped = [], []
    for run_dir in _expand(run_dirs):
        if not RunFolder(run_dir).is_finished():
            skipped.append({"run": _shown(run_dir), "reason": "not a finished run"})
            continue
        keras.backend.clear_session()
        model, config, metrics = selib.load_run(run_dir)
        if not _has_se(model):
            skipped.append({"run": _shown(run_dir), "reason": "the model has no SE block"})
            continue
        x, y, classes, images = _images(config, RunFolder(run_dir).manifest() or {}, data_dir, cache)
        table = model_table(model, x, y, n_permutations=n_permutations, seed=seed, untrained=untrained)
        models.append({"run": _shown(run_dir), "name": config.name, "seed": int(config.get("seed")),
                       "test_accuracy": metrics.get("test_accuracy"), "images": int(len(y)),
                       "images_from": images, "classes": classes,
                       "blocks": _records(table[[c for c in _KEEP if c in table]])})
    if not models:
        raise ValueError("none of the run folders holds a finished SE model: "
                         + "; ".join(f"{s['run']}: {s['reason']}" for s in skipped))
    record = {"format": FORMAT, "statistic": "pooled eta^2 of the SE gates per block",
              "n_permutations": int(n_permutations), "permutation_seed": int(seed),
              "data": _shown(data_dir), "models": models, "skipped": skipped,
              "provenance": {"command": command or "python -m selib.analysis.fig6 " + " ".join(sys.argv[1:]),
                             "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                             "hardware": _hardware(), "selib": selib.__version__}}
    if path is not None:
        write_json(path, record)
    return record


# ---------------------------------------------------------------------------------------------
# Reading it back.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fig6:
    """A recorded Fig. 6 measurement: one row per (model, block), and where it came from."""

    table: pd.DataFrame
    provenance: dict
    skipped: list
    n_permutations: int

    @property
    def seeds(self) -> list[int]:
        return sorted(self.table["seed"].unique().tolist())


def load_fig6(path: str | os.PathLike) -> Fig6:
    """The JSON of :func:`record_fig6` as a :class:`Fig6`; a file of another format is an error."""
    record = json.loads(Path(path).read_text())
    if record.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} record (format {record.get('format')!r})")
    rows = [{"run": m["run"], "seed": m["seed"], "test_accuracy": m.get("test_accuracy"),
             "images": m["images"], **b} for m in record["models"] for b in m["blocks"]]
    return Fig6(pd.DataFrame(rows), record.get("provenance", {}), record.get("skipped", []),
                int(record.get("n_permutations", 0)))


def fig6_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per block (in depth order), over the models: pooled η² mean, sd, min and max, the widest
    null band (lowest low, highest high), how many models beat their own null, and the untrained
    networks' mean. ``table`` is :attr:`Fig6.table` (or the rows of several :func:`model_table`)."""
    g = table.groupby(["depth", "se_block"], sort=True)
    out = g.agg(models=("eta2_pooled", "size"), eta2_mean=("eta2_pooled", "mean"),
                eta2_sd=("eta2_pooled", "std"), eta2_min=("eta2_pooled", "min"),
                eta2_max=("eta2_pooled", "max"), null_lo=("pooled_null_lo", "min"),
                null_hi=("pooled_null_hi", "max"), above_null=("pooled_above_null", "sum"),
                untrained_mean=("untrained_eta2_pooled", "mean"))
    out["above_null"] = out["above_null"].astype(int)
    return out.reset_index()


def _per_model(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: Spearman ρ of the pooled excess over chance with depth, blocks above the null,
    and whether the first and the last block are above it."""
    from scipy import stats as st

    rows = []
    for seed, t in table.sort_values("depth").groupby("seed"):
        excess = (t["eta2_pooled"] - t["pooled_null_mean"]).to_numpy(float)
        ok = len(t) >= 3 and np.isfinite(excess).all() and np.ptp(excess) > 0
        rho = float(st.spearmanr(t["depth"], excess).statistic) if ok else float("nan")
        above = t["pooled_above_null"].astype(bool).to_numpy()
        rows.append({"seed": seed, "rho": rho, "above": int(above.sum()), "blocks": len(t),
                     "first_above": bool(above[0]), "last_above": bool(above[-1])})
    return pd.DataFrame(rows)


def fig6_verdict(table: pd.DataFrame) -> str:
    """The paper's claim read over every model: how many show a rise of pooled class-specificity
    with depth (ρ >= 0.5, as :func:`~selib.analysis.gate_stats.specificity_trend`), the range of ρ,
    how many blocks beat chance per model, and in how many models the first block is
    class-agnostic (inside its null band) and the last is not — the paper's picture."""
    from selib.analysis.gate_stats import RISE

    m = _per_model(table)
    n, rho = len(m), m["rho"].dropna()
    if rho.empty:
        return f"Over {n} model(s) the trend with depth cannot be measured (fewer than 3 blocks, or no spread)."
    rises = int((m["rho"] >= RISE).sum())
    paper = int((~m["first_above"] & m["last_above"]).sum())
    seeds = ", ".join(str(s) for s in m["seed"])
    counts = ", ".join(f"{a}/{b}" for a, b in zip(m["above"], m["blocks"]))
    where = ("in every model" if rises == n else "in none of them" if rises == 0 else f"in {rises} of {n}")
    return (f"Over {n} trained models (training seeds {seeds}), pooled class-specificity rises with depth "
            f"{where} (Spearman ρ {rho.min():.2f} to {rho.max():.2f}, median {rho.median():.2f}); "
            f"blocks above the permutation null per model: {counts}. The paper's picture — a first block "
            f"inside its null band, a last block above it — holds in {paper} of {n}.")


# ---------------------------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m selib.analysis.fig6 --runs ... --data ... --out ...``; bad input: one line, exit 2."""
    p = argparse.ArgumentParser(prog="python -m selib.analysis.fig6",
                                description="Pooled η² of every SE block over several trained models, as JSON.")
    p.add_argument("--runs", nargs="+", required=True,
                   help="finished run folders, or folders holding run folders (models without SE are skipped)")
    p.add_argument("--data", required=True, help="the image folder the runs were tested on")
    p.add_argument("--out", required=True, help="the JSON to write, e.g. notebooks/results/fig6.json")
    p.add_argument("--permutations", type=int, default=20, help="label shuffles per block (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffles and of the untrained copies")
    p.add_argument("--no-untrained", action="store_true", help="skip the untrained-network baseline")
    args = p.parse_args(argv)
    from selib.errors import SelibError

    command = "python -m selib.analysis.fig6 " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        record = record_fig6(args.runs, args.data, args.out, n_permutations=args.permutations, seed=args.seed,
                             untrained=not args.no_untrained, command=command)
    except (FileNotFoundError, ValueError, SelibError) as exc:
        print(f"selib: error: {exc}", file=sys.stderr)
        return 2
    fig = load_fig6(args.out)
    print(fig6_summary(fig.table).round(3).to_string(index=False))
    print(fig6_verdict(fig.table))
    for s in record["skipped"]:
        print(f"skipped {s['run']}: {s['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
