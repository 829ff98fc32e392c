"""Root pytest set-up: how `make test` spreads the suite over two processes (pytest-xdist).

It lives here, not in tests/, so it also applies to ``pytest -n 2 --nbval-lax notebooks`` alone.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest


def series_scope(nodeid: str) -> str:
    """The unit one worker runs in order: every notebook together (each kernel's cells depend on
    the ones before, 04 trains the run 05 reads, and the first one renders the built-in dataset),
    otherwise one test module (its module- and session-scoped fixtures, such as the benchmarks'
    one in-process run, are then built once, not once per test)."""
    path = nodeid.split("::", 1)[0]
    return "notebooks" if path.endswith(".ipynb") else path


@pytest.hookimpl(optionalhook=True)    # only called where pytest-xdist is installed
def pytest_xdist_make_scheduler(config, log):
    """xdist's own ``--dist loadgroup`` cannot do this on pytest 9: it rewrites ``item._nodeid``,
    which pytest 9 no longer reads, so every test became its own group and notebooks were split
    across workers, cell by cell."""
    from xdist.scheduler import LoadScopeScheduling

    class SeriesScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return series_scope(nodeid)

    config.option.loadscopereorder = False    # the order is pytest_collection_modifyitems' below
    return SeriesScheduling(config, log)


@pytest.hookimpl(trylast=True)            # after `-m` has deselected what will not run
def pytest_collection_modifyitems(config, items) -> None:
    """On an xdist worker: the heaviest units first, so that the run ends on small ones.

    A worker takes a new unit while it still has a couple of tests left, so a heavy unit at the
    end of the queue (a module of a few long tests, which xdist's own order by test count puts
    last) kept one worker busy for half a minute after the other ran dry. The notebooks go first (the
    longest unit, and the built-in dataset is rendered in the first one); a test marked ``slow``
    (seconds) weighs as much as forty others (a fraction of a second each). The collection stays
    the same on every worker, as xdist requires."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    weight: Counter = Counter()
    for item in items:
        weight[series_scope(item.nodeid)] += 40 if item.get_closest_marker("slow") else 1
    weight["notebooks"] = max(weight.values(), default=0) + 1
    items.sort(key=lambda item: -weight[series_scope(item.nodeid)])   # stable: in-unit order kept
