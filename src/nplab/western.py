"""Western blot densitometry (``nplab.western``): normalised band signals, phospho/total
ratios, fold change against the control lanes of the same blot, blot as a random effect,
and a linear-range check from a loading series.

Input: a densitometry table exported from Image Lab / Fiji, one row per band:
``blot, lane, animal, group, target, signal`` plus the lane's loading control or
total-protein signal (column ``loading_signal``, or ``total_protein``).

References
----------
Taylor SC, Berkelman T, Yadav G, Hammond M (2013) A defined methodology for reliable
quantification of Western blot data. Mol Biotechnol 55:217-226. Pillai-Kastoori L,
Schutz-Geschwender AR, Harford JA (2020) A systematic approach to quantitative Western
blot analysis. Anal Biochem 593:113608.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from nplab.errors import InputError, row_number
from nplab.protocols import Param

__all__ = ["PROTOCOL_SCHEMAS", "linear_range", "normalise", "normalise_with_protocol", "statistics"]

PROTOCOL_SCHEMAS = {"western": {
    "loading": Param("str", "loading_signal", choices=("loading_signal", "total_protein"),
                     doc="column with the lane's loading-control or total-protein signal"),
    "pairs": Param("dict", {}, doc="phospho -> total target pairs, e.g. {'p-p65' = 'p65'}"),
    "control_group": Param("str", "vehicle", doc="control lanes: fold change reference"),
    "min_r2": Param("float", 0.98, min=0.0, max=1.0, doc="loading series linearity (R²)"),
}}

_REQUIRED = ("blot", "lane", "animal", "group", "target", "signal")


def normalise(
    table: pd.DataFrame, control: str, *, loading: str | None = None,
    pairs: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Normalised signals, phospho/total ratios and fold change per blot.

    Parameters
    ----------
    table
        One row per band (see module doc).
    control
        Control group; each blot's values are divided by the mean of its control lanes.
    loading
        Loading column (default ``loading_signal``, else ``total_protein``).
    pairs
        ``{phospho_target: total_target}``: adds the measure ``"phospho/total"`` =
        (phospho / loading) / (total / loading) of the same lane.

    Returns
    -------
    DataFrame
        ``blot, lane, animal, group, measure, value`` (target / loading, or the ratio),
        ``fold_change`` (value / mean value of the blot's control lanes), ``log2_fold``.
        A blot without control lanes for a measure gives NaN fold changes (flagged in
        ``flag``).
    """
    src = table.attrs.get("source")
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise InputError("missing column(s) " + ", ".join(missing), file=src, column=missing[0],
                         expected="columns " + ", ".join(_REQUIRED) + " and loading_signal or total_protein")
    if loading is None:
        loading = next((c for c in ("loading_signal", "total_protein") if c in table.columns), None)
    if loading is None or loading not in table.columns:
        raise InputError("no loading column", file=src, column=loading or "loading_signal",
                         expected="a loading_signal (housekeeping band) or total_protein column")
    df = table.copy()
    for col in ("signal", loading):
        v = pd.to_numeric(df[col], errors="coerce")
        bad = ~(v > 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{df[col].iloc[i]!r} is not a positive signal", file=src, row=row_number(i),
                             column=col, expected="a band volume > 0")
        df[col] = v
    df["value"] = df["signal"] / df[loading]
    out = df[["blot", "lane", "animal", "group", "target", "value"]].rename(columns={"target": "measure"})
    for ph, tot in (pairs or {}).items():
        for t in (ph, tot):
            if t not in set(df["target"]):
                raise InputError(f"target {t!r} of the pair {ph}/{tot} is not in the table", file=src,
                                 column="target", expected="one of " + ", ".join(sorted(set(df["target"]))))
        a = df[df["target"] == ph].set_index(["blot", "lane"])
        b = df[df["target"] == tot].set_index(["blot", "lane"])["value"]
        r = a[["animal", "group"]].assign(value=a["value"] / b.reindex(a.index)).reset_index()
        r["measure"] = f"{ph}/{tot}"
        out = pd.concat([out, r[out.columns]], ignore_index=True)
    ctrl = out[out["group"] == control].groupby(["blot", "measure"])["value"].mean().rename("ctrl")
    out = out.join(ctrl, on=["blot", "measure"])
    out["fold_change"] = out["value"] / out["ctrl"]
    out["log2_fold"] = np.log2(out["fold_change"])
    out["flag"] = np.where(out["ctrl"].isna(), "no control lane on this blot", "")
    return out.drop(columns="ctrl")


