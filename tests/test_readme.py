"""The README's Python examples run as written (issue 13.7), from the repository root."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"),
                    re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_python_example_runs(i: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(REPO)
    namespace: dict = {"__name__": f"readme_example_{i}"}
    exec(compile(BLOCKS[i], f"README.md python block {i + 1}", "exec"), namespace)
    assert os.getcwd() == str(REPO)
