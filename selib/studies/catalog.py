"""Notebook 06's studies, sized for a profile from :data:`selib.studies.sizes.STUDY_SIZES`.

Each study changes one thing of one common recipe (the profile's ``StudySize.base``) and compares
every variant with a reference on the same paired seeds. The reference of the SE study is the
plain network; every other study's reference is the paper's default SE block (r = 16, average
squeeze, sigmoid gate, standard placement), so those runs are one config, trained once and
shared by all studies (the run folders are named by config).

The journal version's "SE in one stage only" (its Table 13, :func:`_stage`) and "no squeeze"
(Table 16, :func:`_no_squeeze`) are here too; a profile's size says which studies run by
default, and ``SELIB_STUDIES`` (``all`` or a comma-separated list) overrides that:
:func:`command` writes the line, e.g. ``SELIB_STUDIES=all SELIB_PROFILE=cpu make ablations``.
"""
from __future__ import annotations

import dataclasses
import os

from selib.studies.sizes import STUDY_SIZES, StudySize
from selib.studies.study import Study, unique_runs
from selib.training.config import TrainConfig
from selib.training.profiles import profile_name

__all__ = ["ALL_STUDIES", "STUDIES_ENV", "command", "studies", "study_size", "suite"]

ALL_STUDIES = ("se", "ratio", "squeeze", "gate", "placement", "stage", "no_squeeze")
STUDIES_ENV = "SELIB_STUDIES"


def _se(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    return Study(
        "se", base, {"no SE": {"attn": None}, "SE": {}}, seeds, reference="no SE",
        title="SE vs no SE, same recipe and seeds", xlabel="network",
        question="Does adding SE blocks (r = 16) to the network change its test accuracy?",
        paper="se", paper_labels={"no SE": "no SE", "SE": "SE"})


def _ratio(base: TrainConfig, seeds: tuple[int, ...], ratios: tuple[int, ...]) -> Study:
    variants = {"r=16": {}, **{f"r={r}": {"ratio": r} for r in ratios if r != 16}}
    return Study(
        "ratio", base, variants, seeds, reference="r=16",
        title="Reduction ratio r (cf. TPAMI Table 10)", xlabel="SE reduction ratio",
        question="Does the width of the excitation bottleneck (C/r, at least attn_kwargs.min_units) matter?",
        paper="ratio", paper_labels={v: v for v in variants})


def _squeeze(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    return Study(
        "squeeze", base, {"avg": {}, "max": {"attn_kwargs.squeeze": "max"}}, seeds, reference="avg",
        title="Squeeze: global average vs max pooling (cf. TPAMI Table 11)", xlabel="squeeze",
        question="Does summarising each channel by its maximum instead of its mean change accuracy?",
        paper="squeeze", paper_labels={"avg": "avg", "max": "max"})


def _gate(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    return Study(
        "gate", base,
        {"sigmoid": {}, "tanh": {"attn_kwargs.gate": "tanh"}, "relu": {"attn_kwargs.gate": "relu"}}, seeds,
        reference="sigmoid", title="Excitation gate (cf. TPAMI Table 12)", xlabel="gate",
        question="Does the gate's non-linearity (sigmoid, tanh, ReLU) change accuracy?",
        paper="gate", paper_labels={"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"})


def _placement(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    variants = {"standard": {}, **{p: {"se_placement": p} for p in ("pre", "post", "identity")}}
    return Study(
        "placement", base, variants, seeds, reference="standard",
        title="Where the SE block sits (cf. TPAMI Table 14)", xlabel="placement",
        question="Does it matter where in the residual unit the SE block sits?",
        paper="placement", paper_labels={v: v for v in variants})


def _stage(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    stages = range(2, len(base.model.depth) + 2)
    variants = {"all": {}, **{f"stage {s}": {"se_stages": [s]} for s in stages}}
    return Study(
        "stage", base, variants, seeds, reference="all",
        title="SE in one stage only (cf. TPAMI Table 13)", xlabel="stages with SE",
        question="Does SE in a single stage recover the effect of SE in every stage, and which stage?",
        paper="stage", paper_labels={v: v for v in variants if v in ("all", "stage 2", "stage 3", "stage 4")})


def _no_squeeze(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    return Study(
        "no_squeeze", base, {"SE": {}, "no squeeze": {"attn_kwargs.squeeze": "none"}, "no SE": {"attn": None}},
        seeds, reference="SE", title="The role of the squeeze (cf. TPAMI Table 16)", xlabel="network",
        question="Without global pooling (the excitation as 1×1 convolutions, per position), "
                 "how much of SE's effect is left?",
        paper="squeeze_role", paper_labels={"SE": "SE", "no squeeze": "no squeeze", "no SE": "no SE"})


def suite(size: StudySize) -> list[Study]:
    """Every study of one size, in notebook order, limited to ``size.only`` when set."""
    base, seeds = size.base, tuple(size.seeds)
    made = {"se": _se(base, seeds), "ratio": _ratio(base, seeds, tuple(size.ratios)),
            "squeeze": _squeeze(base, seeds), "gate": _gate(base, seeds),
            "placement": _placement(base, seeds), "stage": _stage(base, seeds),
            "no_squeeze": _no_squeeze(base, seeds)}
    wanted = ALL_STUDIES if size.only is None else tuple(size.only)
    unknown = sorted(set(wanted) - set(made))
    if unknown:
        raise ValueError(f"unknown studies {unknown}; the suite has {list(ALL_STUDIES)}")
    return [made[name] for name in ALL_STUDIES if name in wanted]


def study_size(profile: str | None = None, default: bool = False) -> StudySize:
    """The size of notebook 06 under a profile (``None``: ``SELIB_PROFILE``, else auto), with
    the studies ``SELIB_STUDIES`` names (``all``, or e.g. ``se,stage``) instead of the profile's
    (``default=True``: the profile's own choice, whatever the environment says)."""
    size = STUDY_SIZES[profile_name(profile)]
    wanted = "" if default else os.environ.get(STUDIES_ENV, "").strip().lower()
    if not wanted:
        return size
    only = None if wanted == "all" else tuple(w.strip() for w in wanted.split(",") if w.strip())
    unknown = sorted(set(only or ()) - set(ALL_STUDIES))
    if unknown:
        raise ValueError(f"{STUDIES_ENV} names unknown studies {unknown}; choose from {list(ALL_STUDIES)} or all")
    return dataclasses.replace(size, only=only)


def command(profile: str, names: tuple[str, ...] | list[str] | None = None) -> str:
    """The shell line that runs notebook 06 with the studies ``names`` (``None``: all of them)."""
    which = "all" if names is None or set(names) >= set(ALL_STUDIES) else ",".join(names)
    return f"{STUDIES_ENV}={which} SELIB_PROFILE={profile} make ablations"


def studies(profile: str | None = None) -> list[Study]:
    """The notebook-06 studies for a profile; works for every profile in ``PROFILES``."""
    return suite(study_size(profile))


def cost(profile: str | None = None) -> int:
    """How many trainings the profile's suite costs (shared configs counted once)."""
    return unique_runs(studies(profile))