def normalise_with_protocol(
    table: pd.DataFrame, params: Mapping[str, object], *, control: str | None = None,
    loading: str | None = None, pairs: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """:func:`normalise` with the settings of a ``western`` protocol.

    ``control``, ``loading`` and ``pairs`` given here override the protocol. The
    protocol's loading column is used when the table has it, else the column the table
    has (``loading_signal`` or ``total_protein``); the protocol's phospho/total pairs are
    applied when both targets are on the blots (pairs given here must be).

    Returns
    -------
    (DataFrame, dict)
        The normalised table and the settings used (``control, loading, pairs``), for
        the provenance manifest.
    """
    ctrl = control or str(params["control_group"])
    if loading is None:
        wanted = str(params["loading"])
        loading = wanted if wanted in table.columns else next(
            (c for c in ("loading_signal", "total_protein") if c in table.columns), wanted)
    if pairs is None:
        targets = set(table["target"]) if "target" in table.columns else set()
        pairs = {str(k): str(v) for k, v in dict(params.get("pairs") or {}).items()
                 if k in targets and v in targets}
    if "group" in table.columns and ctrl not in set(table["group"]):
        raise InputError(f"control group {ctrl!r} has no lanes", file=table.attrs.get("source"), column="group",
                         expected="one of " + ", ".join(map(str, sorted(set(table["group"])))))
    out = normalise(table, ctrl, loading=loading, pairs=pairs)
    return out, {"control": ctrl, "loading": loading, "pairs": dict(pairs)}


def statistics(normalised: pd.DataFrame, control: str, conf_level: float = 0.95) -> pd.DataFrame:
    """Group differences of log2 fold change per measure, animal = unit.

    Lanes of one animal are averaged first. When the groups span several blots, a
    linear mixed model ``log2_fold ~ group`` with blot as a random intercept
    (:func:`nplab.stats.mixed_model`) gives each group's difference to the control;
    on a single blot, Dunnett's test (:func:`nplab.stats.dunnett`).

    Returns
    -------
    DataFrame
        ``measure, group, diff, se, p, ci_low, ci_high, method, ratio`` (2^diff).
    """
    from nplab.stats import dunnett, mixed_model

    rows = []
    data = normalised[np.isfinite(normalised["log2_fold"])]
    for measure, sub in data.groupby("measure", sort=False):
        per = sub.groupby(["animal", "group", "blot"], as_index=False)["log2_fold"].mean()
        if per["blot"].nunique() > 1:
            levels = [control, *sorted(set(per["group"]) - {control})]
            per["group"] = pd.Categorical(per["group"], categories=levels)
            fit = mixed_model(per, "log2_fold ~ C(group)", subject="blot", conf_level=conf_level)
            fx = fit.fixed
            for g in levels[1:]:
                r = fx[fx["term"].str.contains(rf"\[T\.{g}\]", regex=True)].iloc[0]
                rows.append({"measure": measure, "group": g, "diff": r["estimate"], "se": r["se"],
                             "p": r["p"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                             "method": "LMM, blot random intercept"})
        else:
            res = dunnett(per, "log2_fold", "group", control, conf_level=conf_level)
            for _, r in res.iterrows():
                rows.append({"measure": measure, "group": r["group"], "diff": r["diff"], "se": r["se"],
                             "p": r["p"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                             "method": "Dunnett"})
    out = pd.DataFrame(rows)
    if not out.empty:
        out["ratio"] = 2.0 ** out["diff"]
    return out


def linear_range(ladder: pd.DataFrame, samples: pd.DataFrame | None = None, *, min_r2: float = 0.98) -> pd.DataFrame:
    """Linear-range check from a loading series (``blot, target, load, signal``).

    Per blot × target: least-squares line of signal on load (R², must be >= ``min_r2``)
    and the log-log slope (1 for proportional response; saturation flattens it). With
    ``samples`` (the band table) the share of sample bands inside the ladder's signal
    range is reported.

    Returns
    -------
    DataFrame
        ``blot, target, n, r2, loglog_slope, signal_min, signal_max, linear``
        ``[, n_samples, pct_in_range]``.
    """
    for c in ("blot", "target", "load", "signal"):
        if c not in ladder.columns:
            raise InputError(f"missing column '{c}'", file=ladder.attrs.get("source"), column=c,
                             expected="loading series columns blot, target, load, signal")
    rows = []
    for (blot, tgt), s in ladder.groupby(["blot", "target"], sort=False):
        x, y = s["load"].to_numpy(float), s["signal"].to_numpy(float)
        r2 = float(np.corrcoef(x, y)[0, 1] ** 2) if np.unique(x).size > 2 else np.nan
        ok = (x > 0) & (y > 0)
        ll = float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0]) if ok.sum() > 2 else np.nan
        row = {"blot": blot, "target": tgt, "n": len(s), "r2": r2, "loglog_slope": ll,
               "signal_min": y.min(), "signal_max": y.max(), "linear": bool(r2 >= min_r2)}
        if samples is not None:
            sb = samples[(samples["blot"] == blot) & (samples["target"] == tgt)]["signal"].astype(float)
            row["n_samples"] = len(sb)
            row["pct_in_range"] = 100.0 * float(((sb >= y.min()) & (sb <= y.max())).mean()) if len(sb) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
