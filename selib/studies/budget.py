"""What the studies cost, computed from the recorded trainings instead of typed into prose.

:func:`plan` lists every study of a profile: whether it runs by default, how many trainings it
adds (a configuration shared with an earlier study is trained once), how many minutes of
training the record holds for them, an estimate for the ones it does not hold (at the recorded
median seconds per training), and the command that runs it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from selib.analysis.stats import paired_difference
from selib.studies.catalog import ALL_STUDIES, command, suite
from selib.studies.sizes import StudySize, resize
from selib.studies.study import config_key

__all__ = ["plan", "arm_seconds", "cost_summary", "seed_tradeoff"]

PLAN_COLUMNS = ["study", "by default", "arms", "seeds", "new trainings", "recorded", "recorded min",
                "estimated min", "command"]


def arm_seconds(record) -> pd.DataFrame:
    """Per study and arm: seeds recorded, mean and total training seconds (from the record)."""
    rows = []
    for name in record.studies:
        res = record.results(name)
        for label, g in res.groupby("label", sort=False):
            rows.append({"study": name, "arm": label, "seeds": len(g),
                         "mean s": float(g["train_seconds"].mean()),
                         "total min": float(g["train_seconds"].sum()) / 60})
    return pd.DataFrame(rows, columns=["study", "arm", "seeds", "mean s", "total min"])


def plan(size: StudySize, profile: str, record=None) -> pd.DataFrame:
    """One row per study of the suite, the default ones first (see :data:`PLAN_COLUMNS`).

    ``recorded min`` sums the record's training seconds of the study's new trainings;
    ``estimated min`` prices the ones it lacks at the record's median seconds per training
    (NaN without a record). Minutes of *training*: loading, testing and rendering come on top.
    """
    default = set(ALL_STUDIES if size.only is None else size.only)
    every = suite(resize(size, only=None))
    every.sort(key=lambda s: s.name not in default)            # stable: notebook order within
    held = record.trainings().set_index("training") if record is not None else None
    median = float(held["train_seconds"].median()) if held is not None and len(held) else np.nan
    seen: set[str] = set()
    rows = []
    for s in every:
        keys = {config_key(cfg) for _, _, cfg in s.runs()} - seen
        seen |= keys
        have = [k for k in keys if held is not None and k in held.index]
        secs = float(held.loc[have, "train_seconds"].sum()) if have else 0.0
        rows.append({"study": s.name, "by default": s.name in default, "arms": len(s.labels),
                     "seeds": len(s.seeds), "new trainings": len(keys), "recorded": len(have),
                     "recorded min": secs / 60, "estimated min": (len(keys) - len(have)) * median / 60,
                     "command": command(profile, (s.name,))})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def cost_summary(table: pd.DataFrame, profile: str) -> dict:
    """Totals of a :func:`plan`: the default studies and the rest, trainings and minutes."""
    out = {}
    for part, mask in (("default", table["by default"]), ("rest", ~table["by default"])):
        t = table[mask]
        out[part] = {"studies": list(t["study"]), "trainings": int(t["new trainings"].sum()),
                     "recorded": int(t["recorded"].sum()), "recorded min": float(t["recorded min"].sum()),
                     "estimated min": float(t["estimated min"].sum(min_count=1))}   # NaN: nothing to price by
    out["command all"] = command(profile, None)
    return out


TRADEOFF_COLUMNS = ["seeds", "minutes", "reference mean", "variant mean", "diff", "diff_lo", "diff_hi",
                    "halfwidth"]


def seed_tradeoff(results: pd.DataFrame, variant: str, reference: str,
                  confidence: float = 0.95) -> pd.DataFrame:
    """What each extra pair of seeds bought: one row per prefix of the seeds (in seed order).

    For the first ``n`` seeds that hold both arms: the training minutes they cost (both arms,
    from ``train_seconds``), each arm's mean accuracy and the paired difference ``variant -
    reference`` with its interval. Read against minutes, it is the study's size trade-off as it
    was measured, rather than an extrapolation: how wide the interval was after 2, 3, ... seeds.
    """
    wide = results.pivot_table(index="seed", columns="label", values="accuracy", aggfunc="first")
    if variant not in wide or reference not in wide:
        raise ValueError(f"results hold no '{variant}' and '{reference}' arms to pair")
    wide = wide[[reference, variant]].dropna().sort_index()
    secs = results.pivot_table(index="seed", columns="label", values="train_seconds", aggfunc="first")
    cost = secs.reindex(index=wide.index, columns=[reference, variant]).sum(axis=1).cumsum() / 60
    rows = []
    for n in range(2, len(wide) + 1):
        head = wide.iloc[:n]
        d = paired_difference(head[variant], head[reference], confidence)
        rows.append({"seeds": n, "minutes": float(cost.iloc[n - 1]),
                     "reference mean": float(head[reference].mean()),
                     "variant mean": float(head[variant].mean()), "diff": d.mean, "diff_lo": d.lo,
                     "diff_hi": d.hi, "halfwidth": d.halfwidth})
    return pd.DataFrame(rows, columns=TRADEOFF_COLUMNS)
