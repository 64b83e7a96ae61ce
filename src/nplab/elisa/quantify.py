"""ELISA quantification: blank correction, standard curve, back-calculation, acceptance.

One standard curve per plate (LL.4 or LL.5 of :mod:`nplab.doseresponse`), unknowns read
off it with a delta-method interval, standards back-fitted and judged by the ICH M10
ligand-binding criteria. See :func:`quantify`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nplab._dist import t_ppf
from nplab.doseresponse import PARAMETERS, fit_many, get_model
from nplab.elisa.curve import covariance_many, inverse, refine_weighted
from nplab.errors import InputError, row_number

__all__ = ["KINDS", "ElisaResult", "acceptance", "prepare_table", "quantify"]

#: Well kinds of the tidy input table.
KINDS = ("standard", "blank", "sample", "qc")
_WEIGHTS = (None, "1/y^2", "pom")


@dataclass
class ElisaResult:
    """Result of :func:`quantify`.

    Attributes
    ----------
    params : DataFrame
        ``plate, parameter, estimate, se`` (estimated curve parameters, drc names).
    standards : DataFrame
        One row per standard level and plate: ``plate, nominal, anchor, n_wells,
        mean_signal, corrected, back_calculated, recovery_pct, tolerance_pct, pass``.
    wells : DataFrame
        Every standard well back-calculated on its own: ``plate, well, nominal,
        signal, corrected, back_calculated, recovery_pct``.
    samples : DataFrame
        One row per sample (and QC) × dilution × plate: ``plate, kind, sample,
        dilution, n_wells, mean_signal, corrected, sd_signal, cv_pct, cv_flag,
        well_concentration, concentration, se, ci_low, ci_high, status, lloq, uloq,
        plate_accepted`` and, for QCs, ``nominal, recovery_pct, qc_pass``.
    plates : DataFrame
        ``plate, n_blanks, blank_mean, n_levels, n_levels_pass, pct_levels_pass,
        lloq, uloq, n_levels_excluded, accepted, reason, df_resid, residual_se, converged,
        weights, pom_theta`` (``n_levels_excluded``: levels left out of the refit,
        ``refit_failing``; the ``standards`` table marks them in ``excluded``).
    """

    params: pd.DataFrame
    standards: pd.DataFrame
    wells: pd.DataFrame
    samples: pd.DataFrame
    plates: pd.DataFrame
    model: str
    weights: str | None
    theta: dict[Any, np.ndarray] = field(default_factory=dict, repr=False)
    vcov: dict[Any, np.ndarray] = field(default_factory=dict, repr=False)
    free: tuple[str, ...] = ()

    def predict(self, plate: Any, x: Any) -> np.ndarray:
        """Blank-corrected signal of the fitted curve of ``plate`` at concentrations ``x``."""
        from nplab.doseresponse import evaluate

        return evaluate("LL", np.asarray(x, dtype=float), self.theta[plate])

    def plot(self, path: Any, plate: Any = None) -> Any:
        """Draw the standard curve(s); see :func:`nplab.elisa.plot.plot_curve`."""
        from nplab.elisa.plot import plot_curve

        return plot_curve(self, path, plate=plate)


def _err(msg: str, table: pd.DataFrame, idx: Any = None, column: str | None = None,
         expected: str | None = None) -> InputError:
    row = None
    if idx is not None:
        pos = table.index.get_loc(idx) if idx in table.index else None
        row = row_number(int(pos)) if isinstance(pos, int | np.integer) else None
    return InputError(msg, file=table.attrs.get("source"), row=row, column=column, expected=expected)


def prepare_table(table: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise a tidy ELISA table (see :func:`quantify`)."""
    if not isinstance(table, pd.DataFrame):
        raise InputError("an ELISA table must be a DataFrame", expected="a table")
    src = table.attrs.get("source")
    df = table.copy().reset_index(drop=True)
    df.attrs["source"] = src
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("well", "kind", "signal") if c not in df.columns]
    if missing:
        raise InputError(
            "missing column(s) " + ", ".join(missing), file=src, column=missing[0],
            expected="columns well, kind, sample, nominal, dilution, signal[, plate]",
        )
    for col, default in (("sample", ""), ("nominal", np.nan), ("dilution", 1.0), ("plate", "1"),
                         ("anchor", False)):
        if col not in df.columns:
            df[col] = default
    kind = df["kind"].astype(str).str.strip().str.lower()
    kind = kind.replace({"std": "standard", "standards": "standard", "blk": "blank",
                         "unknown": "sample", "samples": "sample"})
    bad = ~kind.isin(KINDS)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _err(f"unknown well kind {df['kind'].iloc[i]!r}", df, i, "kind",
                   "one of " + ", ".join(KINDS))
    df["kind"] = kind
    for col in ("signal", "nominal", "dilution"):
        num = pd.to_numeric(df[col], errors="coerce")
        text_bad = num.isna() & df[col].notna() & (df[col].astype(str).str.strip() != "")
        if text_bad.any():
            i = int(np.flatnonzero(text_bad)[0])
            raise _err(f"{df[col].iloc[i]!r} is not a number", df, i, col, "a number")
        df[col] = num.astype(float)
    if df["signal"].isna().any():
        i = int(np.flatnonzero(df["signal"].isna())[0])
        raise _err("missing signal", df, i, "signal", "a number for every well")
    df["dilution"] = df["dilution"].fillna(1.0)
    if (df["dilution"] <= 0).any():
        i = int(np.flatnonzero(df["dilution"] <= 0)[0])
        raise _err("dilution factor must be > 0", df, i, "dilution", "a number > 0 (1 = neat)")
    needs_nominal = df["kind"].isin(("standard", "qc"))
    badnom = needs_nominal & (df["nominal"].isna() | (df["nominal"] < 0))
    if badnom.any():
        i = int(np.flatnonzero(badnom)[0])
        raise _err(f"{df['kind'].iloc[i]} well without a nominal concentration", df, i, "nominal",
                   "a concentration >= 0 for every standard and QC well")
    df["anchor"] = df["anchor"].map(lambda v: str(v).strip().lower() in ("true", "1", "yes", "y"))
    df["plate"] = df["plate"].astype(str).str.strip()
    df["sample"] = df["sample"].fillna("").astype(str).str.strip()
    unnamed = df["kind"].isin(("sample", "qc")) & (df["sample"] == "")
    if unnamed.any():
        i = int(np.flatnonzero(unnamed)[0])
        raise _err("sample well without a sample name", df, i, "sample", "a sample name")
    return df


