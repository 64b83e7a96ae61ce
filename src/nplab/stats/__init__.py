"""Group statistics for CCI/SNL drug studies (``nplab.stats``).

Flat functions in the pingouin style: a long-format DataFrame in, a tidy DataFrame out,
with the keywords ``data, dv, between, within, subject`` (and ``group``, ``control``).
"""

from nplab.stats.anova import mixed_anova
from nplab.stats.mixedlm import MixedModelResult, mixed_model

__all__ = ["MixedModelResult", "mixed_anova", "mixed_model"]

# --- stats-more exports ---
