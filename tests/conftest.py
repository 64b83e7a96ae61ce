"""Shared fixtures: locations of the shared test corpus beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NPLAB_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (or $NPLAB_SHARED): real ABF files and public behaviour data."""
    if not SHARED.is_dir():
        pytest.fail(f"shared test data not found at {SHARED}; set NPLAB_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def abf_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "abf"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO
