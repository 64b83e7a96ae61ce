"""Group statistics for CCI/SNL drug studies (``nplab.stats``).

Flat functions in the pingouin style: a long-format DataFrame in, a tidy DataFrame out,
with the keywords ``data, dv, between, within, subject`` (and ``group``, ``control``).

The public names load lazily (PEP 562 module ``__getattr__``): ``import nplab.stats`` or
importing one of its submodules loads no statistics library until a function is used, so
``nplab stats --help`` starts quickly (issue 19.2).  ``from nplab.stats import dunnett``
and ``from nplab.stats import *`` work as before.

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

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

#: public name -> submodule of ``nplab.stats`` that defines it
_EXPORTS: dict[str, str] = {
    "mixed_anova": "anova",
    "MixedModelResult": "mixedlm",
    "mixed_model": "mixedlm",
    "paired_tests": "paired",
    "paired_ttest": "paired",
    "wilcoxon_signed_rank": "paired",
    "dunnett": "posthoc",
    "dunnett_by_time": "posthoc",
    "dunnett_critical": "posthoc",
    "dunnett_pvalue": "posthoc",
    "dunnett_pvalues": "posthoc",
    "pairwise": "posthoc",
    "posthoc_by_time": "posthoc",
    "tukey": "posthoc",
    "marks_note": "report",
    "omnibus_passed": "report",
    "results_paragraph": "report",
    "save_figure": "report",
    "share_ylim": "report",
    "timecourse_figure": "report",
    # --- stats-more exports ---
    "eta_squared": "effsize",
    "hedges_g": "effsize",
    "hedges_g_from_stats": "effsize",
    "auc_trapezoid": "endpoints",
    "change_from_predose": "endpoints",
    "endpoints": "endpoints",
    "ipsi_minus_contra": "endpoints",
    "percent_mpe": "endpoints",
    "percent_reversal": "endpoints",
    "adjust_pvalues": "nonparametric",
    "dunn": "nonparametric",
    "friedman": "nonparametric",
    "kruskal": "nonparametric",
    "mann_whitney": "nonparametric",
    "cohens_f": "power",
    "pilot_effects": "power",
    "power_anova": "power",
    "power_interaction": "power",
    "power_paw_contrast": "power",
    "power_rm_anova": "power",
    "power_ttest": "power",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _StatsPackage(types.ModuleType):
    """``nplab.stats.endpoints`` is the function, as with the former eager imports.

    Loading a submodule binds it on the package; where a public function has the name of
    its own submodule (``endpoints``) the function is bound instead, so the package
    attribute does not depend on which submodule happened to load first.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _StatsPackage
