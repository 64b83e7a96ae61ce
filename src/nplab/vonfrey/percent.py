"""Von Frey %-response method: % withdrawal per filament and a psychometric 50 % threshold.

Fixed filaments are each applied N times (e.g. 5-10) to the paw; the % of applications
that evoke a withdrawal is reported per filament (the "percent response" method; Chaplan
et al. 1994 compared it with up-down), and a 50 % threshold is estimated per animal from
a psychometric fit: a binomial GLM of the withdrawals on log10(force) with a logit or
probit link (Bradman et al. 2015 argue for such fits),

.. math:: P(\\text{withdrawal} \\mid x) = F(\\alpha + \\beta \\log_{10} x), \\qquad
          T_{50} = 10^{-\\alpha/\\beta},

by maximum likelihood (iteratively reweighted least squares, statsmodels).  For the logit
link this is drc's two-parameter log-logistic model LL.2 fitted with ``type =
"binomial"`` (b = -beta/ln 10, e = T50), and the threshold is computed through
:func:`nplab.doseresponse.ed_value` on that curve.  The interval is the delta-method
(Wald) interval of log10 T50 (as MASS ``dose.p``), back-transformed to grams.

A threshold that the data cannot identify is a row with a status, never a number:
``all_responded`` (every application withdrew: T50 below the weakest filament),
``none_responded`` (above the strongest), ``far_outside_range`` (a fitted T50 more
than a decade beyond the tested forces, i.e. a nearly flat curve: not reported),
``separated`` (withdrawals at every filament
above a force and none below: the MLE of the slope is infinite; the message gives the
bracket), ``too_few_filaments`` (fewer than 2 forces), ``decreasing`` (fitted slope
<= 0), ``not_converged``; ``extrapolated`` flags a finite T50 outside the tested range.

Input (long): id columns (default ``animal``, ``paw``, ``timepoint`` when present),
``force_g`` (filament target force in g), and either ``response`` (one row per
application: 1/0, true/false, X/O) or ``n_applied`` with ``n_withdrawals`` (one row per
filament).  :func:`read_pain_scores` turns pain-score tables such as the public CCI mouse
data of Abdus-Saboor et al. (2019) into this form.

References
----------
Chaplan SR, Bach FW, Pogrel JW, Chung JM, Yaksh TL (1994) J Neurosci Methods 53:55-63.
Bradman MJG, Ferrini F, Salio C, Merighi A (2015) Practical mechanical threshold
estimation in rodents using von Frey hairs/Semmes-Weinstein monofilaments: towards a
rational method. J Neurosci Methods 255:92-103.
Venables WN, Ripley BD (2002) Modern Applied Statistics with S, 4th ed., section 7.2
(``dose.p``; budworm data of Collett 1991).
Abdus-Saboor I et al. (2019) A mouse pain scale: assessment of pain sensation in mice
using sub-second behavioral mapping and statistical modeling. Cell Rep 28:1623-1634.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nplab._dist import norm_ppf
from nplab.checks import raise_first_bad
from nplab.doseresponse import ed_value
from nplab.errors import InputError
from nplab.tables import read_table, to_numeric_column

__all__ = [
    "PERCENT_COLUMNS",
    "THRESHOLD_COLUMNS",
    "percent_response",
    "psychometric_fit",
    "psychometric_thresholds",
    "read_pain_scores",
]

PERCENT_COLUMNS = ("force_g", "n_applied", "n_withdrawals", "percent_withdrawal")
THRESHOLD_COLUMNS = (
    "threshold_50_g",
    "ci_low_g",
    "ci_high_g",
    "log10_threshold",
    "se_log10",
    "slope_log10",
    "intercept",
    "link",
    "n_filaments",
    "n_applied",
    "n_withdrawals",
    "status",
    "message",
)
_TRUE = {"1", "1.0", "true", "yes", "y", "x", "t"}
_FALSE = {"0", "0.0", "false", "no", "n", "o", "f"}


def _ids(df: pd.DataFrame, by: Sequence[str] | None) -> list[str]:
    if by is not None:
        return list(by)
    return [c for c in ("animal", "group", "paw", "timepoint") if c in df.columns]


def percent_response(
    data: str | os.PathLike[str] | pd.DataFrame, *, by: Sequence[str] | None = None
) -> pd.DataFrame:
    """% withdrawal per filament for each animal (x paw x timepoint).

    Parameters
    ----------
    data
        Long table (see module docstring); a path is read with :func:`nplab.tables.read_table`.
    by
        Id columns (default: those of ``animal``, ``group``, ``paw``, ``timepoint``
        present).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``force_g``, ``n_applied``, ``n_withdrawals``,
        ``percent_withdrawal`` (100 x withdrawals / applications), one row per id x
        filament, filaments in increasing force.

    Raises
    ------
    InputError
        Missing columns, a force <= 0, a response that is not 0/1, counts that are not
        whole numbers or withdrawals above applications.
    """
    df = data.copy() if isinstance(data, pd.DataFrame) else read_table(data)
    src = df.attrs.get("source")
    ids = _ids(df, by)
    for col in [*ids, "force_g"]:
        if col not in df.columns:
            raise InputError("required column is missing", file=src, column=col)
    force = to_numeric_column(df, "force_g", file=src, expected="a force in g > 0")
    raise_first_bad(
        force <= 0,
        lambda i: f"force {force[i]:g} g",
        file=src,
        column="force_g",
        expected="a force in g > 0",
    )
    if "response" in df.columns:
        text = df["response"].astype("string").str.strip().str.lower()
        raise_first_bad(
            ~text.isin(list(_TRUE | _FALSE)),
            lambda i: f"{df['response'].iloc[i]!r} is not a response",
            file=src,
            column="response",
            expected="1/0, true/false or X/O (withdrawal / none)",
        )
        counts = pd.DataFrame({"n_applied": 1, "n_withdrawals": text.isin(list(_TRUE)).astype(int)})
    elif {"n_applied", "n_withdrawals"} <= set(df.columns):
        n = to_numeric_column(df, "n_applied", file=src, expected="a whole number >= 1")
        w = to_numeric_column(df, "n_withdrawals", file=src, expected="a whole number >= 0")
        raise_first_bad(
            (n < 1) | (n != np.round(n)),
            lambda i: f"{n[i]:g} applications",
            file=src,
            column="n_applied",
            expected="a whole number >= 1",
        )
        raise_first_bad(
            (w < 0) | (w != np.round(w)) | (w > n),
            lambda i: f"{w[i]:g} withdrawals of {n[i]:g} applications",
            file=src,
            column="n_withdrawals",
            expected="a whole number from 0 to n_applied",
        )
        counts = pd.DataFrame({"n_applied": n.astype(int), "n_withdrawals": w.astype(int)})
    else:
        raise InputError(
            "no response column",
            file=src,
            column="response",
            expected="'response' (one row per application) or 'n_applied' and 'n_withdrawals'",
        )
    work = df[ids].reset_index(drop=True).copy()
    work["force_g"] = force
    work = pd.concat([work, counts.reset_index(drop=True)], axis=1)
    keys = [*ids, "force_g"]
    out = work.groupby(keys, sort=False, dropna=False)[["n_applied", "n_withdrawals"]].sum()
    out = out.reset_index()
    out["percent_withdrawal"] = 100.0 * out["n_withdrawals"] / out["n_applied"]
    order = out.groupby(ids, sort=False, dropna=False).ngroup() if ids else 0
    out = out.assign(_o=order).sort_values(["_o", "force_g"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


def psychometric_fit(
    force_g: np.ndarray,
    n_applied: np.ndarray,
    n_withdrawals: np.ndarray,
    *,
    link: str = "logit",
    level: float = 0.95,
) -> dict[str, object]:
    """Fit one psychometric curve; return the :data:`THRESHOLD_COLUMNS` values.

    See the module docstring for the model, the interval and the statuses.
    """
    x = np.log10(np.asarray(force_g, dtype=float))
    n = np.asarray(n_applied, dtype=float)
    w = np.asarray(n_withdrawals, dtype=float)
    out: dict[str, object] = dict.fromkeys(THRESHOLD_COLUMNS, np.nan)
    out.update(
        link=link,
        n_filaments=int(np.unique(x).size),
        n_applied=int(n.sum()),
        n_withdrawals=int(w.sum()),
        status="ok",
        message="",
    )
    lo_f, hi_f = 10 ** x.min(), 10 ** x.max()
    if np.unique(x).size < 2:
        out.update(status="too_few_filaments", message="fewer than 2 filament forces")
        return out
    if w.sum() == n.sum():
        out.update(
            status="all_responded",
            message=f"every application withdrew: 50 % threshold below {lo_f:g} g",
        )
        return out
    if w.sum() == 0:
        out.update(
            status="none_responded", message=f"no withdrawal: 50 % threshold above {hi_f:g} g"
        )
        return out
    resp_x = x[w > 0]
    none_x = x[w < n]
    if resp_x.min() >= none_x.max():
        a, b = 10 ** none_x.max(), 10 ** resp_x.min()
        out.update(
            status="separated",
            message=f"responses separate perfectly: 50 % threshold between {a:g} and "
            f"{b:g} g, slope not estimable",
        )
        return out
    import statsmodels.api as sm

    fam = sm.families.Binomial(
        link=sm.families.links.Logit() if link == "logit" else sm.families.links.Probit()
    )
    endog = np.column_stack([w, n - w])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = sm.GLM(endog, sm.add_constant(x), family=fam).fit()
        except Exception as exc:  # statsmodels raises on numerical failure
            out.update(status="not_converged", message=f"fit failed: {exc}")
            return out
    if not res.converged:
        out.update(status="not_converged", message="IRLS did not converge")
        return out
    alpha, beta = (float(v) for v in res.params)
    cov = np.asarray(res.cov_params())
    out.update(slope_log10=beta, intercept=alpha)
    if beta <= 0:
        out.update(status="decreasing", message="withdrawals do not increase with force")
        return out
    m = -alpha / beta
    if link == "logit" and abs(m) < 300:
        # the same curve as drc's LL.2 (c = 0, d = 1, b = -beta/ln 10, e = 10^m)
        theta = np.array([-beta / np.log(10.0), 0.0, 1.0, 10.0**m, 1.0])
        m = float(np.log10(ed_value("LL", theta, 50.0)))
    grad = np.array([-1.0 / beta, alpha / beta**2])
    se = float(np.sqrt(grad @ cov @ grad))
    z = norm_ppf(0.5 + level / 2.0)
    log_lo, log_hi = np.log10(lo_f), np.log10(hi_f)
    if m < log_lo - 1.0 or m > log_hi + 1.0:
        out.update(
            status="far_outside_range",
            message=f"fitted 50 % threshold 10^{m:.3g} g lies more than a decade outside the "
            f"tested {lo_f:g}-{hi_f:g} g (slope {beta:.3g} per log10 g): not reported",
        )
        return out
    out.update(
        threshold_50_g=10.0**m,
        log10_threshold=m,
        se_log10=se,
        ci_low_g=10.0 ** (m - z * se),
        ci_high_g=10.0 ** (m + z * se),
    )
    if not (log_lo <= m <= log_hi):
        out.update(
            status="extrapolated",
            message=f"50 % threshold {10.0**m:.3g} g outside the tested {lo_f:g}-{hi_f:g} g",
        )
    return out


def psychometric_thresholds(
    data: str | os.PathLike[str] | pd.DataFrame,
    *,
    by: Sequence[str] | None = None,
    link: str = "logit",
    level: float = 0.95,
) -> pd.DataFrame:
    """50 % withdrawal threshold per animal (x paw x timepoint) from a psychometric fit.

    Parameters
    ----------
    data
        Long table (module docstring) or the output of :func:`percent_response`.
    by
        Id columns of one fit (default: ``animal``, ``group``, ``paw``, ``timepoint``
        present); ``by=["group", "paw", "timepoint"]`` pools the animals of a group.
    link
        ``"logit"`` (drc LL.2) or ``"probit"``.
    level
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns and :data:`THRESHOLD_COLUMNS`: ``threshold_50_g``, ``ci_low_g``,
        ``ci_high_g`` (delta-method interval of log10 T50, back-transformed),
        ``log10_threshold``, ``se_log10``, ``slope_log10``, ``intercept``, ``link``,
        ``n_filaments``, ``n_applied``, ``n_withdrawals``, ``status``, ``message``.
    """
    if link not in {"logit", "probit"}:
        raise InputError(f"{link!r} is not a link", column="link", expected="logit or probit")
    if isinstance(data, pd.DataFrame) and set(PERCENT_COLUMNS) <= set(data.columns):
        pct = data
        ids = _ids(data, by)
    else:
        raw = data if isinstance(data, pd.DataFrame) else read_table(data)
        ids = _ids(raw, by)
        pct = percent_response(raw, by=ids)
    rows = []
    for key, sub in pct.groupby(ids, sort=False, dropna=False) if ids else [((), pct)]:
        key = key if isinstance(key, tuple) else (key,)
        agg = sub.groupby("force_g", sort=True)[["n_applied", "n_withdrawals"]].sum()
        res = psychometric_fit(
            agg.index.to_numpy(),
            agg["n_applied"].to_numpy(),
            agg["n_withdrawals"].to_numpy(),
            link=link,
            level=level,
        )
        rows.append({**dict(zip(ids, key, strict=True)), **res})
    return pd.DataFrame(rows, columns=[*ids, *THRESHOLD_COLUMNS])


_STIMULUS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:g|vfh|g vfh)?\s*$", re.IGNORECASE)
_COLUMNS = {
    "Animal": "animal",
    "Stimulus": "stimulus",
    "Pain Score": "pain_score",
    "TIME": "timepoint",
    "Paw Velocity (mm/s)": "paw_velocity_mm_s",
    "Paw Height (mm)": "paw_height_mm",
    "Genotype (I.D.)": "genotype",
}
_PAIR = {"ipsi": "cci_injured_paw.csv", "contra": "cci_uninjured_paw.csv"}


def read_pain_scores(
    path: str | os.PathLike[str],
    *,
    paw: str | None = None,
    response_min_score: float = 1.0,
) -> pd.DataFrame:
    """Read pain-score tables at fixed von Frey filaments into the %-response form.

    Reads the layout of the public CCI mouse data of Abdus-Saboor et al. (2019;
    repository longdecision/PainAssaySVM, MIT): columns ``Genotype (I.D.)``, ``Animal``,
    ``Stimulus`` (``0.07 VFH``, ``0.6 VFH``, ``1.4 VFH``), ``Paw Velocity (mm/s)``,
    ``Paw Height (mm)``, ``Pain Score`` (0-4), ``TIME`` (``Baseline``, ``Week 1`` ...).

    Parameters
    ----------
    path
        One CSV file, or a folder holding ``cci_injured_paw.csv`` (ipsi) and
        ``cci_uninjured_paw.csv`` (contra), read together.
    paw
        Paw of a single file (default: ``contra`` when the genotype mentions
        "uninjured", else ``ipsi``).
    response_min_score
        A stimulus counts as a pain-like response (``response = 1``) when its pain score
        is at least this (the paper's scores grade pain-like features of a withdrawal;
        check the definition before relying on it).

    Returns
    -------
    pandas.DataFrame
        One row per application: ``animal`` (``"Cage1, Animal 1"``), ``paw``,
        ``timepoint`` (as recorded), ``week`` (0 for Baseline, N for Week N),
        ``force_g``, ``pain_score``, ``response`` (0/1), ``paw_velocity_mm_s``,
        ``paw_height_mm``, ``genotype``; ``attrs["source"]``.

    Raises
    ------
    InputError
        A missing column, a stimulus that is not a von Frey force (e.g. ``cotton swab``
        of the naive file), a non-numeric score, a time that is neither Baseline nor
        Week N.
    """
    p = Path(path)
    if p.is_dir():
        parts = []
        for side, name in _PAIR.items():
            if not (p / name).is_file():
                raise InputError(
                    "file not found",
                    file=p / name,
                    expected="cci_injured_paw.csv and cci_uninjured_paw.csv",
                )
            parts.append(
                read_pain_scores(p / name, paw=side, response_min_score=response_min_score)
            )
        out = pd.concat(parts, ignore_index=True)
        out.attrs["source"] = str(p)
        return out
    df = read_table(p)
    src = df.attrs["source"]
    for col in _COLUMNS:
        if col not in df.columns:
            raise InputError("required column is missing", file=src, column=col)
    df = df.rename(columns=_COLUMNS)
    stim = df["stimulus"].astype("string").str.strip()
    match = stim.str.extract(_STIMULUS)[0]
    raise_first_bad(
        match.isna(),
        lambda i: f"{stim.iloc[i]!r} is not a von Frey force",
        file=src,
        column="Stimulus",
        expected="a force such as '0.6 VFH' or '1.4 g'",
    )
    score = to_numeric_column(df, "pain_score", file=src, expected="a pain score")
    tp = df["timepoint"].astype("string").str.strip()
    week = tp.str.extract(r"^[Ww]eek\s*(\d+)$")[0].astype("Float64")
    week = week.mask(tp.str.lower() == "baseline", 0.0)
    raise_first_bad(
        week.isna().to_numpy(),
        lambda i: f"{tp.iloc[i]!r} is not a time point",
        file=src,
        column="TIME",
        expected="Baseline or Week N",
    )
    if paw is None:
        paw = "contra" if df["genotype"].astype(str).str.contains("uninjured").any() else "ipsi"
    return (
        pd.DataFrame(
            {
                "animal": df["animal"].astype(str).str.strip(),
                "paw": paw,
                "timepoint": tp.astype(str),
                "week": week.to_numpy(dtype=float),
                "force_g": match.astype(float).to_numpy(),
                "pain_score": score,
                "response": (score >= response_min_score).astype(int),
                "paw_velocity_mm_s": pd.to_numeric(df["paw_velocity_mm_s"], errors="coerce"),
                "paw_height_mm": pd.to_numeric(df["paw_height_mm"], errors="coerce"),
                "genotype": df["genotype"].astype(str),
            }
        )
        .assign(**{})
        .pipe(lambda d: d.set_axis(d.index))
        .pipe(_with_source, src)
    )


def _with_source(df: pd.DataFrame, src: str) -> pd.DataFrame:
    df.attrs["source"] = src
    return df
