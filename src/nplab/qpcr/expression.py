"""Relative expression from Cq values: ΔCt, ΔΔCt (Livak), efficiency-corrected ratio
(Pfaffl) and multi-reference normalised relative quantities (Hellemans).

The animal is the unit: technical replicate wells are averaged first
(:func:`average_replicates`); statistics run on ΔCt (log2 scale) per animal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nplab.errors import InputError

__all__ = ["average_replicates", "efficiency", "relative_expression"]

_KEYS = ("animal", "group", "tissue", "target")


def _keys(df: pd.DataFrame) -> list[str]:
    return [k for k in _KEYS if k in df.columns]


def average_replicates(
    table: pd.DataFrame, *, max_cq: float = 35.0, sd_limit: float = 0.3
) -> pd.DataFrame:
    """Average technical replicate wells per animal × target (× tissue).

    Parameters
    ----------
    table
        One row per well: ``animal, target, cq`` (``cq`` NaN or the text
        "Undetermined" for no amplification) and optional ``group, tissue``.
    max_cq
        Cq above this is treated as not detected (the protocol's cut-off).
    sd_limit
        Replicate SD above this many cycles is flagged (``sd_flag``).

    Returns
    -------
    DataFrame
        ``animal, [group, tissue,] target, cq`` (mean of the detected wells),
        ``cq_sd, n_wells, n_detected, sd_flag, detected`` (False when no well
        amplified below ``max_cq``: ``cq`` is then NaN, never a number) and ``flag``
        (``not_detected``, ``partly_detected``, ``replicate_sd`` or empty).
    """
    for col in ("animal", "target", "cq"):
        if col not in table.columns:
            raise InputError(f"missing column '{col}'", file=table.attrs.get("source"), column=col,
                             expected="columns animal, group, target, cq (one row per well)")
    df = table.copy()
    cq = pd.to_numeric(df["cq"], errors="coerce")
    df["cq"] = cq.where(cq <= max_cq)
    keys = _keys(df)
    g = df.groupby(keys, sort=False, dropna=False)["cq"]
    out = g.agg(cq="mean", cq_sd="std", n_detected="count", n_wells="size").reset_index()
    out["sd_flag"] = out["cq_sd"] > sd_limit
    out["detected"] = out["n_detected"] > 0
    flag = np.where(~out["detected"], "not_detected",
                    np.where(out["n_detected"] < out["n_wells"], "partly_detected",
                             np.where(out["sd_flag"], "replicate_sd", "")))
    out["flag"] = flag
    return out


def _check_genes(names: Sequence[str], present: Sequence[str], what: str, src: Any) -> None:
    unknown = [g for g in names if g not in set(present)]
    if unknown:
        raise InputError(
            f"unknown gene(s) in {what}: " + ", ".join(map(str, unknown)), file=src, column="target",
            expected="targets in the table: " + ", ".join(map(str, sorted(set(present)))),
        )


def _efficiencies(efficiency: Any, targets: Sequence[str], src: Any) -> dict[str, float] | None:
    """Amplification factors E (2 = 100 %) per target from a dict or an efficiency table."""
    if efficiency is None:
        return None
    if isinstance(efficiency, pd.DataFrame):
        efficiency = dict(zip(efficiency["target"], efficiency["efficiency"], strict=True))
    if not isinstance(efficiency, Mapping):
        raise InputError("efficiency must be a mapping target -> E or the table of efficiency()",
                         column="efficiency", expected="{'Tnf': 1.95, ...}")
    missing = [t for t in targets if t not in efficiency]
    if missing:
        raise InputError("no efficiency for " + ", ".join(map(str, missing)), column="efficiency",
                         expected="an amplification factor E (1 < E <= 2.2) for every target")
    out = {}
    for t in targets:
        e = float(efficiency[t])
        if e > 10:  # given in percent
            e = 1.0 + e / 100.0
        if not 1.0 < e <= 2.2:
            raise InputError(f"efficiency of {t} is {efficiency[t]!r}", column="efficiency",
                             expected="an amplification factor 1 < E <= 2.2 (or percent 0-120)")
        out[t] = e
    return out


def relative_expression(
    table: pd.DataFrame,
    reference_genes: Sequence[str],
    control: str,
    efficiency: Mapping[str, float] | pd.DataFrame | None = None,
    *,
    max_cq: float = 35.0,
    sd_limit: float = 0.3,
) -> pd.DataFrame:
    """Relative expression per animal × target: ΔCt, ΔΔCt, fold change (and NRQ).

    Parameters
    ----------
    table
        One row per well (``animal, group, target, cq``, optional ``tissue``) or
        already averaged per animal × target.
    reference_genes
        Reference (housekeeping) targets; ΔCt is taken against the mean of their Cq
        (the log2 of the geometric mean of their quantities).
    control
        The control group (ΔΔCt against its mean ΔCt, per target and tissue).
    efficiency
        Optional amplification factors per target (E = 2 for 100 %; percent accepted),
        or the table of :func:`efficiency`. With efficiencies the output gains ``nrq``:
        the normalised relative quantity of Hellemans et al. (2007),
        ``E_t^(Cq_t,ctrl - Cq_t) / geomean_r(E_r^(Cq_r,ctrl - Cq_r))`` with the control
        group's mean Cq as calibrator, which for one reference gene is Pfaffl's (2001)
        efficiency-corrected ratio.
    max_cq, sd_limit
        See :func:`average_replicates`.

    Returns
    -------
    DataFrame
        ``animal, group, [tissue,] target, cq, ref_cq, delta_ct, delta_delta_ct,
        fold_change`` (= 2^-ΔΔCt, Livak & Schmittgen 2001) ``[, nrq], flag``. Targets
        not detected, or animals whose reference genes are not all detected, have NaN
        values and the reason in ``flag``.

    References
    ----------
    Livak KJ, Schmittgen TD (2001) Methods 25:402-408. Pfaffl MW (2001) Nucleic Acids
    Res 29:e45. Vandesompele J et al. (2002) Genome Biol 3:research0034. Hellemans J et
    al. (2007) Genome Biol 8:R19.
    """
    src = table.attrs.get("source")
    if "group" not in table.columns:
        raise InputError("missing column 'group'", file=src, column="group",
                         expected="a group per animal (or an animals table)")
    refs = list(reference_genes)
    if not refs:
        raise InputError("no reference genes given", column="reference_genes",
                         expected="one or more reference gene names")
    present = list(pd.unique(table["target"]))
    _check_genes(refs, present, "reference_genes", src)
    if control not in set(table["group"]):
        raise InputError(f"control group {control!r} not in the table", file=src, column="group",
                         expected="one of " + ", ".join(map(str, sorted(set(table["group"])))))
    avg = average_replicates(table, max_cq=max_cq, sd_limit=sd_limit)
    unit = [k for k in ("animal", "group", "tissue") if k in avg.columns]
    ref = avg[avg["target"].isin(refs)]
    refcq = ref.groupby(unit, sort=False).agg(ref_cq=("cq", "mean"), n_ref=("cq", "count")).reset_index()
    refcq.loc[refcq["n_ref"] < len(refs), "ref_cq"] = np.nan
    tgt = avg[~avg["target"].isin(refs)].merge(refcq, on=unit, how="left")
    tgt["delta_ct"] = tgt["cq"] - tgt["ref_cq"]
    strata = ["target"] + (["tissue"] if "tissue" in tgt.columns else [])
    ctrl = tgt["group"] == control
    cal = tgt[ctrl].groupby(strata)["delta_ct"].mean().rename("ctrl_dct")
    tgt = tgt.join(cal, on=strata)
    tgt["delta_delta_ct"] = tgt["delta_ct"] - tgt["ctrl_dct"]
    tgt["fold_change"] = 2.0 ** (-tgt["delta_delta_ct"])
    flag = tgt["flag"].where(tgt["flag"] != "", "")
    flag = np.where(tgt["ref_cq"].isna(), "reference_not_detected", flag)
    tgt["flag"] = flag
    cols = [*unit, "target", "cq", "ref_cq", "delta_ct", "delta_delta_ct", "fold_change"]
    eff = _efficiencies(efficiency, present, src)
    if eff is not None:
        strata_u = ["target"] + (["tissue"] if "tissue" in avg.columns else [])
        ctrl_cq = avg[avg["group"] == control].groupby(strata_u)["cq"].mean().rename("ctrl_cq")
        a = avg.join(ctrl_cq, on=strata_u)
        a["log2rq"] = (a["ctrl_cq"] - a["cq"]) * np.log2(a["target"].map(eff))
        r = a[a["target"].isin(refs)].groupby(unit, sort=False).agg(
            ref_log2=("log2rq", "mean"), n=("log2rq", "count")).reset_index()
        r.loc[r["n"] < len(refs), "ref_log2"] = np.nan
        t = a[~a["target"].isin(refs)][[*unit, "target", "log2rq"]].merge(r, on=unit, how="left")
        tgt = tgt.merge(t[[*unit, "target", "log2rq", "ref_log2"]], on=[*unit, "target"], how="left")
        tgt["nrq"] = 2.0 ** (tgt["log2rq"] - tgt["ref_log2"])
        cols.append("nrq")
    return tgt[[*cols, "flag"]].reset_index(drop=True)


def efficiency(
    table: pd.DataFrame, *, low: float = 90.0, high: float = 110.0, max_cq: float = 40.0
) -> pd.DataFrame:
    """Amplification efficiency per target from a dilution series.

    Parameters
    ----------
    table
        ``target, quantity`` (relative input amount, e.g. 1, 0.5, 0.2 ...) and ``cq``,
        one row per well.
    low, high
        Acceptable efficiency range in percent (flag outside).
    max_cq
        Wells above this Cq are left out of the line (default 40: a dilution series
        reaches later cycles than samples).

    Returns
    -------
    DataFrame
        ``target, n, slope, intercept, r2, efficiency`` (amplification factor
        E = 10^(-1/slope)), ``efficiency_pct`` ((E - 1) 100), ``flag`` — from the
        least-squares line Cq = intercept + slope log10(quantity).

    References
    ----------
    Rasmussen R (2001) Quantification on the LightCycler, in Rapid Cycle Real-Time PCR,
    Springer, 21-34; Pfaffl MW (2001) Nucleic Acids Res 29:e45.
    """
    for col in ("target", "quantity", "cq"):
        if col not in table.columns:
            raise InputError(f"missing column '{col}'", file=table.attrs.get("source"), column=col,
                             expected="columns target, quantity, cq")
    rows = []
    q = pd.to_numeric(table["quantity"], errors="coerce")
    cq = pd.to_numeric(table["cq"], errors="coerce")
    for tgt, idx in table.groupby("target", sort=False).groups.items():
        x = np.log10(q[idx].to_numpy(float))
        y = cq[idx].to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y) & (y <= max_cq)
        x, y = x[ok], y[ok]
        if np.unique(x).size < 3:
            rows.append({"target": tgt, "n": int(ok.sum()), "slope": np.nan, "intercept": np.nan,
                         "r2": np.nan, "efficiency": np.nan, "efficiency_pct": np.nan,
                         "flag": "fewer than 3 dilutions"})
            continue
        slope, intercept = np.polyfit(x, y, 1)
        r2 = float(np.corrcoef(x, y)[0, 1] ** 2)
        e = 10 ** (-1 / slope)
        pct = (e - 1) * 100
        rows.append({"target": tgt, "n": int(x.size), "slope": slope, "intercept": intercept, "r2": r2,
                     "efficiency": e, "efficiency_pct": pct,
                     "flag": "" if low <= pct <= high else f"efficiency outside {low:g}-{high:g} %"})
    return pd.DataFrame(rows)
