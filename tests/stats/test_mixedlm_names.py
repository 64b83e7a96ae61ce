"""Issue 13 items 6 and 8: column names with spaces in mixed-model formulas (``Q("...")``),
variance components named after the subject column, a readable repr.

Reference: the same model fitted on the same data with identifier column names (renaming
columns must not change a single number; tolerance 1e-9 relative) and the lme4 sleepstudy
values already checked in ``test_mixedlm.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.mixedlm import mixed_model


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    rows = []
    for a in range(12):
        group = ["vehicle", "drug", "sham"][a % 3]
        u = rng.normal(0, 0.3)
        for t, time in enumerate(["BL", "D7", "D14"]):
            if (a, t) == (4, 2):
                continue  # a missing time point
            y = 1.0 + 0.2 * t * (group != "sham") - 0.3 * (group == "drug") + u
            rows.append({"Animal ID": f"r{a}", "Treatment group": group, "time": time,
                         "Pain Score": y + rng.normal(0, 0.2)})  # fmt: skip
    return pd.DataFrame(rows)


def test_quoted_names_fit_the_same_model(data):
    plain = data.rename(columns={"Animal ID": "animal", "Treatment group": "group",
                                 "Pain Score": "pain"})  # fmt: skip
    ref = mixed_model(plain, "pain ~ C(group) * C(time)", subject="animal")
    fit = mixed_model(data, 'Q("Pain Score") ~ C(Q("Treatment group")) * C(time)',
                      subject="Animal ID")
    np.testing.assert_allclose(fit.fixed["estimate"], ref.fixed["estimate"], rtol=1e-9)
    np.testing.assert_allclose(fit.fixed["df"], ref.fixed["df"], rtol=1e-9)
    aov, aov_ref = fit.anova(), ref.anova()
    assert aov["source"].tolist() == ["Treatment group", "time", "Treatment group:time"]
    np.testing.assert_allclose(aov["F"], aov_ref["F"], rtol=1e-9)
    em = fit.emmeans()
    assert list(em.columns[:2]) == ["Treatment group", "time"]
    np.testing.assert_allclose(em["emmean"], ref.emmeans()["emmean"], rtol=1e-9)
    # the factorial shortcut quotes the names itself
    short = mixed_model(data, dv="Pain Score", between="Treatment group", within="time",
                        subject="Animal ID")  # fmt: skip
    np.testing.assert_allclose(short.fixed["estimate"], ref.fixed["estimate"], rtol=1e-9)


def test_name_with_space_without_q_is_explained(data):
    with pytest.raises(InputError) as exc:
        mixed_model(data, "Pain Score ~ C(time)", subject="Animal ID")
    assert exc.value.column == "Pain Score"
    assert 'Q("Pain Score")' in str(exc.value)


def test_variance_named_after_subject_and_readable_repr(data):
    plain = data.rename(columns={"Animal ID": "animal", "Pain Score": "pain"})
    fit = mixed_model(plain, "pain ~ C(time)", subject="animal")
    assert fit.variance["component"].tolist() == ["animal (intercept)", "Residual"]
    text = repr(fit)
    lines = text.splitlines()
    assert 3 <= len(lines) <= 12 and all(len(line) < 140 for line in lines)
    assert "pain ~ C(time)" in lines[0] and "REML" in lines[0]
    assert "35 observations from 12 animals" in text
    assert "Intercept" in text and "animal (intercept) variance" in text
    assert "Group" not in text and "DataFrame" not in text
