"""Group statistics for CCI/SNL drug studies (``nplab.stats``).

Flat functions in the pingouin style: a long-format DataFrame in, a tidy DataFrame out,
with the keywords ``data, dv, between, within, subject`` (and ``group``, ``control``).
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
