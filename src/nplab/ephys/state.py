"""State-dependent block: resting (K_R) and inactivated-state (K_I) affinities.

Modulated-receptor model at equilibrium (Hille 1977; Hondeghem & Katzung 1977) in the
form of Bean, Cohen & Tsien (1983) and Bean (1984): with ``h`` the fraction of channels
in the resting (available) state at the conditioning potential,

    1/K_app = h/K_R + (1 − h)/K_I                                          (1)

so two apparent dissociation constants measured at two holding potentials with
different ``h`` (e.g. −120 mV, h ≈ 1, and the cell's V½ of inactivation, h = 0.5; Kuo &
Bean 1994) give K_R and K_I by solving the 2 × 2 linear system in 1/K_R and 1/K_I.
The drug-induced shift of the availability curve (Boltzmann slope factor k > 0) is

    ΔV½ = −k · ln[(1 + [D]/K_I) / (1 + [D]/K_R)]                          (2)

and availability is h(V) = 1/(1 + exp((V − V½)/k)).

References
----------
Bean BP, Cohen CJ, Tsien RW (1983) Lidocaine block of cardiac sodium channels. J Gen
Physiol 81:613–642.  Bean BP (1984) Nitrendipine block of cardiac calcium channels:
high-affinity binding to the inactivated state. PNAS 81:6388–6392.  Kuo CC, Bean BP
(1994) Slow binding of phenytoin to inactivated sodium channels in rat hippocampal
neurons. Mol Pharmacol 46:716–725.  Hille B (1977) J Gen Physiol 69:497–515.
Hondeghem LM, Katzung BG (1977) Biochim Biophys Acta 472:373–398.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import optimize

from nplab.errors import InputError

__all__ = [
    "STATE_COLUMNS",
    "availability",
    "delta_v_half",
    "k_app",
    "k_inactivated",
    "k_inactivated_from_shift",
    "state_dependent",
    "state_table",
]

#: Columns of :func:`state_table`.
STATE_COLUMNS = (
    "drug", "level", "condition_1", "condition_2", "h_1", "h_2", "k_app_1_um", "k_app_2_um",
    "k_r_um", "k_r_se_um", "k_i_um", "k_i_se_um", "selectivity", "status", "reason",
)


def availability(v_mv: float | np.ndarray, v_half_mv: float, slope_mv: float) -> np.ndarray | float:
    """Boltzmann availability h(V) = 1/(1 + exp((V − V½)/k)), k > 0 (mV)."""
    if not slope_mv > 0:
        raise InputError(f"slope factor must be > 0 mV, got {slope_mv!r}", column="slope_mv")
    out = 1.0 / (1.0 + np.exp((np.asarray(v_mv, dtype=float) - v_half_mv) / slope_mv))
    return float(out) if np.ndim(out) == 0 else out


def _check_h(h: float, name: str = "h") -> float:
    h = float(h)
    if not 0.0 <= h <= 1.0:
        raise InputError(f"{name} = {h!r} is not a fraction", column=name, expected="0 <= h <= 1")
    return h


def _check_k(k: float, name: str) -> float:
    k = float(k)
    if not (k > 0 and math.isfinite(k)):
        raise InputError(f"{name} = {k!r} is not a positive concentration", column=name,
                         expected="a finite number > 0")
    return k


def k_app(h: float | np.ndarray, k_r: float, k_i: float) -> float | np.ndarray:
    """Apparent dissociation constant at availability ``h``, eq. (1) (Bean et al. 1983)."""
    hh = np.asarray(h, dtype=float)
    if np.any((hh < 0) | (hh > 1)):
        raise InputError("h must be a fraction", column="h", expected="0 <= h <= 1")
    k_r, k_i = _check_k(k_r, "k_r"), _check_k(k_i, "k_i")
    out = 1.0 / (hh / k_r + (1.0 - hh) / k_i)
    return float(out) if np.ndim(out) == 0 else out


def k_inactivated(k_app_um: float, h: float, k_r: float) -> float:
    """K_I from one apparent constant at availability ``h`` < 1 and a known K_R.

    ``K_I = (1 − h) / (1/K_app − h/K_R)``; at V½ (h = 0.5) this is
    ``0.5/(1/K_app − 0.5/K_R)`` ≈ K_app/2 when K_R ≫ K_app.  Returns ``inf`` when the
    data show no preference for the inactivated state (1/K_app <= h/K_R).
    """
    h = _check_h(h)
    if h >= 1.0:
        raise InputError("h = 1 carries no information about K_I", column="h", expected="h < 1")
    denom = 1.0 / _check_k(k_app_um, "k_app") - h / _check_k(k_r, "k_r")
    return (1.0 - h) / denom if denom > 0 else math.inf


def state_dependent(
    k_app_1: float,
    h_1: float,
    k_app_2: float,
    h_2: float,
    *,
    se_1: float | None = None,
    se_2: float | None = None,
) -> dict[str, float]:
    """K_R and K_I from apparent constants at two availabilities (eq. 1 solved exactly).

    With u = 1/K_app, a = 1/K_R and b = 1/K_I: ``h_j·a + (1 − h_j)·b = u_j`` for j = 1, 2,
    so ``a = (u1(1 − h2) − u2(1 − h1))/(h1 − h2)`` and ``b = (h1·u2 − h2·u1)/(h1 − h2)``.
    Standard errors (when ``se_1``/``se_2`` of K_app are given, independent estimates)
    by the delta method.  A non-positive a or b (the data contradict the model, e.g.
    the lower-h condition is not more potent) gives ``inf`` for that constant.

    Returns
    -------
    dict
        ``k_r``, ``k_i``, ``k_r_se``, ``k_i_se`` (same unit as the inputs) and
        ``selectivity`` = K_R/K_I.
    """
    h_1, h_2 = _check_h(h_1, "h_1"), _check_h(h_2, "h_2")
    if abs(h_1 - h_2) < 1e-12:
        raise InputError("the two conditions have the same h", column="h",
                         expected="two conditions with different availability")
    u1, u2 = 1.0 / _check_k(k_app_1, "k_app_1"), 1.0 / _check_k(k_app_2, "k_app_2")
    det = h_1 - h_2
    a = (u1 * (1.0 - h_2) - u2 * (1.0 - h_1)) / det
    b = (h_1 * u2 - h_2 * u1) / det
    k_r = 1.0 / a if a > 0 else math.inf
    k_i = 1.0 / b if b > 0 else math.inf
    k_r_se = k_i_se = math.nan
    if se_1 is not None and se_2 is not None:
        var_u1 = (float(se_1) * u1**2) ** 2  # d(1/K)/dK = −1/K²
        var_u2 = (float(se_2) * u2**2) ** 2
        var_a = ((1.0 - h_2) / det) ** 2 * var_u1 + ((1.0 - h_1) / det) ** 2 * var_u2
        var_b = (h_2 / det) ** 2 * var_u1 + (h_1 / det) ** 2 * var_u2
        k_r_se = math.sqrt(var_a) / a**2 if a > 0 else math.nan
        k_i_se = math.sqrt(var_b) / b**2 if b > 0 else math.nan
    return {"k_r": k_r, "k_i": k_i, "k_r_se": k_r_se, "k_i_se": k_i_se,
            "selectivity": k_r / k_i if math.isfinite(k_r) and math.isfinite(k_i) else math.nan}


def delta_v_half(conc: float | np.ndarray, k_r: float, k_i: float, slope_mv: float) -> float | np.ndarray:
    """Shift of the availability curve, eq. (2): ΔV½ = −k·ln[(1 + D/K_I)/(1 + D/K_R)] (mV)."""
    if not slope_mv > 0:
        raise InputError(f"slope factor must be > 0 mV, got {slope_mv!r}", column="slope_mv")
    d = np.asarray(conc, dtype=float)
    out = -slope_mv * np.log((1.0 + d / _check_k(k_i, "k_i")) / (1.0 + d / _check_k(k_r, "k_r")))
    return float(out) if np.ndim(out) == 0 else out


def k_inactivated_from_shift(
    conc: np.ndarray, shift_mv: np.ndarray, k_r: float, slope_mv: float
) -> float:
    """K_I from measured shifts ΔV½ at several concentrations (least squares on eq. 2).

    With one concentration the equation is inverted exactly:
    ``K_I = D / (exp(−ΔV/k)·(1 + D/K_R) − 1)``.  With several, K_I minimises the sum of
    squared ΔV½ residuals (bounded scalar search on log K_I).
    """
    d = np.asarray(conc, dtype=float)
    dv = np.asarray(shift_mv, dtype=float)
    if d.shape != dv.shape or d.size == 0:
        raise InputError("conc and shift_mv must be non-empty and of equal length")
    if np.any(d <= 0):
        raise InputError("concentrations must be > 0", column="conc_um")
    _check_k(k_r, "k_r")
    if d.size == 1:
        denom = math.exp(-dv[0] / slope_mv) * (1.0 + d[0] / k_r) - 1.0
        return float(d[0] / denom) if denom > 0 else math.inf

    def sse(log_ki: float) -> float:
        return float(np.sum((dv - delta_v_half(d, k_r, math.exp(log_ki), slope_mv)) ** 2))

    # start from the single-point inversions, then refine
    singles = [k_inactivated_from_shift(np.array([x]), np.array([y]), k_r, slope_mv)
               for x, y in zip(d, dv, strict=True)]
    finite = [math.log(s) for s in singles if math.isfinite(s) and s > 0]
    centre = float(np.median(finite)) if finite else math.log(k_r)
    res = optimize.minimize_scalar(sse, bounds=(centre - 12.0, centre + 12.0), method="bounded",
                                   options={"xatol": 1e-12})
    return float(math.exp(res.x))


def state_table(
    fits: pd.DataFrame, h: Mapping[str, float], *, levels: tuple[str, ...] = ("pooled_mean_log", "pooled_global")
) -> pd.DataFrame:
    """K_R and K_I per drug from pooled IC50s of two conditions with known availability.

    Parameters
    ----------
    fits
        Fits table of :func:`nplab.ephys.ic50.fit_cells` (the IC50 of a one-site blocker
        with Hill slope 1 equals its apparent dissociation constant).
    h
        Availability per condition (e.g. ``{"-120 mV": 1.0, "V1/2": 0.5}``); the two
        conditions of a drug with the highest and lowest ``h`` are used.
    levels
        Which pooled rows to use.

    Returns
    -------
    DataFrame
        :data:`STATE_COLUMNS`; ``condition_1`` is the condition with the larger ``h``;
        SEs by the delta method from the IC50 SEs (log-scale SE × IC50).
    """
    rows = []
    for drug, g in fits.groupby("drug", sort=True):
        conds = [c for c in g["condition"].unique() if str(c) in h]
        if len(conds) < 2:
            continue
        conds = sorted(conds, key=lambda c: (-float(h[str(c)]), str(c)))
        c1, c2 = conds[0], conds[-1]
        for level in levels:
            r1 = g[(g["condition"] == c1) & (g["level"] == level)]
            r2 = g[(g["condition"] == c2) & (g["level"] == level)]
            row = dict.fromkeys(STATE_COLUMNS, math.nan)
            row.update(drug=drug, level=level, condition_1=c1, condition_2=c2,
                       h_1=float(h[str(c1)]), h_2=float(h[str(c2)]), status="ok", reason="")
            if r1.empty or r2.empty or not (r1["success"].iloc[0] and r2["success"].iloc[0]):
                row.update(status="not_computed", reason="a pooled fit is missing or failed")
                rows.append(row)
                continue
            k1, k2 = float(r1["ic50_um"].iloc[0]), float(r2["ic50_um"].iloc[0])
            se1 = float(r1["log10_ic50_se"].iloc[0]) * k1 * math.log(10.0)
            se2 = float(r2["log10_ic50_se"].iloc[0]) * k2 * math.log(10.0)
            try:
                res = state_dependent(k1, row["h_1"], k2, row["h_2"], se_1=se1, se_2=se2)
            except InputError as exc:
                row.update(status="not_computed", reason=exc.reason)
                rows.append(row)
                continue
            row.update(k_app_1_um=k1, k_app_2_um=k2, k_r_um=res["k_r"], k_r_se_um=res["k_r_se"],
                       k_i_um=res["k_i"], k_i_se_um=res["k_i_se"], selectivity=res["selectivity"])
            if not (math.isfinite(res["k_r"]) and math.isfinite(res["k_i"])):
                row["reason"] = "the data do not fit the two-state model (infinite constant)"
            rows.append(row)
    return pd.DataFrame(rows, columns=list(STATE_COLUMNS))
