"""The paper's reference numbers, each labelled with the version and table it comes from.

There are two versions of Hu, Shen, Sun, *Squeeze-and-Excitation Networks*, and they disagree on
the headline ablation numbers because the journal version re-ran its ablations in a new setting:

* ``"cvpr2018"`` — the CVPR 2018 conference paper (arXiv 1709.01507 v1–v3). Its main table
  (Table 2) and its reduction-ratio ablation use the same training run of ResNet-50:
  24.80 % top-1 error, SE-ResNet-50 (r = 16) 23.29 %.
* ``"tpami"`` — the journal version (IEEE TPAMI 2020, arXiv 1709.01507 v4, with Albanie and Wu
  as co-authors). Table 2 keeps 24.80 vs 23.29 %, but Section 6 (Tables 10–16) re-trains every
  ablation under one common, shorter-scheduled setting in which ResNet-50 reaches 23.30 % and
  SE-ResNet-50 22.28 %. Differences *within* one table are comparable; numbers from different
  tables are not.

A number from here is always quoted with :func:`cite`, so a reader can tell which version and
table it comes from. ``bench/`` imports its paper numbers from this module, never copies them.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["VERSIONS", "PaperNumber", "PAPER", "TRAIN_MS_PER_MINIBATCH", "CPU_INFERENCE_MS",
           "TABLE10_PARAMS_M", "TABLE10_TOP1_ERR", "paper_table", "paper_lines", "reference", "cite"]

VERSIONS: dict[str, str] = {
    "cvpr2018": "CVPR 2018 conference version (arXiv 1709.01507 v1-v3)",
    "tpami": "TPAMI journal version (arXiv 1709.01507 v4)",
}


@dataclass(frozen=True)
class PaperNumber:
    """One ImageNet top-1 error (%) of the paper: which version, which table, which row."""

    version: str
    table: str
    study: str
    label: str
    top1_err: float
    params_m: float | None = None

    def cite(self) -> str:
        return f"{self.top1_err:.2f} % ({VERSIONS[self.version].split(' (')[0]}, {self.table})"


def _rows(version: str, table: str, study: str, rows: dict[str, tuple]) -> list[PaperNumber]:
    return [PaperNumber(version, table, study, label, *vals) for label, vals in rows.items()]


# Single-crop ImageNet validation top-1 error (%), parameters (millions) where the table has them.
PAPER: list[PaperNumber] = [
    *_rows("cvpr2018", "Table 2", "se", {"no SE": (24.80, 25.6), "SE": (23.29, 28.1)}),
    # the conference paper's reduction-ratio table, on the Table 2 training run
    *_rows("cvpr2018", "reduction-ratio table", "ratio",
           {"r=4": (23.21, 35.7), "r=8": (23.19, 30.7), "r=16": (23.29, 28.1), "r=32": (23.40, 26.9),
            "no SE": (24.80, 25.6)}),
    *_rows("tpami", "Table 2", "se", {"no SE": (24.80, 25.6), "SE": (23.29, 28.1)}),
    *_rows("tpami", "Table 10", "ratio",
           {"r=2": (22.29, 45.7), "r=4": (22.25, 35.7), "r=8": (22.26, 30.7), "r=16": (22.28, 28.1),
            "r=32": (22.72, 26.9), "no SE": (23.30, 25.6)}),
    *_rows("tpami", "Table 11", "squeeze", {"max": (22.57,), "avg": (22.28,)}),
    *_rows("tpami", "Table 12", "gate", {"relu": (23.47,), "tanh": (23.00,), "sigmoid": (22.28,)}),
    *_rows("tpami", "Table 13", "stage",
           {"no SE": (23.30,), "stage 2": (23.03,), "stage 3": (23.04,), "stage 4": (22.68,),
            "all": (22.28,)}),
    *_rows("tpami", "Table 14", "placement",
           {"standard": (22.28,), "pre": (22.23,), "post": (22.78,), "identity": (22.20,)}),
    *_rows("tpami", "Table 16", "squeeze_role", {"no SE": (23.30,), "no squeeze": (22.93,),
                                                  "SE": (22.28,)}),
]

# Sec. 4 ("Model and computational complexity"), the same in both versions: ResNet-50 vs
# SE-ResNet-50, ms per training minibatch of 256 images on 8 GPUs, and ms per 224² image on a CPU.
TRAIN_MS_PER_MINIBATCH: dict[str, float] = {"ResNet-50": 190.0, "SE-ResNet-50": 209.0}
CPU_INFERENCE_MS: dict[str, float] = {"ResNet-50": 164.0, "SE-ResNet-50": 167.0}

# The TPAMI Table 10 columns by ratio, for the parameter check against selib's SE-ResNet-50.
TABLE10_PARAMS_M: dict[int, float] = {int(p.label[2:]): p.params_m for p in PAPER
                                      if p.table == "Table 10" and p.label.startswith("r=")}
TABLE10_TOP1_ERR: dict[int, float] = {int(p.label[2:]): p.top1_err for p in PAPER
                                      if p.table == "Table 10" and p.label.startswith("r=")}


def paper_table(study: str | None = None) -> pd.DataFrame:
    """The reference numbers as a table (one row per version, table and label); ``study``
    filters to one ablation (``"ratio"``, ``"se"``, ``"gate"``, ...)."""
    rows = [{"version": p.version, "table": p.table, "study": p.study, "label": p.label,
             "top1_err": p.top1_err, "params_m": p.params_m} for p in PAPER
            if study is None or p.study == study]
    return pd.DataFrame(rows, columns=["version", "table", "study", "label", "top1_err", "params_m"])


def reference(study: str, label: str, version: str = "tpami") -> PaperNumber:
    """One number of the paper; ``KeyError`` (naming what exists) when that version has none."""
    for p in PAPER:
        if p.study == study and p.label == label and p.version == version:
            return p
    have = sorted({(p.version, p.label) for p in PAPER if p.study == study})
    raise KeyError(f"the paper has no {version!r} number for {study}/{label}; it has {have}")


def cite(study: str, label: str, version: str = "tpami") -> str:
    """``"22.28 % (TPAMI journal version, Table 10)"``: a paper number with its source."""
    return reference(study, label, version).cite()


def paper_lines(study_key: str, labels: dict[str, str]) -> str:
    """The paper's top-1 errors for a study's variants, one line each with version and table.

    ``labels`` maps our variant labels to the paper's (``Study.paper_labels``); a variant the
    paper did not run, or a study it has only in one version, is simply left out.
    """
    lines = []
    for version in VERSIONS:
        for ours, theirs in labels.items():
            try:
                p = reference(study_key, theirs, version)
            except KeyError:
                continue
            lines.append(f"  {ours:<10} top-1 error {p.cite()}")
    return "\n".join(lines) if lines else "  (not in either version of the paper)"
