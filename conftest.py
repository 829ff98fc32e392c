"""Root pytest set-up: how `make test` spreads the suite over two processes (pytest-xdist).

It lives here, not in tests/, so it also applies to ``pytest -n 2 --nbval-lax notebooks`` alone.
"""
from __future__ import annotations

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

    return SeriesScheduling(config, log)
