"""The vectorised sheet path of ``thresholds`` equals a per-row evaluation (issue 19.6).

A random lab sheet (valid series, lower case and blanks inside series, bad characters,
empty cells, start-filament overrides in and out of the kit, paths leaving the kit) is run
through :func:`nplab.vonfrey.thresholds`; every row must equal what the one-series
function :func:`nplab.vonfrey.updown.evaluate_series` gives for that row (exactly: same
code, evaluated once per distinct series instead of once per row), and invalid rows must
be flagged with their reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.protocols import load_protocol
from nplab.vonfrey import thresholds
from nplab.vonfrey.kits import kit_from_params
from nplab.vonfrey.updown import RESULT_COLUMNS, evaluate_series, resolve_kit_params

PROTOCOL = "vonfrey-updown-rat"


def _random_sheet(n: int, seed: int) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    cells: list[object] = []
    for _ in range(n):
        kind = g.random()
        series = "".join(g.choice(["X", "O"], size=int(g.integers(1, 10))))
        if kind < 0.05:
            cells.append(None)  # empty cell
        elif kind < 0.10:
            cells.append(series[:2] + "Z" + series[2:])  # bad character
        elif kind < 0.20:
            cells.append(" ".join(series.lower()))  # blanks and lower case
        else:
            cells.append(series)
    proto = load_protocol(PROTOCOL, kind="vonfrey")
    kit = kit_from_params(proto.params, file=proto.path)
    labels = [*kit.grams, 0.123]  # one value that is not a filament
    start = [float(g.choice(labels)) if g.random() < 0.3 else np.nan for _ in range(n)]
    return pd.DataFrame({
        "animal": [f"R{i:05d}" for i in range(n)],
        "paw": g.choice(["ipsi", "contra"], size=n),
        "timepoint": "D7",
        "responses": cells,
        "start_filament": start,
    })


@pytest.mark.parametrize("seed", [1, 2])
def test_thresholds_equal_per_row_evaluation(seed):
    sheet = _random_sheet(3000, seed)
    out = thresholds(sheet, PROTOCOL, on_invalid="flag", filament_unit="grams")
    assert len(out) == len(sheet)
    proto = load_protocol(PROTOCOL, kind="vonfrey", filament_unit="grams")
    kit = kit_from_params(proto.params, file=proto.path)
    params = resolve_kit_params(kit, proto.params, file=proto.path)
    default = kit.index_of(proto.params["start_filament"], "grams")
    n_checked = 0
    for i, row in sheet.iterrows():
        got = out.iloc[i]
        cell = row["responses"]
        text = "" if cell is None else "".join(str(cell).split()).upper()
        start = default
        if not np.isnan(row["start_filament"]):
            start = kit.index_of(row["start_filament"], "grams")
        if not text or set(text) - {"X", "O"} or start is None:
            assert got["status"] == "invalid"
            assert got["message"] != ""
            continue
        want = evaluate_series(text, start, kit, params)
        for col in RESULT_COLUMNS:
            w, g_ = want[col], got[col]
            if isinstance(w, float) and np.isnan(w):
                assert np.isnan(g_), (i, col)
            else:
                assert g_ == w, (i, col, g_, w)
        n_checked += 1
    assert n_checked > 2000  # most rows are valid series
    assert (out["status"] == "invalid").sum() > 100  # and the invalid kinds all occur
