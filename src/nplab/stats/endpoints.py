"""Efficacy endpoints shared by all behavioural assays (von Frey, Hargreaves).

A CCI/SNL drug study measures each animal (and paw) before injury (*baseline*), after
injury before dosing (*pre-dose*) and at post-dose time points (hours after dosing).  From
these, per animal:

change from pre-dose
    post − pre.
%MPE (maximum possible effect)
    (post − pre) / (cut-off − pre) × 100, cut-off = strongest filament (von Frey) or
    the Hargreaves cut-off time.  Undefined when pre = cut-off.
% reversal (of allodynia / hyperalgesia)
    (post − pre) / (baseline − pre) × 100 (baseline = pre-injury).  Undefined when
    baseline = pre (the animal did not develop allodynia).
AUC
    Trapezoidal area under the post-dose time course (value unit × h).  With
    ``auc_from_predose=True`` (default) the pre-dose value is the point at t = 0 (for
    ``auc_change``/``auc_mpe`` this point is 0), so the area covers the whole interval
    from dosing; with ``False`` it runs from the first to the last post-dose time only.
    A missing value anywhere in the course makes the AUC undefined (no interpolation).
ipsi − contra
    Difference between the injured and the contralateral paw at every time point.

Undefined values are NaN with the reason in the ``flag`` column, never ±inf.  Values at
or above the cut-off are right-censored (the true threshold/latency is ≥ the cut-off):
they are kept and flagged ``"censored at cut-off"``.

von Frey 50 % thresholds are log-normally distributed and perceived on a log scale
(Weber's law); they are analysed as log10(threshold) by default (Mills et al. 2012, J Pain
13:519–523).  The choice is recorded in the ``scale`` column; on the log10 scale the
cut-off is log10(cut-off) too, so %MPE and % reversal are computed on log thresholds as
Mills et al. recommend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nplab.checks import raise_first_bad
from nplab.errors import InputError, row_number
from nplab.stats._levels import given_for, level_order
from nplab.stats._longdata import check_long, show

__all__ = [
    "ENDPOINTS",
    "FLAG_CENSORED",
    "FLAG_MISSING",
    "FLAG_NOT_INJURED",
    "FLAG_NO_ALLODYNIA",
    "FLAG_PRE_AT_CUTOFF",
    "FLAG_SHAM",
    "auc_trapezoid",
    "change_from_predose",
    "endpoints",
    "ipsi_minus_contra",
    "percent_mpe",
    "percent_reversal",
]

#: Endpoint names in the order they appear in :func:`endpoints` output.
ENDPOINTS = ("value", "change", "mpe", "reversal", "auc", "auc_change", "auc_mpe")

FLAG_PRE_AT_CUTOFF = "pre-dose equals cut-off"
FLAG_NO_ALLODYNIA = "no allodynia: baseline equals pre-dose"
FLAG_MISSING = "missing value"
FLAG_CENSORED = "censored at cut-off"
FLAG_NOT_INJURED = "undefined: pre-dose not below baseline by the margin"
FLAG_SHAM = "undefined: sham animal (no injury to reverse)"
DIFF_PAW = "ipsi-contra"


def change_from_predose(post: np.ndarray | float, pre: np.ndarray | float) -> np.ndarray:
    """post − pre (NaN propagates)."""
    return np.asarray(post, dtype=float) - np.asarray(pre, dtype=float)


def _ratio(num: np.ndarray, den: np.ndarray, reason: str) -> tuple[np.ndarray, np.ndarray]:
    num = np.asarray(num, dtype=float)
    den = np.broadcast_to(np.asarray(den, dtype=float), num.shape)
    out = np.full(num.shape, np.nan)
    flags = np.full(num.shape, "", dtype=object)
    missing = np.isnan(num) | np.isnan(den)
    zero = ~missing & (den == 0)
    ok = ~missing & ~zero
    out[ok] = num[ok] / den[ok] * 100.0 + 0.0  # + 0.0: no -0 (0 / negative)
    flags[missing] = FLAG_MISSING
    flags[zero] = reason
    return out, flags


def percent_mpe(
    post: np.ndarray | float, pre: np.ndarray | float, cutoff: float
) -> tuple[np.ndarray, np.ndarray]:
    """%MPE = (post − pre) / (cut-off − pre) × 100.

    Returns
    -------
    (values, flags)
        NaN with flag ``"pre-dose equals cut-off"`` where the denominator is 0, or
        ``"missing value"`` where an input is NaN; flag ``""`` otherwise.
    """
    pre = np.asarray(pre, dtype=float)
    return _ratio(change_from_predose(post, pre), cutoff - pre, FLAG_PRE_AT_CUTOFF)


def percent_reversal(
    post: np.ndarray | float, pre: np.ndarray | float, baseline: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """% reversal = (post − pre) / (baseline − pre) × 100.

    Returns
    -------
    (values, flags)
        NaN with flag ``"no allodynia: baseline equals pre-dose"`` where baseline = pre,
        or ``"missing value"``; flag ``""`` otherwise.
    """
    pre = np.asarray(pre, dtype=float)
    return _ratio(change_from_predose(post, pre), np.asarray(baseline, dtype=float) - pre,
                  FLAG_NO_ALLODYNIA)


def auc_trapezoid(time_h: np.ndarray, values: np.ndarray) -> float | np.ndarray:
    """Trapezoidal area Σ (t_{i+1} − t_i)(y_i + y_{i+1})/2 (unit × h).

    ``values`` is one time course (1-D, returns a float) or one course per row (2-D,
    returns an array), along the last axis at the strictly increasing ``time_h``.  A
    NaN anywhere in a course gives NaN (no interpolation); fewer than two points gives
    NaN.
    """
    t = np.asarray(time_h, dtype=float)
    y = np.asarray(values, dtype=float)
    if np.any(np.diff(t) <= 0):
        raise InputError("time points must be strictly increasing", column="time",
                         expected="distinct post-dose times")
    if t.size < 2:
        area = np.full(y.shape[:-1], np.nan)
    else:
        area = np.sum(np.diff(t) * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)
    return float(area) if np.ndim(area) == 0 else area


def ipsi_minus_contra(ipsi: np.ndarray | float, contra: np.ndarray | float) -> np.ndarray:
    """Ipsilateral − contralateral value (NaN propagates)."""
    return np.asarray(ipsi, dtype=float) - np.asarray(contra, dtype=float)


def _key(x: object) -> object:
    """Comparable time key: a float if the label is numeric, else the stripped string."""
    if isinstance(x, bool):
        return str(x)
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(x).strip()


def _label(x: object) -> str:
    k = _key(x)
    return format(k, "g") if isinstance(k, float) else str(k)


def _join(*flags: str) -> str:
    return "; ".join(f for f in dict.fromkeys(flags) if f)


def _undefined_reversal(base: np.ndarray, pre: np.ndarray, log10: bool,
                        min_drop_pct: float | None, sham: np.ndarray) -> np.ndarray:
    """Per unit: '' (defined) or the reason %MPE / % reversal are undefined."""
    out = np.full(base.shape, "", dtype=object)
    if min_drop_pct is not None:
        b, p = (10.0 ** base, 10.0 ** pre) if log10 else (base, pre)
        known = ~np.isnan(b) & ~np.isnan(p)
        out[known & ~(p <= b * (1.0 - min_drop_pct / 100.0))] = FLAG_NOT_INJURED
    out[sham] = FLAG_SHAM
    return out


def _mask(values: np.ndarray, flags: np.ndarray, undefined: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    bad = undefined != ""
    values = values.copy()
    values[bad, :] = np.nan
    flags = flags.astype(object).copy()
    flags[bad, :] = undefined[bad][:, None]
    return values, flags


def endpoints(
    data: pd.DataFrame,
    *,
    dv: str,
    subject: str,
    time: str,
    baseline: object,
    predose: object,
    cutoff: float | None = None,
    paw: str | None = None,
    log10: bool | None = None,
    group: str | None = None,
    auc_from_predose: bool = True,
    ipsi: str = "ipsi",
    contra: str = "contra",
    min_drop_pct: float | None = None,
    sham: object = None,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """All endpoints of a drug study from a long table (one row per animal, paw, time).

    Parameters
    ----------
    data
        Long table; not modified.
    dv
        Response column (von Frey 50 % threshold in g, Hargreaves latency in s, ...).
    subject
        Animal column.
    time
        Time column: the ``baseline`` label, the ``predose`` label, and post-dose times
        in hours (numbers; they are the x of the AUC).
    baseline, predose
        Labels of the pre-injury baseline and post-injury pre-dose time points in
        ``time`` (numbers or strings, e.g. ``"BL"``, ``"pre"``).
    cutoff
        Strongest filament (g) or Hargreaves cut-off (s); needed for %MPE and the
        censoring flag.  ``None``: no %MPE.
    paw
        Paw column with values ``ipsi`` / ``contra`` (any case, as
        :func:`nplab.animals.resolve_paws` gives); endpoints are per paw, and an extra
        paw ``"ipsi-contra"`` holds the difference of the analysed values.
    log10
        Analyse log10(dv) (also log10(cutoff)).  ``None`` (default): ``True`` when the
        ``dv`` name contains ``"threshold"`` (von Frey, Mills et al. 2012) and does not
        start with ``"log"`` (``log10_threshold`` from ``nplab vonfrey`` already holds
        logs and is analysed as it is), else ``False``.  Recorded in the ``scale``
        column.
    group
        Treatment column, constant within an animal; copied to the output.
    auc_from_predose
        Include the pre-dose point at t = 0 in the AUCs (see module docstring).
    ipsi, contra
        Labels of the two paws in ``paw``.
    min_drop_pct
        %MPE and % reversal measure the reversal of an injury-induced drop; they are
        undefined (NaN, flag ``"undefined: pre-dose not below baseline by the margin"``)
        for an animal × paw whose pre-dose value is not below its baseline by at least
        this percentage (on the measured, linear scale).  ``None``: only an exactly zero
        denominator is undefined.
    sham
        Animals (values of ``subject``) of sham-operated groups: their %MPE and %
        reversal are undefined (flag ``"undefined: sham animal (no injury to reverse)"``),
        so they never enter group means as ±100 % noise.
    levels
        Level order of ``group`` and ``subject`` (``{"group": [...]}``); default: order of
        first appearance (the rule of :mod:`nplab.stats`).  Time is not a factor here:
        baseline, pre-dose, then post-dose hours ascending (the x of the AUC).

    Returns
    -------
    pandas.DataFrame
        Long table, one row per animal × [paw] × time × endpoint, sorted by group and
        animal (level order), paw (ipsi, contra, ipsi-contra), endpoint (``value, change,
        mpe, reversal, auc, auc_change, auc_mpe``), time (baseline, pre-dose, hours).  Columns: ``subject`` (named as the input column),
        ``[group]``, ``[paw]``, ``time`` (label as text; empty for AUCs), ``time_h``
        (hours after dosing; NaN for baseline and AUCs, 0 for pre-dose), ``endpoint``,
        ``value`` (on the analysed scale; %MPE and % reversal in %; AUC in unit·h),
        ``scale`` (``"log10"`` or ``"linear"``), ``flag`` (why a value is undefined,
        ``"censored at cut-off"`` for measured values ≥ cut-off, else empty).
        ``value``/``change``/``mpe``/``reversal`` are given at post-dose times;
        ``value`` also at baseline and pre-dose.

    Raises
    ------
    InputError
        Missing column, non-numeric value, non-positive value on the log10 scale,
        non-numeric post-dose time, duplicated animal × paw × time, unknown paw label,
        group not constant within an animal, no baseline or pre-dose rows at all.
    """
    source = data.attrs.get("source")
    factors = [subject, time] + [c for c in (paw, group) if c is not None]
    df = check_long(data, numeric=[dv], factors=factors)
    if log10 is None:
        name = dv.lower()
        log10 = "threshold" in name and not name.startswith("log")
    scale = "log10" if log10 else "linear"
    y = df[dv].to_numpy(dtype=float)
    if log10:
        raise_first_bad(
            ~np.isnan(y) & (y <= 0), lambda i: f"{y[i]:g} cannot be log-transformed",
            file=source, column=dv, expected="a threshold > 0 (or log10=False)",
        )
        if cutoff is not None and cutoff <= 0:
            raise InputError(f"cutoff = {cutoff:g}", column="cutoff", expected="a value > 0")
    cut_raw = cutoff
    cut = None if cutoff is None else (float(np.log10(cutoff)) if log10 else float(cutoff))
    df["_y"] = np.log10(y) if log10 else y
    df["_censored"] = False if cut_raw is None else (~np.isnan(y) & (y >= cut_raw))

    # time keys
    bkey, pkey = _key(baseline), _key(predose)
    keys = [_key(v) for v in df[time]]
    df["_tkey"] = keys
    df["_tlabel"] = [_label(v) for v in df[time]]
    for label, k in (("baseline", bkey), ("pre-dose", pkey)):
        if not any(kk == k for kk in keys):
            raise InputError(
                f"no {label} rows ({k!r}) found", file=source, column=time,
                expected=f"the {label} label as it appears in the time column",
            )
    th = np.full(len(df), np.nan)
    for i, k in enumerate(keys):
        if k == pkey:
            th[i] = 0.0
        elif k == bkey:
            continue
        elif isinstance(k, float) and k > 0:
            th[i] = k
        elif isinstance(k, float):
            raise InputError(
                f"post-dose time {k:g} h is not after dosing", file=source,
                row=row_number(i), column=time,
                expected="post-dose times > 0 h (the pre-dose point is t = 0)",
            )
        else:
            raise InputError(
                f"time {k!r} is neither the baseline ({baseline!r}), the pre-dose "
                f"({predose!r}) label nor a number of hours",
                file=source, row=row_number(i), column=time,
                expected="post-dose times in hours",
            )
    df["_th"] = th
    post_mask = np.array([(k != bkey) and (k != pkey) for k in keys])
    if not post_mask.any():
        raise InputError("no post-dose time points", file=source, column=time,
                         expected="at least one post-dose time in hours")

    paws: list[str] = [""]
    if paw is not None:
        labels = df[paw].astype(str).str.strip()
        canon = {ipsi.lower(): ipsi, contra.lower(): contra}
        labels = labels.map(lambda x: canon.get(x.lower(), x))
        raise_first_bad(~labels.isin([ipsi, contra]).to_numpy(),
                        lambda i: f"unknown paw {labels.iloc[i]!r}", file=source, column=paw,
                        expected=f"{ipsi!r} or {contra!r}")  # fmt: skip
        df["_paw"] = labels
        paws = [p for p in (ipsi, contra) if (labels == p).any()]
    else:
        df["_paw"] = ""
    raise_first_bad(
        df.duplicated([subject, "_paw", "_tkey"]).to_numpy(),
        lambda i: f"animal {show(df[subject].iloc[i])} has a second value at time "
        f"{df['_tlabel'].iloc[i]}",
        file=source, column=time, expected="one value per animal, paw and time",
    )
    group_of: dict = {}
    if group is not None:
        per = df.groupby(subject, sort=False)[group].nunique()
        if (per > 1).any():
            s = per.index[per.to_numpy() > 1][0]
            i = int(np.flatnonzero((df[subject] == s).to_numpy())[0])
            raise InputError(f"animal {show(s)} is in more than one group", file=source,
                             row=row_number(i), column=group, expected="one group per animal")
        group_of = df.drop_duplicates(subject).set_index(subject)[group].to_dict()

    # post-dose times of the study, ascending; all animals are aligned on them
    post_times = sorted({float(t) for t in df.loc[post_mask, "_th"]})
    firsts = df.drop_duplicates("_th")
    post_labels = {float(t): lab for t, lab in zip(firsts["_th"], firsts["_tlabel"], strict=True)
                   if not np.isnan(t)}
    is_base = np.array([k == bkey for k in keys])
    base_label = df.loc[is_base, "_tlabel"].iloc[0]
    pre_label = df.loc[np.array([k == pkey for k in keys]), "_tlabel"].iloc[0]

    # animals x paws ("units") by time matrices: column 0 baseline, 1 pre-dose, 2.. post
    subjects = level_order(df[subject], subject, given=given_for(levels, subject),
                           source=source)
    if group is not None:  # animals by group (level order), then their own order
        rank = {g: i for i, g in enumerate(level_order(
            df[group], group, given=given_for(levels, group), source=source))}
        subjects = sorted(subjects, key=lambda sj: rank[group_of[sj]])
    n_s, n_p, n_t = len(subjects), len(paws), len(post_times)
    s_idx = pd.Categorical(df[subject], categories=subjects).codes.astype(np.int64)
    p_idx = pd.Categorical(df["_paw"], categories=paws).codes.astype(np.int64)
    t_col = np.where(is_base, 0, np.searchsorted(post_times, df["_th"].to_numpy()) + 2)
    t_col[~post_mask & ~is_base] = 1
    unit = s_idx * n_p + p_idx
    yy = np.full((n_s * n_p, n_t + 2), np.nan)
    cc = np.zeros(yy.shape, dtype=bool)
    yy[unit, t_col] = df["_y"].to_numpy()
    cc[unit, t_col] = df["_censored"].to_numpy(dtype=bool)
    base, pre, post = yy[:, 0], yy[:, 1:2], yy[:, 2:]
    change = change_from_predose(post, pre)
    times_h = np.array(post_times)
    blocks: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []  # endpoint, t, v, flag

    def flags_of(values: np.ndarray, extra: np.ndarray | None, censored: np.ndarray):
        first = np.where(np.isnan(values), FLAG_MISSING, "").astype(object)
        if extra is not None:
            first = extra.astype(object)
        second = np.where(censored, FLAG_CENSORED, "").astype(object)
        both = (first != "") & (second != "")
        return np.where(both, first + "; " + second, first + second)

    all_t = np.r_[np.nan, 0.0, times_h]
    blocks.append(("value", all_t, yy, flags_of(yy, None, cc)))
    blocks.append(("change", times_h, change, flags_of(change, None, cc[:, 2:])))
    mpe = None
    undefined = _undefined_reversal(base, pre[:, 0], log10, min_drop_pct,
                                    np.isin(np.repeat(np.asarray(subjects, dtype=object), n_p),
                                            np.asarray(list(sham or ()), dtype=object)))
    if cut is not None:
        mpe, mflags = _mask(*percent_mpe(post, pre, cut), undefined)
        blocks.append(("mpe", times_h, mpe, flags_of(mpe, mflags, cc[:, 2:])))
    rev, rflags = _mask(*percent_reversal(post, pre, base[:, None]), undefined)
    blocks.append(("reversal", times_h, rev, flags_of(rev, rflags, cc[:, 2:])))
    ones = np.ones((yy.shape[0], 1))
    if auc_from_predose:
        tt = np.r_[0.0, times_h]
        curves = {"auc": yy[:, 1:], "auc_change": np.hstack([0.0 * ones, change])}
        if mpe is not None:
            curves["auc_mpe"] = np.hstack([0.0 * ones, mpe])
    else:
        tt = times_h
        curves = {"auc": post, "auc_change": change}
        if mpe is not None:
            curves["auc_mpe"] = mpe
    for name, curve in curves.items():
        area = auc_trapezoid(tt, curve)
        flag = np.full(area.shape, "", dtype=object)
        undefined = np.isnan(area)
        flag[undefined] = ("fewer than two time points" if tt.size < 2
                           else "missing value in the time course")
        if name == "auc_mpe" and undefined.any():
            for i in np.flatnonzero(undefined):
                reasons = [f for f in mflags[i] if f and f != FLAG_MISSING]
                missing = (mflags[i] == FLAG_MISSING).any() or np.isnan(yy[i, 1])
                flag[i] = _join(flag[i] if missing else "", *reasons)
        blocks.append((name, np.array([np.nan]), area[:, None], flag[:, None]))

    labels_all = np.array([base_label, pre_label, *[post_labels[t] for t in post_times]],
                          dtype=object)
    unit_subj = np.repeat(np.arange(n_s), n_p)
    unit_paw = np.tile(np.array(paws, dtype=object), n_s)
    frames = []
    for e_i, (name, t_h, values, flags) in enumerate(blocks):
        n_cols = values.shape[1]
        if name == "value":
            labs = labels_all
        elif name.startswith("auc"):
            labs = np.array([""], dtype=object)
        else:
            labs = labels_all[2:]
        frames.append(pd.DataFrame({
            "_s": np.repeat(unit_subj, n_cols), "_paw": np.repeat(unit_paw, n_cols),
            "time": np.tile(labs, len(unit_subj)), "time_h": np.tile(t_h, len(unit_subj)),
            "endpoint": name, "value": values.ravel(), "flag": flags.ravel(), "_e": e_i,
        }))
    if paw is not None and n_p == 2:
        diff = ipsi_minus_contra(yy[0::2], yy[1::2])
        frames.append(pd.DataFrame({
            "_s": np.repeat(np.arange(n_s), n_t + 2), "_paw": DIFF_PAW,
            "time": np.tile(labels_all, n_s), "time_h": np.tile(all_t, n_s),
            "endpoint": "value", "value": diff.ravel(),
            "flag": np.where(np.isnan(diff.ravel()), FLAG_MISSING, ""), "_e": 0,
        }))
    out = pd.concat(frames, ignore_index=True)
    out["scale"] = scale
    paw_order = {p: i for i, p in enumerate([ipsi, contra, DIFF_PAW, ""])}
    out["_p"] = pd.Categorical(out["_paw"], categories=list(paw_order)).codes
    # baseline (NaN time_h) first, then pre-dose, then post-dose ascending
    out["_t"] = out["time_h"].fillna(-np.inf)
    out = out.sort_values(["_s", "_p", "_e", "_t"], kind="mergesort").reset_index(drop=True)
    subj_arr = np.array(subjects, dtype=object)
    out.insert(0, subject, subj_arr[out["_s"].to_numpy()])
    cols = [subject]
    if group is not None:
        groups_arr = np.array([group_of[sj] for sj in subjects], dtype=object)
        out[group] = groups_arr[out["_s"].to_numpy()]
        cols.append(group)
    if paw is not None:
        out[paw] = out["_paw"]
        cols.append(paw)
    cols += ["time", "time_h", "endpoint", "value", "scale", "flag"]
    return out[cols]
