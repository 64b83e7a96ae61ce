"""Group statistics for CCI/SNL drug studies (``nplab.stats``).

Flat functions in the pingouin style: a long-format DataFrame in, a tidy DataFrame out,
with the keywords ``data, dv, between, within, subject`` (and ``group``, ``control``).
"""

from nplab.stats.anova import mixed_anova
from nplab.stats.mixedlm import MixedModelResult, mixed_model
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
from nplab.stats.report import results_paragraph, save_figure, timecourse_figure

__all__ = [
    "MixedModelResult",
    "dunnett",
    "dunnett_by_time",
    "dunnett_critical",
    "dunnett_pvalue",
    "dunnett_pvalues",
    "mixed_anova",
    "mixed_model",
    "pairwise",
    "posthoc_by_time",
    "results_paragraph",
    "save_figure",
    "timecourse_figure",
    "tukey",
]

# --- stats-more exports ---
