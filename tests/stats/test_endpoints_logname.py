"""A dv already on the log scale (``log10_threshold`` from ``nplab vonfrey``) is not
log-transformed a second time by default (review regression: log10(log10(g)) was reported
silently when every threshold was above 1 g)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.stats.endpoints import endpoints

REF = Path(__file__).parent / "reference"
KW = dict(subject="rat", time="time", baseline="BL", predose="pre", paw="paw", group="group")


@pytest.mark.parametrize("name", ["log10_threshold", "log_threshold", "Log10_Threshold_g"])
def test_log_named_threshold_is_analysed_as_given(name):
    data = pd.read_csv(REF / "endpoints_data.csv")
    on_log = endpoints(data, dv="threshold_g", **KW)  # default: log10 of grams
    assert (on_log["scale"] == "log10").all()
    logged = data.assign(**{name: np.log10(data["threshold_g"])}).drop(columns="threshold_g")
    res = endpoints(logged, dv=name, **KW)
    assert (res["scale"] == "linear").all()
    np.testing.assert_allclose(res["value"], on_log["value"], rtol=1e-12, equal_nan=True)
    # still overridable
    assert (endpoints(logged.assign(**{name: 10 ** logged[name]}), dv=name, log10=True,
                      **KW)["scale"] == "log10").all()  # fmt: skip
