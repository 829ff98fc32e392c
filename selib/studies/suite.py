"""Notebook 06's studies, sized for a profile from :data:`selib.training.profiles.STUDY_SIZES`.

Each study changes one thing of one common recipe (the profile's ``StudySize.base``) and compares
every variant with a reference on the same paired seeds. The reference of the SE study is the
plain network; every other study's reference is the paper's default SE block (r = 16, average
squeeze, sigmoid gate, standard placement), so those runs are one config, trained once and
shared by all studies (the run folders are named by config).

Not here, because the network builder has no switch for them yet: the journal version's "SE in
one stage only" (its Table 13) and "no squeeze" (Table 16) ablations.
"""
from __future__ import annotations

from selib.studies.study import Study, unique_runs
from selib.training.config import TrainConfig
from selib.training.profiles import STUDY_SIZES, StudySize, profile_name

__all__ = ["ALL_STUDIES", "studies", "study_size", "suite"]

ALL_STUDIES = ("se", "ratio", "squeeze", "gate", "placement")


def _se(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    return Study(
        "se", base, {"no SE": {"ratio": None}, "SE": {}}, seeds, reference="no SE",
        title="SE vs no SE, same recipe and seeds", xlabel="network",
        question="Does adding SE blocks (r = 16) to the network change its test accuracy?",
        paper="se", paper_labels={"no SE": "no SE", "SE": "SE"})


def _ratio(base: TrainConfig, seeds: tuple[int, ...], ratios: tuple[int, ...]) -> Study:
    variants = {"r=16": {}, **{f"r={r}": {"ratio": r} for r in ratios if r != 16}}
    return Study(
        "ratio", base, variants, seeds, reference="r=16",
        title="Reduction ratio r (cf. TPAMI Table 10)", xlabel="SE reduction ratio",
        question="Does the width of the excitation bottleneck (C/r, at least se_min_units) matter?",
        paper="ratio", paper_labels={v: v for v in variants})


def _squeeze(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    return Study(
        "squeeze", base, {"avg": {}, "max": {"se_squeeze": "max"}}, seeds, reference="avg",
        title="Squeeze: global average vs max pooling (cf. TPAMI Table 11)", xlabel="squeeze",
        question="Does summarising each channel by its maximum instead of its mean change accuracy?",
        paper="squeeze", paper_labels={"avg": "avg", "max": "max"})


def _gate(base: TrainConfig, seeds: tuple[int, ...]) -> Study:
    return Study(
        "gate", base, {"sigmoid": {}, "tanh": {"se_gate": "tanh"}, "relu": {"se_gate": "relu"}}, seeds,
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


def suite(size: StudySize) -> list[Study]:
    """Every study of one size, in notebook order, limited to ``size.only`` when set."""
    base, seeds = size.base, tuple(size.seeds)
    made = {"se": _se(base, seeds), "ratio": _ratio(base, seeds, tuple(size.ratios)),
            "squeeze": _squeeze(base, seeds), "gate": _gate(base, seeds),
            "placement": _placement(base, seeds)}
    wanted = ALL_STUDIES if size.only is None else tuple(size.only)
    unknown = sorted(set(wanted) - set(made))
    if unknown:
        raise ValueError(f"unknown studies {unknown}; the suite has {list(ALL_STUDIES)}")
    return [made[name] for name in ALL_STUDIES if name in wanted]


def study_size(profile: str | None = None) -> StudySize:
    """The size of notebook 06 under a profile (``None``: ``SELIB_PROFILE``, else auto)."""
    return STUDY_SIZES[profile_name(profile)]


def studies(profile: str | None = None) -> list[Study]:
    """The notebook-06 studies for a profile; works for every profile in ``PROFILES``."""
    return suite(study_size(profile))


def cost(profile: str | None = None) -> int:
    """How many trainings the profile's suite costs (shared configs counted once)."""
    return unique_runs(studies(profile))
