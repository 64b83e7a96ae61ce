"""Shared fixtures: the test corpus beside the repository, and the ABF files bundled with it.

The full corpus lives in ``../shared`` (or ``$NPLAB_SHARED``): 31 real ABF files and public
behaviour data. ``tests/data/abf`` ships nine of those ABF files (see its SOURCES.md), so a
fresh clone runs the ABF tests on them. Where the full corpus is needed and absent, a test
skips with a one-line reason; with ``NPLAB_REQUIRE_CORPUS=1`` (set by ``.ci/run``) it fails
instead, so CI never silently runs on the bundled subset.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NPLAB_SHARED") or REPO.parent / "shared")
SHARED_ABF = SHARED / "data" / "abf"
BUNDLED_ABF = REPO / "tests" / "data" / "abf"
REQUIRE_CORPUS = os.environ.get("NPLAB_REQUIRE_CORPUS", "").strip() not in ("", "0")
#: the ABF folder the tests run on: the full corpus when present, else the bundled files
ABF_DIR = SHARED_ABF if SHARED_ABF.is_dir() else BUNDLED_ABF


def missing_corpus(what: str) -> None:
    """Skip (or, under NPLAB_REQUIRE_CORPUS, fail) a test that needs the full corpus."""
    msg = f"{what} needs the shared test corpus, not found at {SHARED} (set NPLAB_SHARED)"
    if REQUIRE_CORPUS:
        pytest.fail(f"NPLAB_REQUIRE_CORPUS is set: {msg}", pytrace=False)
    pytest.skip(msg)


def pytest_report_header(config: pytest.Config) -> str:
    where = "shared corpus" if ABF_DIR == SHARED_ABF else "bundled files (no shared corpus)"
    return f"nplab ABF test files: {ABF_DIR} ({where})"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test with an ``abf_name`` argument runs once per ABF file of :data:`ABF_DIR`."""
    if "abf_name" in metafunc.fixturenames:
        metafunc.parametrize("abf_name", sorted(p.name for p in ABF_DIR.glob("*.abf")))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (or $NPLAB_SHARED): real ABF files and public behaviour data."""
    if not SHARED.is_dir():
        missing_corpus("this test")
    return SHARED


@pytest.fixture(scope="session")
def abf_dir() -> Path:
    """Folder of real ABF files: the shared corpus, or the bundled ``tests/data/abf``.

    Under NPLAB_REQUIRE_CORPUS a missing shared corpus fails the test.
    """
    if REQUIRE_CORPUS and ABF_DIR != SHARED_ABF:
        missing_corpus("this test")
    return ABF_DIR


@pytest.fixture(scope="session")
def abf_path(abf_dir: Path) -> Callable[[str], Path]:
    """``abf_path(name)``: that real ABF file, from the shared corpus or the bundled files;
    a test that names a file only the shared corpus holds skips without it."""

    def get(name: str) -> Path:
        path = abf_dir / name
        if not path.is_file():
            missing_corpus(name)
        return path

    return get


@pytest.fixture(scope="session")
def vendor_first_values(abf_dir: Path) -> dict[str, list[float]]:
    """First sample per channel by Molecular Devices' ABFFIO.DLL, from the SOURCES.md
    beside the ABF files (``| file.abf | [v0, v1] |`` rows)."""
    text = (abf_dir / "SOURCES.md").read_text(encoding="utf-8")
    rows = re.finditer(r"^\| (\S+\.abf) \| \[([^\]]*)\] \|", text, flags=re.M)
    return {m.group(1): [float(v) for v in m.group(2).split(",")] for m in rows}


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO
