"""Benchmarks of nplab.stats (mixed ANOVA, Dunnett) against the naive alternatives.

Run:  PYTHONPATH=src python benchmarks/bench_stats_anova.py [--repeats N] [--json FILE]

1. ``mixed_anova`` (multivariate Type III formulation, 26 animals × 6 time points) vs a
   long-format OLS Type III table with statsmodels (``anova_lm(typ=3)``; the tool users
   reach for — it is also *wrong* for the between effect, which needs the subject error).
2. ``dunnett`` (deterministic quadrature) vs ``scipy.stats.dunnett`` (randomised QMC):
   time, and the absolute p-value error of each against the deterministic reference
   recorded in ``tests/stats/reference/posthoc_expected_dunnett_cci.csv`` (p_integral).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _harness import compare

REF = Path(__file__).resolve().parents[1] / "tests" / "stats" / "reference"


def main() -> None:
    import statsmodels.formula.api as smf
    from scipy import stats
    from statsmodels.stats.anova import anova_lm

    from nplab.stats import dunnett, mixed_anova

    cci = pd.read_csv(REF / "anova_data_cci.csv")

    def ours():
        mixed_anova(cci, dv="log_threshold", between="group", within="time", subject="animal")

    def naive():
        fit = smf.ols("log_threshold ~ C(group, Sum) * C(time, Sum)", data=cci).fit()
        anova_lm(fit, typ=3)

    compare("mixed_anova 26x6", ours, naive, baseline_name="statsmodels OLS anova_lm typ=3")

    h1 = cci[cci["time"] == "h1"]
    samples = {g: h1.loc[h1["group"] == g, "log_threshold"].to_numpy() for g in
               ["drug_high", "drug_low", "sham"]}  # fmt: skip
    control = h1.loc[h1["group"] == "vehicle", "log_threshold"].to_numpy()
    exp = pd.read_csv(REF / "posthoc_expected_dunnett_cci.csv", comment="#").query("case == 'h1'")
    ref = exp.set_index("group")["p_integral"]

    def ours_d():
        return dunnett(h1, dv="log_threshold", group="group", control="vehicle")

    def scipy_d():
        return stats.dunnett(*samples.values(), control=control, rng=np.random.default_rng(1))

    got = ours_d().set_index("group")["p"]
    sp = pd.Series(scipy_d().pvalue, index=list(samples))
    err_ours = float((got - ref.loc[got.index]).abs().max())
    err_scipy = float((sp - ref.loc[sp.index]).abs().max())
    print(f"  max |p - reference|: nplab {err_ours:.2e}, scipy QMC {err_scipy:.2e}")
    compare("dunnett 4 groups (p + CI)", ours_d, scipy_d, baseline_name="scipy.stats.dunnett QMC",
            extra={"max_abs_p_error_nplab": err_ours, "max_abs_p_error_scipy": err_scipy})  # fmt: skip


if __name__ == "__main__":
    main()
