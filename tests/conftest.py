"""Shared test set-up: quiet TensorFlow, the optional real photos, and one tiny trained run."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SELIB_PROFILE", "ci")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Path to ../shared/realdata; the test is skipped when a fresh clone has none."""
    if not REALDATA.is_dir():
        pytest.skip(f"real photos not available at {REALDATA}")
    return REALDATA


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory) -> Path:
    """4 classes × 10 shapes at 24² (read-only by convention: copy it before changing it)."""
    from toyfolder import make_toy_folder

    return make_toy_folder(tmp_path_factory.mktemp("toydata") / "seats", per_class=10, size=24)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, toy_data) -> Path:
    """A finished run of :func:`toyfolder.tiny_config` on ``toy_data``, trained once per session
    in-process (read-only by convention: use ``run_copy`` to change it)."""
    from selib.training.trainer import train
    from toyfolder import eager_steps, tiny_config

    out = tmp_path_factory.mktemp("trained") / "run"
    with eager_steps():      # its users read the saved run; test_train trains in graph mode
        train(tiny_config(), toy_data, out, verbose=0)
    return out


@pytest.fixture
def run_copy(trained_run, tmp_path) -> Path:
    """A private copy of ``trained_run`` a test may damage."""
    return Path(shutil.copytree(trained_run, tmp_path / "run"))



@pytest.fixture
def crash(monkeypatch):
    """``crash("commit#2")`` arms one in-process crash point; ``crash(None)`` disarms."""
    from selib.training.run_folder import CRASH_ENV, CRASH_MODE_ENV, reset_crash_points

    monkeypatch.setenv(CRASH_MODE_ENV, "raise")

    def arm(point: str | None):
        reset_crash_points()
        if point is None:
            monkeypatch.delenv(CRASH_ENV, raising=False)
        else:
            monkeypatch.setenv(CRASH_ENV, point)
    yield arm
    reset_crash_points()


@pytest.fixture
def eager_steps():
    """Run TensorFlow's train and test steps eagerly for one test.

    For the run-folder and fault tests, which are about what lands on disk and when, never about
    how a step computes: a tiny training then skips tracing its step graph, which is about half
    its time. Graph-mode training stays covered by test_train, the CLI subprocesses and the
    notebooks, which never use this fixture."""
    from toyfolder import eager_steps as eagerly

    with eagerly():
        yield
