"""Published reference values (K_i, IC50) shown beside fitted IC50s.

Reference tables are versioned TOML files, one per drug, in ``protocols/references/``
(``amitriptyline.toml`` ships with nplab; add ``<drug>.toml`` files to extend the table
to other drugs, or pass your own file).  Each file has a ``[reference]`` header
(``drug``, ``version``, ``title``, optional ``guide``) and ``[[values]]`` entries with
``key``, ``target``, ``measure`` (``Ki``/``IC50``), ``state``, ``value`` (optional
``value_high`` for a range), ``unit`` (pM/nM/uM/µM/mM), ``system``, ``source``,
``primary_source`` and ``checked``.

:func:`compare_to_references` puts each pooled fitted IC50 beside the reference entry
whose ``key`` (or ``target``) equals the experiment's ``target`` for that drug and
condition, with the ratio fitted/reference and whether the reference lies inside the
fitted confidence interval.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from nplab.errors import InputError
from nplab.protocols import protocol_dirs

__all__ = [
    "COMPARISON_COLUMNS",
    "REFERENCE_COLUMNS",
    "compare_state_to_references",
    "compare_to_references",
    "load_references",
    "reference_dirs",
]

#: Columns of the reference table (:func:`load_references`).
REFERENCE_COLUMNS = (
    "drug", "key", "target", "measure", "state", "value", "value_high", "unit", "value_um",
    "value_high_um", "system", "source", "primary_source", "checked", "version", "file",
)
#: Columns of :func:`compare_to_references`.
COMPARISON_COLUMNS = (
    "drug", "condition", "level", "target", "key", "measure", "state", "reference_um",
    "reference_high_um", "ic50_um", "ic50_ci_low_um", "ic50_ci_high_um", "ratio", "inside_ci",
    "source", "primary_source", "reference_version",
)

# µM per unit as exact decimals (values are scaled in decimal and rounded once, so
# 3780 nM -> 3.78 and 3.45 nM -> 0.00345 exactly as written)
_UNITS_UM = {"pm": Decimal("1e-6"), "nm": Decimal("1e-3"), "um": Decimal(1), "µm": Decimal(1),
             "μm": Decimal(1), "mm": Decimal(1000)}


def _to_um(x: float, scale: Decimal) -> float:
    return float(Decimal(repr(float(x))) * scale) if math.isfinite(x) else math.nan
_REQUIRED = ("key", "target", "measure", "value", "unit", "source")
_ALLOWED = {*_REQUIRED, "state", "value_high", "system", "primary_source", "checked"}


def reference_dirs() -> list[Path]:
    """Folders searched for ``<drug>.toml``: ``references/`` under each protocol folder."""
    return [d / "references" for d in protocol_dirs() if (d / "references").is_dir()]


def _read(path: Path) -> list[dict]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", file=path) from None
    head = data.get("reference")
    if not isinstance(head, dict) or not head.get("drug") or not head.get("version"):
        raise InputError("missing [reference] table with drug and version", file=path,
                         column="reference", expected='drug = "...", version = "..."')
    values = data.get("values")
    if not isinstance(values, list) or not values:
        raise InputError("no [[values]] entries", file=path, column="values")
    rows, keys = [], set()
    for i, v in enumerate(values):
        where = f"values[{i}]"
        unknown = set(v) - _ALLOWED
        if unknown:
            raise InputError(f"unknown field '{sorted(unknown)[0]}'", file=path, column=where,
                             expected=f"fields {', '.join(sorted(_ALLOWED))}")
        for k in _REQUIRED:
            if k not in v or v[k] in ("", None):
                raise InputError("required field is missing", file=path, column=f"{where}.{k}")
        unit = str(v["unit"]).strip().casefold()
        if unit not in _UNITS_UM:
            raise InputError(f"unknown unit {v['unit']!r}", file=path, column=f"{where}.unit",
                             expected="pM, nM, uM (µM) or mM")
        value = v["value"]
        high = v.get("value_high", math.nan)
        for name, x in (("value", value), ("value_high", high)):
            if isinstance(x, bool) or not isinstance(x, int | float) or x <= 0:
                raise InputError(f"{x!r} is not a positive number", file=path,
                                 column=f"{where}.{name}", expected="a number > 0")
        if math.isfinite(high) and high < value:
            raise InputError("value_high is below value", file=path, column=f"{where}.value_high")
        key = str(v["key"])
        if key.casefold() in keys:
            raise InputError(f"duplicate key '{key}'", file=path, column=f"{where}.key")
        keys.add(key.casefold())
        scale = _UNITS_UM[unit]
        rows.append({
            "drug": str(head["drug"]), "key": key, "target": str(v["target"]),
            "measure": str(v["measure"]), "state": str(v.get("state", "")),
            "value": float(value), "value_high": float(high), "unit": str(v["unit"]),
            "value_um": _to_um(float(value), scale), "value_high_um": _to_um(float(high), scale),
            "system": str(v.get("system", "")), "source": str(v["source"]),
            "primary_source": str(v.get("primary_source", "")),
            "checked": str(v.get("checked", "")), "version": str(head["version"]),
            "file": path.name,
        })
    return rows


def load_references(
    drugs: str | Iterable[str] | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    missing: str = "raise",
) -> pd.DataFrame:
    """Reference values of ``drugs`` (shipped files), or of the file at ``path``.

    Parameters
    ----------
    drugs
        Drug name(s); ``<drug>.toml`` (lower case) is looked up in :func:`reference_dirs`.
        ``None`` loads every shipped file.
    path
        A reference TOML file of your own (then ``drugs`` is ignored).
    missing
        ``"raise"`` (InputError) or ``"skip"`` when a drug has no reference file.

    Returns
    -------
    DataFrame
        :data:`REFERENCE_COLUMNS`, values converted to µM in ``value_um``.
    """
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError("reference file not found", file=p)
        return pd.DataFrame(_read(p), columns=list(REFERENCE_COLUMNS))
    files: dict[str, Path] = {}
    for d in reference_dirs():
        for f in sorted(d.glob("*.toml")):
            files.setdefault(f.stem.casefold(), f)
    if drugs is None:
        wanted = sorted(files)
    else:
        wanted = [drugs] if isinstance(drugs, str) else list(drugs)
    rows: list[dict] = []
    for drug in wanted:
        f = files.get(str(drug).strip().casefold())
        if f is None:
            if missing == "raise":
                raise InputError(f"no reference table for '{drug}'", column="drug",
                                 expected=f"one of {', '.join(sorted(files)) or '(none)'}")
            continue
        rows.extend(_read(f))
    return pd.DataFrame(rows, columns=list(REFERENCE_COLUMNS))


def _matches(ref: pd.DataFrame, drug: str, target: str, condition: str) -> pd.DataFrame:
    t = target.strip().casefold()
    sel = ref[(ref["drug"].str.casefold() == drug.casefold())
              & ((ref["key"].str.casefold() == t) | (ref["target"].str.casefold() == t))]
    if len(sel) > 1:
        cond = condition.casefold()
        by_state = sel[[bool(s) and s.casefold() in cond for s in sel["state"]]]
        if len(by_state):
            sel = by_state
    return sel


def _like_with_like(references: pd.DataFrame, sel: pd.DataFrame, drug: str, target: str,
                    h: float | None) -> pd.DataFrame:
    """The references comparable with an IC50 measured at availability ``h``."""
    if h is None or sel.empty:
        return sel
    state = sel["state"].str.casefold()
    plain = sel[~state.isin(["resting", "inactivated"])]
    if h >= 1.0:
        return pd.concat([plain, sel[state == "resting"]])
    if h <= 0.0:
        return pd.concat([plain, sel[state == "inactivated"]])
    t = target.strip().casefold()
    same = references[(references["drug"].str.casefold() == drug.casefold())
                      & ((references["key"].str.casefold() == t)
                         | (references["target"].str.casefold() == t))]
    rest = same[same["state"].str.casefold() == "resting"]
    inact = same[same["state"].str.casefold() == "inactivated"]
    if rest.empty or inact.empty:
        return plain
    kr, ki = rest.iloc[0], inact.iloc[0]
    kapp = 1.0 / (h / kr["value_um"] + (1.0 - h) / ki["value_um"])
    row = ki.copy()
    row["measure"] = f"K_app (h={h:g})"
    row["state"] = f"h={h:g}"
    row["value_um"], row["value_high_um"] = kapp, np.nan
    row["source"] = f"computed from K_R ({kr['source']}) and K_I ({ki['source']})"
    row["primary_source"] = "; ".join(x for x in (kr["primary_source"],
                                                   ki["primary_source"]) if x)
    return pd.concat([plain, row.to_frame().T])


def compare_to_references(
    fits: pd.DataFrame,
    references: pd.DataFrame,
    *,
    targets: Mapping[tuple[str, str], str] | None = None,
    levels: tuple[str, ...] = ("pooled_mean_log", "pooled_global"),
    h: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Fitted pooled IC50s beside the matching published values, like with like.

    Parameters
    ----------
    fits
        Fits table of :func:`nplab.ephys.ic50.fit_cells`.
    references
        Table of :func:`load_references`.
    targets
        ``(drug, condition) → target`` (from the experiment's ``target`` column).
        Entries match a reference whose ``key`` or ``target`` equals it
        (case-insensitive); when several do, those whose ``state`` occurs in the
        condition's name are preferred.
    levels
        Which fit rows to compare.
    h
        Fraction of channels available (not inactivated) at each condition's holding
        potential.  A state-specific reference (``state`` resting = K_R or inactivated
        = K_I) is compared directly only with a condition at that state (h = 1 for
        resting, h = 0 for inactivated).  At 0 < h < 1 the fitted IC50 is an apparent
        K_app = 1 / (h/K_R + (1 − h)/K_I) (Bean et al. 1983): it is compared with the
        K_app computed from the resting and inactivated references of the same target
        for the same h (``measure`` ``K_app (h=…)``), and not shown beside a K_I or K_R
        alone (compare those with the K_R/K_I of :func:`compare_state_to_references`).

    Returns
    -------
    DataFrame
        :data:`COMPARISON_COLUMNS`: ``ratio`` = fitted IC50 / reference (for a range,
        / its geometric mean); ``inside_ci`` whether the reference (or any part of a
        range) lies inside the fitted CI (NaN-safe: False when there is no CI).
    """
    rows = []
    for (drug, cond), target in sorted((targets or {}).items()):
        sel = _like_with_like(references, _matches(references, drug, target, cond), drug,
                              target, (h or {}).get(cond))
        fit_rows = fits[(fits["drug"] == drug) & (fits["condition"] == cond)
                        & fits["level"].isin(levels)]
        for _, f in fit_rows.iterrows():
            for _, r in sel.iterrows():
                lo, hi = r["value_um"], r["value_high_um"]
                ref_mid = math.sqrt(lo * hi) if np.isfinite(hi) else lo
                top = hi if np.isfinite(hi) else lo
                ci_lo, ci_hi = f["ic50_ci_low_um"], f["ic50_ci_high_um"]
                inside = bool(np.isfinite(ci_lo) and np.isfinite(ci_hi)
                              and lo <= ci_hi and top >= ci_lo)
                rows.append({
                    "drug": drug, "condition": cond, "level": f["level"], "target": target,
                    "key": r["key"], "measure": r["measure"], "state": r["state"],
                    "reference_um": lo, "reference_high_um": hi, "ic50_um": f["ic50_um"],
                    "ic50_ci_low_um": ci_lo, "ic50_ci_high_um": ci_hi,
                    "ratio": f["ic50_um"] / ref_mid, "inside_ci": inside,
                    "source": r["source"], "primary_source": r["primary_source"],
                    "reference_version": r["version"],
                })
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def compare_state_to_references(
    state: pd.DataFrame,
    references: pd.DataFrame,
    *,
    targets: Mapping[tuple[str, str], str] | None = None,
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """K_R and K_I (:func:`nplab.ephys.state.state_table`) beside state-specific references.

    A reference with ``state = "inactivated"`` is compared with K_I, one with
    ``state = "resting"`` with K_R (the IC50 measured at a V½ holding potential is an
    apparent constant, not K_I, so it is this comparison that tests an inactivated-state
    value).  The target is looked up for the state's condition (``condition_2`` for
    K_I, ``condition_1`` for K_R).  CI: estimate ± z·SE (normal, delta-method SE).
    ``level`` reads e.g. ``pooled_mean_log:K_I``.  Columns as
    :func:`compare_to_references` (``ic50_um`` holds K_R or K_I).
    """
    from nplab._dist import norm_ppf

    z = float(norm_ppf(0.5 + confidence_level / 2.0))
    rows = []
    for _, st in state.iterrows():
        if st["status"] != "ok":
            continue
        for which, cond_col, state_name in (("K_I", "condition_2", "inactivated"),
                                            ("K_R", "condition_1", "resting")):
            cond = st[cond_col]
            target = (targets or {}).get((st["drug"], cond))
            if not target:
                continue
            sel = _matches(references, st["drug"], target, state_name)
            sel = sel[sel["state"].str.casefold() == state_name]
            est = st["k_i_um" if which == "K_I" else "k_r_um"]
            se = st["k_i_se_um" if which == "K_I" else "k_r_se_um"]
            lo_ci, hi_ci = est - z * se, est + z * se
            for _, r in sel.iterrows():
                lo, hi = r["value_um"], r["value_high_um"]
                ref_mid = math.sqrt(lo * hi) if np.isfinite(hi) else lo
                top = hi if np.isfinite(hi) else lo
                inside = bool(np.isfinite(lo_ci) and np.isfinite(hi_ci) and lo <= hi_ci
                              and top >= lo_ci)
                rows.append({
                    "drug": st["drug"], "condition": cond, "level": f"{st['level']}:{which}",
                    "target": target, "key": r["key"], "measure": r["measure"],
                    "state": r["state"], "reference_um": lo, "reference_high_um": hi,
                    "ic50_um": est, "ic50_ci_low_um": lo_ci, "ic50_ci_high_um": hi_ci,
                    "ratio": est / ref_mid, "inside_ci": inside, "source": r["source"],
                    "primary_source": r["primary_source"], "reference_version": r["version"],
                })
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
