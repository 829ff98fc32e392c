"""Shared test set-up: quiet TensorFlow, tiny CPU threads, and the optional real photos."""
from __future__ import annotations

import os
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
