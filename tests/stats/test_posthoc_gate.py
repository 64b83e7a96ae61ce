"""The results paragraph's omnibus gate (issue 14.7): a post hoc difference is not called
shown when the omnibus test it follows was not significant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats import omnibus_passed, results_paragraph


def _anova(p_group: float, p_inter: float) -> pd.DataFrame:
    row = dict(df1=2.0, df2=30.0, F=1.0, eps_hf=np.nan, mauchly_w=np.nan, mauchly_p=np.nan,
               np2=0.1, ges=0.05, ss=1.0, ss_error=10.0)
    return pd.DataFrame([
        {**row, "source": "group", "p": p_group, "eps_gg": np.nan, "p_gg": p_group,
         "p_hf": p_group},
        {**row, "source": "timepoint", "p": 0.001, "eps_gg": 0.9, "p_gg": 0.001, "p_hf": 0.001},
        # uncorrected p significant, Greenhouse–Geisser corrected p decides
        {**row, "source": "group:timepoint", "p": 0.01, "eps_gg": 0.6, "p_gg": p_inter,
         "p_hf": p_inter},
    ])


POSTHOC = pd.DataFrame({"timepoint": ["1h", "1h"], "group": ["drug", "sham"],
                        "diff": [0.5, 0.1], "p": [0.01, 0.6], "ci_low": [0.1, -0.3],
                        "ci_high": [0.9, 0.5]})


def test_gate_closed_says_omnibus_first_and_shows_nothing():
    text = results_paragraph(_anova(0.30, 0.20), posthoc=POSTHOC, control="vehicle",
                             within="timepoint", gate="omnibus")
    assert text.index("no significant main effect of group") < text.index("not interpreted")
    assert "showed differences" not in text
    assert "1 comparison(s) had a nominal p < 0.05" in text


@pytest.mark.parametrize(("gate", "p_group", "p_inter", "shown"), [
    ("omnibus", 0.01, 0.20, True),       # group main effect opens the omnibus gate
    ("interaction", 0.01, 0.20, False),  # ... but not the interaction gate
    ("interaction", 0.30, 0.04, True),
    ("none", 0.30, 0.20, True),
    (False, 0.30, 0.20, True),
    (True, 0.30, 0.20, False),
])
def test_gate_values(gate, p_group, p_inter, shown):
    text = results_paragraph(_anova(p_group, p_inter), posthoc=POSTHOC, control="vehicle",
                             within="timepoint", gate=gate)
    assert ("showed differences for drug (timepoint 1h: difference 0.500" in text) == shown


def test_omnibus_passed_looks_at_the_compared_factor():
    ok, looked = omnibus_passed(_anova(0.3, 0.2), "group", "omnibus")
    assert not ok and looked == ["group", "group:timepoint"]
    assert omnibus_passed(_anova(0.3, 0.2), "group", "interaction")[1] == ["group:timepoint"]
    with pytest.raises(InputError):
        omnibus_passed(_anova(0.3, 0.2), "group", "always")
