"""Report text (issue 13.11): plurals, no doubled punctuation, the blinding statement once."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from nplab.report import plural, tidy_text


def test_plural() -> None:
    assert plural(18, "mouse") == "18 mice"
    assert plural(1, "mouse") == "1 mouse"
    assert plural(50, "rat") == "50 rats"
    assert plural(2, "animal") == "2 animals" and plural(0, "animal") == "0 animals"
    assert plural(3, "mice") == "3 mice"


def test_tidy_text() -> None:
    assert tidy_text("i.p.. Next") == "i.p. Next"
    assert tidy_text("before unblinding.. Excluded") == "before unblinding. Excluded"
    assert tidy_text("sha256 fe0e... was") == "sha256 fe0e... was"
    assert tidy_text("a  b\n c") == "a b c"


@pytest.mark.slow
def test_sample_report_text(repo_dir: Path, tmp_path: Path) -> None:
    from nplab.runner import run_study

    run_study(repo_dir / "sample_data" / "cci_study.toml", tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", "", page)))
    assert not re.search(r"(?<!\.)\.\s*\.(?!\.)", text), "doubled full stop"
    assert "animal(s)" not in text and "file(s)" not in text
    assert text.count("without knowing which code is which group") == 1
    assert "50 rats" in text
    # results paragraphs name variables by their labels, not column names (issue 13.11)
    paragraphs = " ".join(html.unescape(re.sub(r"<[^>]+>", "", p))
                          for p in re.findall(r"<p>(.*?)</p>", page, re.S))
    assert "group × time point" in paragraphs
    for machine in ("timepoint", "log10_threshold", "latency_s", "threshold_g"):
        assert machine not in paragraphs, machine