def _weights_key(weights: Any) -> tuple[str | None, float | None]:
    if weights is None or (isinstance(weights, str) and weights.strip().lower() in ("", "none")):
        return None, None
    if isinstance(weights, str):
        key = weights.strip().lower().replace(" ", "")
        if key in ("1/y^2", "1/y2", "1/y**2"):
            return "1/y^2", None
        if key == "pom":
            return "pom", None
    if isinstance(weights, dict) and set(weights) == {"pom"}:
        return "pom", float(weights["pom"])
    raise InputError(f"unknown weights {weights!r}", column="weights",
                     expected="None, '1/y^2', 'pom' or {'pom': theta}")


def _pom_theta(std: pd.DataFrame) -> float:
    """Power of the mean from replicate standards: slope of log SD on log mean."""
    g = std.groupby(["plate", "nominal"])["signal"].agg(["mean", "std", "count"])
    g = g[(g["count"] >= 2) & (g["std"] > 0) & (g["mean"] > 0)]
    if len(g) < 3:
        raise InputError(
            "power-of-the-mean weights need replicate standards at >= 3 levels",
            column="weights", expected="duplicate standard wells, or weights={'pom': theta}",
        )
    slope = np.polyfit(np.log(g["mean"]), np.log(g["std"]), 1)[0]
    return float(slope)


