"""Group statistics for CCI/SNL drug studies (``nplab.stats``).

Flat functions in the pingouin style: a long-format DataFrame in, a tidy DataFrame out,
with the keywords ``data, dv, between, within, subject`` (and ``group``, ``control``).

Level order — one rule for every table (ANOVA cells, mixed-model fixed effects and
marginal means, Dunnett / Tukey / pairwise rows, rank tests, effect sizes, endpoints):

* levels appear in the order of their **first appearance in the data**, top to bottom —
  numbers and numeric text (time points 1, 2, 4, 6 h) too: they are not sorted, so a table
  sorted by time gives the time order, and one whose first animal lacks a time point
  does not;
* unless the user gives them: ``levels={"time": ["BL", "D7", "1", "2"], "group": [...]}``
  (keyword of every function that orders levels; the study runner passes the study
  file's group and time-point order) or a pandas ``Categorical`` column.  A value missing
  from the given list is an :class:`~nplab.errors.InputError` naming the column, the row
  and the level; listed levels absent from the data are dropped;
* the control level is the **reference level of fixed-effects tables**
  (``mixed_model(..., control="vehicle")``: the other levels' coefficients are
  differences from it); tables of means and comparisons keep the level order and leave
  the control out of the compared rows;
* exception: :func:`~nplab.stats.endpoints.endpoints` orders time as a quantity
  (baseline, pre-dose, then hours after dosing: the x of the AUC), and time-course
  figures draw a numeric time axis left to right.

The level order changes no statistic (only which of two groups is ``a`` in a pairwise
row, hence the sign of its difference).  Implemented once, in
:func:`nplab.stats._levels.level_order`.
"""

from nplab.stats.anova import mixed_anova
from nplab.stats.mixedlm import MixedModelResult, mixed_model
from nplab.stats.paired import paired_tests, paired_ttest, wilcoxon_signed_rank
from nplab.stats.posthoc import (
    dunnett,
    dunnett_by_time,
    dunnett_critical,
    dunnett_pvalue,
    dunnett_pvalues,
    pairwise,
    posthoc_by_time,
    tukey,
)
from nplab.stats.report import (
    marks_note,
    omnibus_passed,
    results_paragraph,
    save_figure,
    share_ylim,
    timecourse_figure,
)

__all__ = [
    "MixedModelResult",
    "dunnett",
    "dunnett_by_time",
    "dunnett_critical",
    "dunnett_pvalue",
    "dunnett_pvalues",
    "marks_note",
    "mixed_anova",
    "mixed_model",
    "omnibus_passed",
    "paired_tests",
    "paired_ttest",
    "pairwise",
    "posthoc_by_time",
    "results_paragraph",
    "save_figure",
    "share_ylim",
    "timecourse_figure",
    "tukey",
    "wilcoxon_signed_rank",
]

# --- stats-more exports ---
from nplab.stats.effsize import eta_squared, hedges_g, hedges_g_from_stats
from nplab.stats.endpoints import (
    auc_trapezoid,
    change_from_predose,
    endpoints,
    ipsi_minus_contra,
    percent_mpe,
    percent_reversal,
)
from nplab.stats.nonparametric import (
    adjust_pvalues,
    dunn,
    friedman,
    kruskal,
    mann_whitney,
)
from nplab.stats.power import (
    cohens_f,
    pilot_effects,
    power_anova,
    power_interaction,
    power_paw_contrast,
    power_rm_anova,
    power_ttest,
)

__all__ += [
    "adjust_pvalues",
    "auc_trapezoid",
    "change_from_predose",
    "cohens_f",
    "dunn",
    "endpoints",
    "eta_squared",
    "friedman",
    "hedges_g",
    "hedges_g_from_stats",
    "ipsi_minus_contra",
    "kruskal",
    "mann_whitney",
    "percent_mpe",
    "percent_reversal",
    "pilot_effects",
    "power_anova",
    "power_interaction",
    "power_paw_contrast",
    "power_rm_anova",
    "power_ttest",
]
