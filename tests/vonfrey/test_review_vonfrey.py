"""Independent review checks (review1) of nplab.vonfrey.

* Dixon's k: every one of the 248 printed series (``reference/dixon_k_vf_updown_analysis.csv``)
  re-fitted here with a different algorithm (bounded scalar minimisation of the negative
  log-likelihood, scipy ``minimize_scalar``; sigma = 1 step, all trials) -- agreement
  abs 1e-6 with ``dixon_k`` and round-to-3-decimals equality with the printed table.
* Chaplan thresholds: 10^(Xf + k delta)/10^4 walked by hand on the rat handles.
* SUDO: all 32 five-stimulus series from filament #5 of the 9-filament mouse kit, by
  Bonin's rule (5th filament number -0.5 after X, +0.5 after O) and a least-squares line
  of log10(g) on filament number computed here with ``numpy.linalg.lstsq``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from nplab.vonfrey import dixon_k, thresholds

REF = Path(__file__).parent / "reference"
RAT_HANDLES = [3.61, 3.84, 4.08, 4.31, 4.56, 4.74, 4.93, 5.18]
MOUSE_G = [0.008, 0.02, 0.04, 0.07, 0.16, 0.4, 0.6, 1.0, 2.0]


def _k_by_minimisation(series: str) -> float:
    r = np.array([c == "X" for c in series])
    x = np.concatenate([[0.0], np.cumsum([-1.0 if c == "X" else 1.0 for c in series[:-1]])])

    def nll(mu: float) -> float:
        return -(stats.norm.logcdf(x[r] - mu).sum() + stats.norm.logsf(x[~r] - mu).sum())

    fit = optimize.minimize_scalar(
        nll, bounds=(x.min() - 10, x.max() + 10), method="bounded", options={"xatol": 1e-10}
    )
    return float(fit.x - x[-1])


def test_all_printed_k_by_an_independent_fit():
    printed = pd.read_csv(REF / "dixon_k_vf_updown_analysis.csv")
    assert len(printed) == 248
    for series, k in zip(printed["OBSERVATION"].str.upper(), printed["STATISTIC"], strict=True):
        ours = dixon_k(series)
        assert ours == pytest.approx(_k_by_minimisation(series), abs=1e-6), series
        assert round(ours, 3) == pytest.approx(k, abs=1e-9), series
        assert dixon_k(series.translate(str.maketrans("XO", "OX"))) == -ours


def _walk(series: str, start: int) -> list[int]:
    idx = [start]
    for c in series[:-1]:
        idx.append(idx[-1] + (-1 if c == "X" else 1))
    return idx


@pytest.mark.parametrize("series", ["OOXOXOX", "XXOXOOXO", "OOOOXXXXX", "XOOOOO", "oxxoxx"])
def test_chaplan_thresholds_by_hand(series):
    s = series.upper()
    xf = RAT_HANDLES[_walk(s, 3)[-1]]  # start 2.0 g = handle 4.31 (index 3)
    sheet = pd.DataFrame({"animal": ["r"], "responses": [series]})
    out = thresholds(sheet, k_source="ml").iloc[0]
    assert out["xf"] == xf and out["pattern"] == s and out["delta"] == 0.224
    expected = 10 ** (xf + _k_by_minimisation(s) * 0.224) / 1e4
    # the bounded minimiser locates mu to ~1e-8 steps: rel 1e-6 on grams
    assert out["threshold_g"] == pytest.approx(expected, rel=1e-6)
    assert out["log10_threshold"] == pytest.approx(np.log10(expected), abs=1e-6)
    assert out["ci_low_g"] < out["threshold_g"] < out["ci_high_g"]


def test_chaplan_boundaries():
    out = thresholds(pd.DataFrame({"animal": ["lo", "hi"], "responses": ["XXXX", "OOOOO"]}))
    assert out["threshold_g"].tolist() == [0.25, 15.0]
    assert out["status"].tolist() == ["below_range", "above_range"]
    assert out["n_stimuli"].tolist() == [4, 5]


def test_sudo_all_five_stimulus_series_by_bonins_rule():
    series = ["".join(p) for p in itertools.product("XO", repeat=5)]
    out = thresholds(pd.DataFrame({"animal": range(32), "responses": series}), "vonfrey-sudo")
    number = np.arange(1, 10, dtype=float)
    design = np.column_stack([number, np.ones(9)])
    (slope, intercept), *_ = np.linalg.lstsq(design, np.log10(MOUSE_G), rcond=None)
    for s, row in zip(series, out.itertuples(), strict=True):
        fifth = _walk(s, 4)[4] + 1  # filament number (1 = weakest) of the 5th stimulus
        value = fifth - 0.5 if s[4] == "X" else fifth + 0.5
        assert row.threshold_filament == value, s
        assert row.threshold_g == pytest.approx(10 ** (slope * value + intercept), rel=1e-12)
        status = "below_range" if value < 1 else "above_range" if value > 9 else "ok"
        assert row.status == status, s
