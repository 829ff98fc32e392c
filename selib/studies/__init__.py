"""Ablation studies: variants × paired seeds, run resumably, compared with confidence intervals.

=============== =========================================================================
``study``       :class:`Study` (one factor, variants as config overrides) and :func:`run_study`
``verdicts``    paired differences to the reference, Holm, verdicts read off the interval
``catalog``     which studies notebook 06 runs under each profile (:func:`studies`)
``paper``       the paper's reference numbers, labelled by version and table
``plots``       paired-difference and full-axis accuracy charts
=============== =========================================================================
"""
from selib.studies.paper import PAPER, VERSIONS, cite, paper_lines, paper_table, reference
from selib.studies.plots import paired_table, plot_accuracy, plot_differences, plot_study
from selib.studies.study import (RESULT_COLUMNS, Study, ensure_test_set, prepare_seed, read_run,
                                 run_dir, run_study, unique_runs)
from selib.studies.catalog import ALL_STUDIES, cost, studies, study_size, suite
from selib.studies.verdicts import compare, overview, resolution, verdict_lines

__all__ = ["ALL_STUDIES", "PAPER", "RESULT_COLUMNS", "Study", "VERSIONS", "cite", "compare", "cost",
           "ensure_test_set", "overview", "paired_table", "paper_lines", "paper_table", "plot_accuracy",
           "plot_differences", "plot_study", "prepare_seed", "read_run", "reference", "resolution",
           "run_dir", "run_study", "studies", "study_size", "suite", "unique_runs", "verdict_lines"]
