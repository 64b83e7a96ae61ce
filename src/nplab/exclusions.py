"""The study's a-priori exclusion rules, applied to the assays' per-animal measurements.

Each ``[[exclusions]]`` rule names a per-animal assay (:mod:`nplab.assays`), a time
point, a paw and criteria declared by that assay; the assay decides whether an animal
meets them (:meth:`nplab.assays.base.Assay.exclusion_reasons`).  Animals marked
``excluded`` in the animals table are excluded too (rule ``animals table``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nplab import assays
from nplab.study import Study

__all__ = ["apply_exclusions"]


def apply_exclusions(
    study: Study,
    animals: pd.DataFrame,
    measures: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    """Decide which animals are excluded, and why.

    Parameters
    ----------
    study
        Supplies the ``[[exclusions]]`` rules.
    animals
        The animals table (``excluded``/``exclusion_reason`` columns are honoured:
        rule ``animals table``).
    measures
        Per assay, one row per animal × paw × timepoint (the assay's measurements);
        each rule is checked by its assay (:meth:`nplab.assays.base.Assay.exclusion_reasons`).

    Returns
    -------
    DataFrame
        One row per excluded animal and rule: ``animal, group, model, rule, reason``,
        sorted by animal.  Rules are applied to animals whose ``model`` is listed in
        the rule's ``models``; a rule that cannot be checked because the test is
        missing excludes the animal and says so.
    """
    rows: list[dict[str, Any]] = []
    info = animals.set_index("animal")
    for a in animals.loc[animals["excluded"], "animal"]:
        reason = info.at[a, "exclusion_reason"]
        rows.append({"animal": a, "rule": "animals table",
                     "reason": str(reason) if pd.notna(reason) and str(reason)
                     else "marked excluded"})
    for rule in study.exclusions:
        assay = assays.get(rule["assay"])
        table = measures[rule["assay"]]
        tp, paw = rule["timepoint"], rule["paw"]
        models = set(rule["models"])
        model_col = info["model"].astype("string")
        sub = table[(table["timepoint"] == tp) & (table["paw"] == paw)].set_index("animal")
        bl = table[(table["timepoint"] == study.baseline_label) & (table["paw"] == paw)]
        base = bl.set_index("animal")
        for a in (a for a in animals["animal"] if model_col.get(a) in models):
            if a not in sub.index:
                rows.append({"animal": a, "rule": rule["name"], "reason":
                             f"no {paw} {rule['assay']} test at {tp}: the rule cannot be "
                             "checked"})
                continue
            reasons = assay.exclusion_reasons(
                rule, sub.loc[a], base.loc[a] if a in base.index else None)
            if reasons:
                rows.append({"animal": a, "rule": rule["name"], "reason": "; ".join(reasons)})
    out = pd.DataFrame(rows, columns=["animal", "rule", "reason"])
    out.insert(1, "group", out["animal"].map(info["group"]).astype("string"))
    out.insert(2, "model", out["animal"].map(info["model"]).astype("string"))
    return out.sort_values(["animal", "rule"], kind="mergesort").reset_index(drop=True)