def _padded(std: pd.DataFrame, plates: list[str]) -> tuple[np.ndarray, ...]:
    pos = std["plate"].map({p: k for k, p in enumerate(plates)}).to_numpy()
    order = np.argsort(pos, kind="stable")
    pos = pos[order]
    counts = np.bincount(pos, minlength=len(plates))
    n = int(counts.max())
    col = np.arange(pos.size) - np.repeat(np.cumsum(counts) - counts, counts)
    out = []
    for name in ("nominal", "corrected", "signal"):
        arr = np.full((len(plates), n), np.nan)
        arr[pos, col] = std[name].to_numpy()[order]
        out.append(arr)
    return tuple(out)


def _fit_plates(
    std: pd.DataFrame, plates: list[str], mdl: Any, wkey: str | None, theta_pom: float | None,
    blank_mean: pd.Series, src: Any,
) -> dict[str, Any]:
    """Fit one standard curve per plate (batched), with the requested weights."""
    fitted = fit_many(std, x="nominal", y="corrected", curve="plate", model=mdl, se="jtj",
                      variance="per_curve")
    pars = fitted.curve_parameters().set_index("curve").reindex(plates)
    theta = pars[list(PARAMETERS)].to_numpy(dtype=float)
    conv = fitted.curve_stats.set_index("curve")["success"].reindex(plates).to_numpy(dtype=bool).copy()
    free = np.array([PARAMETERS.index(n) for n in mdl.parameters])
    xs, ys, raw = _padded(std, plates)
    if wkey is None:
        w = np.where(np.isfinite(ys), 1.0, np.nan)
    elif wkey == "1/y^2":
        if np.nanmin(raw) <= 0:
            raise InputError("1/y^2 weights need positive raw signals", file=src, column="signal",
                             expected="signals > 0")
        w = 1.0 / raw**2
    if wkey is not None and wkey == "pom":
        theta_pom = _pom_theta(std) if theta_pom is None else theta_pom
        bl = blank_mean.to_numpy()[:, None]
        for _ in range(20):
            mu = evaluate_ll(xs, theta) + bl
            w = np.where(np.isfinite(ys), np.maximum(mu, 1e-6 * np.nanmax(np.abs(raw))) ** (-2 * theta_pom),
                         np.nan)
            new, ok = refine_weighted(xs, ys, w, theta, free)
            step = np.nanmax(np.abs(new - theta) / np.maximum(np.abs(theta), 1e-12))
            theta = new
            if not np.isfinite(step) or step < 1e-8:
                break
        conv &= ok
    elif wkey is not None:
        theta, ok = refine_weighted(xs, ys, w, theta, free)
        conv &= ok
    cov, s2, dfres = covariance_many(xs, ys, w, theta, free)
    conv &= np.all(np.isfinite(cov), axis=(1, 2))
    return {"theta": theta, "cov": cov, "s2": s2, "dfres": dfres, "conv": conv, "free": free,
            "theta_pom": theta_pom}


