"""Ablation studies: variants × paired seeds, run resumably, compared with confidence intervals.

=============== =========================================================================
``study``       :class:`Study` (one factor, variants as config overrides) and :func:`run_study`
``verdicts``    paired differences to the reference, Holm, verdicts read off the interval
``sizes``       how big the studies are under each profile (:class:`StudySize`)
``catalog``     which studies notebook 06 runs under each profile (:func:`studies`)
``record``      every training's result in one committed JSON (:class:`StudyRecord`)
``budget``      what the studies cost, computed from the record (:func:`plan`)
``session``     notebook 06's studies, data and record in one object (:func:`open_session`)
``paper``       the paper's reference numbers, labelled by version and table
``plots``       paired-difference and full-axis accuracy charts
=============== =========================================================================
"""
from selib.studies.paper import PAPER, VERSIONS, cite, paper_lines, paper_table, reference
from selib.studies.plots import paired_table, plot_accuracy, plot_differences, plot_study, plot_tradeoff
from selib.studies.study import (RESULT_COLUMNS, Study, config_key, ensure_test_set, ensure_train_set,
                                 prepare_seed, read_run, run_dir, run_study, unique_runs)
from selib.studies.sizes import STUDY_SIZES, StudySize, resize
from selib.studies.catalog import ALL_STUDIES, command, cost, studies, study_size, suite
from selib.studies.record import StudyRecord, data_identity
from selib.studies.budget import arm_seconds, cost_summary, plan, seed_tradeoff
from selib.studies.session import StudySession, open_session, record_path
from selib.studies.verdicts import compare, overview, resolution, verdict_lines

__all__ = ["ALL_STUDIES", "PAPER", "RESULT_COLUMNS", "STUDY_SIZES", "Study", "StudyRecord",
           "StudySession", "StudySize", "VERSIONS", "arm_seconds", "cite", "command", "compare",
           "config_key", "cost", "cost_summary", "data_identity", "ensure_test_set",
           "ensure_train_set", "open_session", "overview", "paired_table", "paper_lines",
           "paper_table", "plan", "plot_accuracy", "plot_differences", "plot_study", "plot_tradeoff", "prepare_seed",
           "read_run", "record_path", "reference", "resize", "resolution", "run_dir", "run_study", "seed_tradeoff",
           "studies", "study_size", "suite", "unique_runs", "verdict_lines"]
