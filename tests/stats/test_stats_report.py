"""Results paragraph and time-course figure."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.anova import mixed_anova
from nplab.stats.report import (
    format_p,
    results_paragraph,
    save_figure,
    stars,
    timecourse_figure,
)

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def cci():
    return pd.read_csv(REF / "anova_data_cci.csv")


@pytest.fixture(scope="module")
def aov(cci):
    return mixed_anova(cci, dv="log_threshold", between="group", within="time", subject="animal")


def _fake_posthoc():
    # a hand-made Dunnett table: the paragraph must quote exactly these numbers
    return pd.DataFrame(
        {
            "time": ["h1", "h1", "h2"],
            "group": ["drug_high", "drug_low", "drug_high"],
            "diff": [0.525, 0.2, 0.342],
            "se": [0.14, 0.13, 0.15],
            "t": [3.7, 1.5, 2.3],
            "df": [22.0, 22.0, 22.0],
            "p": [0.0032, 0.31, 0.046],
            "ci_low": [0.169, -0.1, 0.006],
            "ci_high": [0.881, 0.5, 0.679],
        }
    )


def test_format_p_and_stars():
    assert format_p(0.0004) == "p < .001"
    assert format_p(0.0234) == "p = .023"
    assert format_p(0.5) == "p = .500"
    assert [stars(p) for p in (0.0005, 0.005, 0.04, 0.2)] == ["***", "**", "*", ""]


def test_paragraph_quotes_the_table_numbers(aov):
    text = results_paragraph(aov, dv="log_threshold", posthoc=_fake_posthoc(), control="vehicle",
                             within="time")  # fmt: skip
    inter = aov.set_index("source").loc["group:time"]
    assert text.startswith("A two-way mixed ANOVA (group × time) on log_threshold")
    assert f"group × time interaction, F(15, 110) = {inter['F']:.2f}, p < .001" in text
    assert f"Greenhouse–Geisser ε = {inter['eps_gg']:.2f}" in text
    assert f"generalised η² = {inter['ges']:.3f}" in text
    assert "main effect of group, F(3, 22) = 21.56" in text
    assert "Mauchly's W = 0.092, p < .001" in text
    assert "drug_high (time h1: difference 0.525 [0.169, 0.881], p = .003; time h2:" in text
    assert "drug_low" not in text  # p = .31 is not reported as a difference


def test_paragraph_nonsignificant_and_one_way(cci):
    rng = np.random.default_rng(5)
    noise = cci.assign(log_threshold=rng.normal(size=len(cci)))
    aov = mixed_anova(noise, dv="log_threshold", between="group", within="time", subject="animal")
    text = results_paragraph(aov)
    p_int = aov.set_index("source").loc["group:time", "p_gg"]
    assert ("no significant group × time interaction" in text) == (p_int >= 0.05)
    one = mixed_anova(cci[cci.time == "h1"], dv="log_threshold", between="group")
    assert results_paragraph(one).startswith("A one-way ANOVA (group) showed a significant")
    with pytest.raises(InputError):
        results_paragraph(pd.DataFrame({"x": [1]}))


def test_figure_is_reproducible(cci, tmp_path):
    ph = _fake_posthoc()
    digests = []
    for i in range(2):
        fig = timecourse_figure(cci, "log_threshold", "group", "time", "animal", ph)
        for suffix in ("png", "svg"):
            path = save_figure(fig, tmp_path / f"f{i}.{suffix}")
            digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert digests[0] == digests[2] and digests[1] == digests[3]
    svg = (tmp_path / "f0.svg").read_text()
    assert "<dc:date>" not in svg
    # markers: '**' at h1 and '*' at h2 for drug_high
    fig = timecourse_figure(cci, "log_threshold", "group", "time", "animal", ph)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(texts) == ["*", "**"]
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(re.fullmatch(r"vehicle \(n = 8\)", lab) for lab in labels)
    with pytest.raises(InputError):
        save_figure(fig, tmp_path / "f.bmp")