def _backfit(
    std: pd.DataFrame, plates: list[str], fit: dict[str, Any], tolerance_pct: float,
    tolerance_edge_pct: float, min_pass_pct: float, min_levels: int, excluded: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Back-calculate standard levels and wells on the fitted curves; ICH M10 acceptance.

    ``excluded`` (plate, nominal) levels were left out of the fit: they count as failing.
    """
    pidx = {p: k for k, p in enumerate(plates)}
    lev = (std.groupby(["plate", "nominal"], sort=False)
           .agg(anchor=("anchor", "any"), n_wells=("signal", "size"), mean_signal=("signal", "mean"),
                corrected=("corrected", "mean"))
           .reset_index())
    lev = lev.sort_values(["plate", "nominal"], key=lambda s: s.map(pidx) if s.name == "plate" else s)
    k_lev = lev["plate"].map(pidx).to_numpy()
    xb, _, _ = inverse(lev["corrected"].to_numpy(), fit["theta"][k_lev], fit["free"])
    lev["back_calculated"] = xb
    lev = lev.reset_index(drop=True)
    wells = std[["plate", "well", "nominal", "signal", "corrected"]].copy()
    k_w = wells["plate"].map(pidx).to_numpy()
    xw, _, _ = inverse(wells["corrected"].to_numpy(), fit["theta"][k_w], fit["free"])
    wells["back_calculated"] = xw
    with np.errstate(all="ignore"):
        wells["recovery_pct"] = 100.0 * xw / wells["nominal"].to_numpy()

    lev["excluded"] = (pd.MultiIndex.from_frame(lev[["plate", "nominal"]]).isin(excluded)
                       if excluded is not None else False)
    lev, judged = acceptance(lev, tolerance_pct=tolerance_pct, tolerance_edge_pct=tolerance_edge_pct,
                             min_pass_pct=min_pass_pct, min_levels=min_levels)
    return lev, wells, judged


def quantify(
    table: pd.DataFrame,
    model: str = "4PL",
    weights: str | dict[str, float] | None = None,
    *,
    anchors: Sequence[float] = (),
    tolerance_pct: float = 20.0,
    tolerance_edge_pct: float = 25.0,
    min_pass_pct: float = 75.0,
    min_levels: int = 6,
    cv_limit_pct: float = 20.0,
    min_replicates: int = 2,
    level: float = 0.95,
    refit_failing: bool = False,
) -> ElisaResult:
    """Quantify ELISA plates from a standard curve (one curve per plate).

    Parameters
    ----------
    table
        Tidy table, one row per well: ``well, kind`` (``standard``, ``blank``,
        ``sample``, ``qc``), ``sample`` (name of samples/QCs), ``nominal`` (standards
        and QCs, in the concentration unit of the report), ``dilution`` (factor, default
        1), ``signal`` (OD or other raw signal) and optional ``plate`` and ``anchor``
        (True for anchor standards, used for fitting only).
    model
        ``"4PL"`` / ``"LL.4"`` or ``"5PL"`` / ``"LL.5"`` (:mod:`nplab.doseresponse`).
    weights
        ``None`` (ordinary least squares); ``"1/y^2"``: each standard well weighted by
        1 / its observed raw signal squared (constant CV); ``"pom"``: power-of-the-mean
        variance Var(y) = s^2 mu^(2 theta), theta estimated as the slope of log SD on log
        mean over replicate standards, weights 1 / mu^(2 theta) with mu the fitted raw
        signal, iterated to convergence (IRLS); ``{"pom": theta}`` fixes theta.
    anchors
        Nominal concentrations of anchor standards (besides an ``anchor`` column);
        the zero standard (nominal 0) is always an anchor.
    tolerance_pct, tolerance_edge_pct, min_pass_pct, min_levels
        ICH M10 ligand-binding acceptance: a standard level passes when its
        back-calculated concentration is within ±20 % of nominal (±25 % at the lowest
        and highest non-anchor level); a plate is accepted when >= 75 % of the
        non-anchor levels and >= 6 levels pass.
    cv_limit_pct
        Replicate CV above this is flagged (``cv_flag``).
    min_replicates
        Fewer wells for a sample is an error (1 allows single wells: their interval
        then carries only the curve's uncertainty and ``cv_pct`` is NaN).
    level
        Confidence level of the concentration intervals.
    refit_failing
        Exclude failing standard levels and refit (ICH M10 4.2.3 allows excluding
        calibration standards that fail, without changing the curve model): the failing
        non-anchor level farthest from its nominal (all its wells) is left out and the
        curve refitted, one level at a time, while failing levels remain and the plate
        could still meet the 75 % / 6-level rule afterwards (a single bad standard drags
        the first fit, so neighbours that fail only because of it pass again). Excluded
        levels keep their back-calculated value on the final curve but are marked
        ``excluded`` and count as failing in the 75 % rule; LLOQ/ULOQ are the
        lowest/highest passing levels of the final curve.

    Returns
    -------
    ElisaResult
        See :class:`ElisaResult`.

    Notes
    -----
    Blank wells are averaged per plate and subtracted from every well. Standards are
    fitted on the blank-corrected signal (the zero standard included, as a point at
    concentration 0). Each standard level's mean corrected signal is back-calculated (as
    drc's ``backfit``), giving % recovery; LLOQ and ULOQ are the lowest and highest
    passing non-anchor levels. Unknowns: the mean corrected signal of the replicate
    wells is back-calculated, x = f^-1(ybar), then multiplied by the dilution factor.
    The delta-method variance is ``g' V g + (dx/dy)^2 s_rep^2 / n`` (V: the curve's
    parameter covariance, s_rep: SD of the replicate wells); the interval is
    ``x exp(±t se/x)`` (log scale, t on the curve's residual df). A mean signal at or
    beyond an asymptote is ``outside_curve``; a concentration below LLOQ or above ULOQ
    is ``below_lloq`` / ``above_uloq``; in all three cases ``concentration`` is NaN
    (never extrapolated) while ``well_concentration`` keeps the back-calculated value
    where it exists. The CV is that of the raw signals of the replicate wells.

    Blank-mean uncertainty: standards and unknowns are corrected by the same plate blank
    mean B, and the curve's lower and upper asymptotes are free, so an error δ in B
    shifts every corrected standard by -δ, the fitted asymptotes by -δ and the unknown's
    corrected mean by -δ: x = f^-1(ybar) is unchanged. Its delta-method contribution,
    (∂x/∂B)^2 s_B^2 / n_B with ∂x/∂B = ∂x/∂θ ∂θ/∂B - ∂x/∂y = 0, is therefore exactly
    zero and no term is added (tested: moving the blank wells moves no concentration).

    References
    ----------
    ICH M10 Bioanalytical method validation (2022), sect. 4.2.3 (calibration curve of
    ligand-binding assays). Findlay JWA, Dillard RF (2007) AAPS J 9:E260-E267
    (appropriate calibration curve fitting in ligand binding assays). Ritz C et al. (2015)
    PLoS ONE 10:e0146021 (drc ``backfit``, ``ED(type="absolute")``).
    """
    name = {"4PL": "LL.4", "5PL": "LL.5"}.get(str(model).strip().upper(), model)
    mdl = get_model(name)
    if mdl.name not in ("LL.4", "LL.5"):
        raise InputError(f"model {model!r} is not a standard-curve model", column="model",
                         expected="'4PL' (LL.4) or '5PL' (LL.5)")
    wkey, theta_pom = _weights_key(weights)
    df = prepare_table(table)
    df.loc[df["kind"].eq("standard") & (df["nominal"].isin(list(anchors)) | df["nominal"].eq(0)),
           "anchor"] = True
    plates = list(dict.fromkeys(df["plate"]))
    src = df.attrs.get("source")

    # ------------------------------------------------------------ blanks and checks
    blanks = df[df["kind"] == "blank"].groupby("plate")["signal"].agg(["mean", "count"])
    blank_mean = blanks["mean"].reindex(plates).fillna(0.0)
    df["corrected"] = df["signal"] - df["plate"].map(blank_mean).to_numpy()
    std = df[df["kind"] == "standard"]
    for p in plates:
        s = std[std["plate"] == p]
        if s.empty:
            raise InputError(f"plate {p}: no standard wells", file=src, column="kind",
                             expected="standard wells with nominal concentrations on every plate")
        real = s[~s["anchor"]]
        levels = np.unique(real["nominal"])
        if levels.size < min_levels:
            raise InputError(
                f"plate {p}: {levels.size} non-anchor standard level(s)", file=src, column="nominal",
                expected=f"at least {min_levels} concentration levels (ICH M10)",
            )
        if p in blanks.index:
            lowest = real[real["nominal"] == levels[0]]["signal"].mean()
            if blank_mean[p] >= lowest:
                raise InputError(
                    f"plate {p}: blank mean {blank_mean[p]:.4g} is not below the lowest "
                    f"standard ({levels[0]:g}: mean {lowest:.4g})", file=src, column="signal",
                    expected="blank wells with less signal than every standard",
                )
    unk = df[df["kind"].isin(("sample", "qc"))]
    counts = unk.groupby(["plate", "kind", "sample", "dilution"], sort=False)["signal"].transform("size")
    few = counts < min_replicates
    if few.any():
        i = few.index[np.flatnonzero(few.to_numpy())[0]]
        raise _err(f"sample {df.loc[i, 'sample']!r} has {int(counts[i])} well(s)", df, i, "sample",
                   f"at least {min_replicates} replicate wells per sample "
                   "(min_replicates=1 allows single wells)")

    # ------------------------------------------------------------ fit all plates
    fit = _fit_plates(std, plates, mdl, wkey, theta_pom, blank_mean, src)
    lev, wells, judged = _backfit(std, plates, fit, tolerance_pct, tolerance_edge_pct, min_pass_pct,
                                  min_levels)
    n_excluded = dict.fromkeys(plates, 0)
    excluded = pd.MultiIndex.from_tuples([], names=["plate", "nominal"])
    while refit_failing:
        real = lev[~lev["anchor"].astype(bool)]
        n_real = real.groupby("plate").size()
        fails = real[real["pass"].fillna(True).eq(False) & ~real["excluded"].astype(bool)]
        fails = fails.assign(dev=(fails["recovery_pct"] - 100).abs().fillna(np.inf))
        worst = fails.sort_values("dev", ascending=False).drop_duplicates("plate")
        conv_now = dict(zip(plates, fit["conv"], strict=True))
        worst = worst.loc[np.array([bool(conv_now[p]) for p in worst["plate"]], dtype=bool)]  # fit failed: keep
        # exclude only while the plate can still meet the level-count rules afterwards
        tot = np.array([n_real[p] for p in worst["plate"]], dtype=float)
        left = tot - np.array([n_excluded[p] for p in worst["plate"]], dtype=float) - 1
        worst = worst[(left >= min_levels) & (100.0 * left / tot >= min_pass_pct - 1e-9)]
        if worst.empty:
            break
        excluded = excluded.append(pd.MultiIndex.from_frame(worst[["plate", "nominal"]]))
        for p in worst["plate"]:
            n_excluded[p] += 1
        drop = pd.MultiIndex.from_frame(std[["plate", "nominal"]]).isin(excluded)
        fit = _fit_plates(std[~drop], plates, mdl, wkey, fit["theta_pom"], blank_mean, src)
        lev, wells, judged = _backfit(std, plates, fit, tolerance_pct, tolerance_edge_pct,
                                      min_pass_pct, min_levels, excluded=excluded)
    theta, cov, s2, dfres, conv, free = (fit[k] for k in ("theta", "cov", "s2", "dfres", "conv", "free"))
    theta_pom = fit["theta_pom"]
    names = [PARAMETERS[k] for k in free]
    params = pd.DataFrame({
        "plate": np.repeat(plates, free.size),
        "parameter": names * len(plates),
        "estimate": theta[:, free].reshape(-1),
        "se": np.sqrt(np.clip(np.einsum("kpp->kp", cov), 0, None)).reshape(-1),
    })

    judged = judged.set_index("plate").reindex(plates).reset_index()
    reason = judged["reason"].to_numpy(dtype=object)
    reason = np.where(conv, reason, np.where(reason == "", "standard curve did not converge",
                                             "standard curve did not converge; " + reason))
    plate_tab = pd.DataFrame({
        "plate": plates, "n_blanks": [int(blanks["count"].get(p, 0)) for p in plates],
        "blank_mean": blank_mean.to_numpy(),
    })
    for col in ("n_levels", "n_levels_pass", "pct_levels_pass", "lloq", "uloq"):
        plate_tab[col] = judged[col].to_numpy()
    plate_tab["n_levels_excluded"] = [int(n_excluded[p]) for p in plates]
    plate_tab["accepted"] = judged["accepted"].to_numpy(dtype=bool) & conv
    plate_tab["reason"] = reason
    plate_tab["df_resid"] = dfres.astype(int)
    plate_tab["residual_se"] = np.sqrt(s2)
    plate_tab["converged"] = conv
    plate_tab["weights"] = wkey or "none"
    plate_tab["pom_theta"] = theta_pom if wkey == "pom" else np.nan

    # ------------------------------------------------------------ unknowns
    samples = _samples(unk, plates, theta, cov, dfres, free, plate_tab, cv_limit_pct, level,
                       tolerance_pct, tolerance_edge_pct)
    return ElisaResult(
        params=params, standards=lev, wells=wells.reset_index(drop=True), samples=samples,
        plates=plate_tab, model=mdl.name, weights=wkey,
        theta={p: theta[k] for k, p in enumerate(plates)},
        vcov={p: cov[k] for k, p in enumerate(plates)}, free=tuple(names),
    )


def acceptance(
    levels: pd.DataFrame,
    *,
    tolerance_pct: float = 20.0,
    tolerance_edge_pct: float = 25.0,
    min_pass_pct: float = 75.0,
    min_levels: int = 6,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ICH M10 ligand-binding acceptance of back-calculated standard levels.

    Parameters
    ----------
    levels
        ``plate, nominal, anchor, back_calculated`` (one row per standard level).
    tolerance_pct, tolerance_edge_pct
        A non-anchor level passes when ``|back_calculated / nominal - 1| * 100`` is at
        most ``tolerance_pct`` (20), or ``tolerance_edge_pct`` (25) at the lowest and
        highest non-anchor level of its plate (the intended LLOQ and ULOQ). A level
        whose signal could not be back-calculated (outside the curve) fails.
    min_pass_pct, min_levels
        A plate is accepted when at least ``min_pass_pct`` % (75) of its non-anchor
        levels and at least ``min_levels`` (6) levels pass. Anchor points (and the
        zero standard) are not judged.

    Returns
    -------
    levels, plates
        ``levels`` with ``recovery_pct``, ``tolerance_pct``, ``pass`` (NA for anchors;
        False for levels with ``excluded`` True);
        ``plates``: ``plate, n_levels, n_levels_pass, pct_levels_pass, lloq, uloq,
        accepted, reason`` with LLOQ/ULOQ the lowest/highest passing level.

    References
    ----------
    ICH M10 (2022) Bioanalytical method validation and study sample analysis, sect. 4.2.3.
    """
    lev = levels.copy()
    anchor = lev["anchor"].astype(bool).to_numpy()
    nominal = lev["nominal"].to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        rec = np.where(nominal > 0, 100.0 * lev["back_calculated"].to_numpy(dtype=float) / nominal, np.nan)
    lev["recovery_pct"] = rec
    real = ~anchor
    nom_real = pd.Series(np.where(real, nominal, np.nan), index=lev.index)
    lo = nom_real.groupby(lev["plate"]).transform("min").to_numpy()
    hi = nom_real.groupby(lev["plate"]).transform("max").to_numpy()
    edge = (nominal == lo) | (nominal == hi)
    tol = np.where(real, np.where(edge, tolerance_edge_pct, tolerance_pct), np.nan)
    lev["tolerance_pct"] = tol
    ok = np.abs(rec - 100.0) <= tol + 1e-9  # NaN recovery (outside the curve) fails
    if "excluded" in lev.columns:  # left out of the fit (refit_failing): counts as failing
        ok = ok & ~lev["excluded"].astype(bool).to_numpy()
    lev["pass"] = pd.array(np.where(real, ok, pd.NA), dtype="boolean")
    rows = []
    for plate, lp in lev[real].groupby("plate", sort=False):
        passing = lp[lp["pass"].astype(bool)]
        n_lev, n_pass = len(lp), len(passing)
        pct = 100.0 * n_pass / n_lev if n_lev else 0.0
        reasons = []
        if pct < min_pass_pct - 1e-9:
            reasons.append(f"{pct:.0f}% of standard levels pass (< {min_pass_pct:g}%)")
        if n_pass < min_levels:
            reasons.append(f"{n_pass} passing levels (< {min_levels})")
        rows.append({
            "plate": plate, "n_levels": n_lev, "n_levels_pass": n_pass, "pct_levels_pass": pct,
            "lloq": float(passing["nominal"].min()) if n_pass else np.nan,
            "uloq": float(passing["nominal"].max()) if n_pass else np.nan,
            "accepted": not reasons, "reason": "; ".join(reasons),
        })
    return lev, pd.DataFrame(rows, columns=["plate", "n_levels", "n_levels_pass", "pct_levels_pass",
                                            "lloq", "uloq", "accepted", "reason"])


def evaluate_ll(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Log-logistic curve values for padded (N, n) doses and (N, 5) parameters."""
    from nplab.doseresponse import evaluate

    return evaluate("LL", np.where(np.isfinite(x), x, 1.0), theta[:, None, :])


def _samples(
    unk: pd.DataFrame, plates: list[str], theta: np.ndarray, cov: np.ndarray, dfres: np.ndarray,
    free: np.ndarray, plate_tab: pd.DataFrame, cv_limit: float, level: float,
    tol: float, tol_edge: float,
) -> pd.DataFrame:
    cols = ["plate", "kind", "sample", "dilution", "n_wells", "mean_signal", "corrected", "sd_signal",
            "cv_pct", "cv_flag", "well_concentration", "concentration", "se", "ci_low", "ci_high",
            "status", "lloq", "uloq", "plate_accepted", "nominal", "recovery_pct", "qc_pass"]
    if unk.empty:
        return pd.DataFrame(columns=cols)
    g = (unk.groupby(["plate", "kind", "sample", "dilution"], sort=False)
         .agg(n_wells=("signal", "size"), mean_signal=("signal", "mean"), corrected=("corrected", "mean"),
              sd_signal=("signal", "std"), nominal=("nominal", "first"))
         .reset_index())
    pidx = {p: k for k, p in enumerate(plates)}
    k = g["plate"].map(pidx).to_numpy()
    with np.errstate(all="ignore"):
        g["cv_pct"] = 100.0 * g["sd_signal"] / g["mean_signal"]
    g["cv_flag"] = g["cv_pct"] > cv_limit
    ybar = g["corrected"].to_numpy()
    x, grad, dxdy = inverse(ybar, theta[k], free)
    var_rep = np.where(g["n_wells"] > 1, g["sd_signal"].fillna(0.0) ** 2 / g["n_wells"], 0.0)
    with np.errstate(all="ignore"):
        var = np.einsum("ip,ipq,iq->i", grad, cov[k], grad) + dxdy**2 * var_rep
        se = np.sqrt(var)
        q = t_ppf(0.5 + level / 2, np.where(dfres[k] > 0, dfres[k], np.nan))
        half = q * se / x
    pt = plate_tab.set_index("plate")
    lloq = g["plate"].map(pt["lloq"]).to_numpy()
    uloq = g["plate"].map(pt["uloq"]).to_numpy()
    status = np.where(~np.isfinite(x), "outside_curve",
                      np.where(x < lloq * (1 - 1e-12), "below_lloq",
                               np.where(x > uloq * (1 + 1e-12), "above_uloq", "ok")))
    status = np.where(np.isnan(lloq) & np.isfinite(x), "outside_curve", status)
    dil = g["dilution"].to_numpy()
    ok = status == "ok"
    g["well_concentration"] = x
    g["concentration"] = np.where(ok, x * dil, np.nan)
    g["se"] = np.where(ok, se * dil, np.nan)
    g["ci_low"] = np.where(ok, x * np.exp(-half) * dil, np.nan)
    g["ci_high"] = np.where(ok, x * np.exp(half) * dil, np.nan)
    g["status"] = status
    g["lloq"] = lloq * dil
    g["uloq"] = uloq * dil
    g["plate_accepted"] = g["plate"].map(pt["accepted"]).astype(bool)
    isqc = g["kind"].eq("qc").to_numpy()
    with np.errstate(all="ignore"):
        rec = 100.0 * g["concentration"] / g["nominal"]
    g["recovery_pct"] = np.where(isqc, rec, np.nan)
    at_edge = np.isclose(g["nominal"], g["lloq"]) | np.isclose(g["nominal"], g["uloq"])
    limit = np.where(at_edge, tol_edge, tol)
    g["qc_pass"] = pd.array(np.where(isqc, np.abs(rec - 100) <= limit + 1e-9, pd.NA), dtype="boolean")
    g.loc[~isqc, "nominal"] = np.nan
    return g[cols]
