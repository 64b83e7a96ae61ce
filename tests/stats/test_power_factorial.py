"""Power for factorial designs (issue 14.8).

References (``reference/power_factorial_reference.R``):
* paw contrast: R ``power.t.test(type = "paired" / "two.sample", sd = σ√(2(1 − ρ)))`` →
  ``power_paw_values.csv`` (power and n for 80 %, 1e-6 relative);
* treatment × sex interaction: Monte Carlo power of ``car::Anova(lm(y ~ trt * sex),
  type = 3)`` over 20 000 simulated studies per n (``power_interaction_sim.csv``), compared
  within 4 simulation SEs (SE ≤ 0.0036).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats import power_interaction, power_paw_contrast

REF = Path(__file__).parent / "reference"
MU = [[0.25, 0.25], [0.45, 0.45], [0.65, 0.95]]  # treatment × sex (M, F), as the R script


@pytest.mark.parametrize("row", pd.read_csv(REF / "power_paw_values.csv").to_dict("records"))
def test_paw_contrast_matches_power_t_test(row):
    groups = 1 if row["case"] == "paired" else 2
    got = power_paw_contrast(row["delta"], row["sigma"], row["rho"], n=row["n"], groups=groups)
    assert got["power"].iloc[0] == pytest.approx(row["power"], rel=1e-6)
    need = power_paw_contrast(row["delta"], row["sigma"], row["rho"], power=0.8, groups=groups)
    assert need["n_per_group"].iloc[0] == pytest.approx(row["n_for_80"], rel=1e-6)


def test_interaction_power_matches_simulation():
    sim = pd.read_csv(REF / "power_interaction_sim.csv")
    for _, r in sim.iterrows():
        got = power_interaction(MU, r["sigma"], n=r["n"])
        assert abs(got["power"].iloc[0] - r["power_sim"]) < 4 * r["se"] + 1e-3, r["n"]
        assert got["df1"].iloc[0] == 2 and got["df2"].iloc[0] == 6 * (r["n"] - 1)


def test_interaction_sample_size_inverts_power():
    need = power_interaction(MU, 0.2, power=0.8)
    n = need["n_per_group"].iloc[0]
    assert power_interaction(MU, 0.2, n=n)["power"].iloc[0] == pytest.approx(0.8, abs=1e-8)
    # averaging m correlated measures per animal shrinks the SD: fewer animals
    fewer = power_interaction(MU, 0.2, power=0.8, measures=4, rho=0.5)["n_per_group"].iloc[0]
    assert fewer < n
    # no interaction in the means: f = 0
    assert power_interaction([[0, 1], [2, 3]], 1.0, n=5)["effect_size"].iloc[0] == 0


def test_refusals():
    with pytest.raises(InputError):
        power_interaction([1, 2, 3], 0.2, n=5)
    with pytest.raises(InputError):
        power_paw_contrast(0.1, 0.2, 0.5, n=5, groups=3)
    with pytest.raises(InputError):
        power_paw_contrast(0.1, 0.2, 0.5)
    assert np.isfinite(power_paw_contrast(0.1, 0.2, 0.5, n=5)["power"].iloc[0])
