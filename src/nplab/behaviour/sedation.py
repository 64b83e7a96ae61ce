"""The sedation check: could a motor or sedative effect explain the analgesic effect?

Tricyclic antidepressants (amitriptyline) sedate; a drug that impairs motor function
raises withdrawal thresholds and latencies without analgesia.  The check compares each
drug dose with vehicle at the same post-dose time points, on the rotarod (latency to
fall) or in the open field (distance), and on the analgesia read-out, and states for
each dose and time whether a motor deficit coincides with the "analgesic" effect
(Mogil 2009; PPRECISE, Andrews et al. 2016).

Per dose x time: the group means, the % change of motor performance from vehicle, and a
Welch two-sample t test for each measure (animals as the experimental units).  A motor
deficit is a reduction of at least ``min_deficit_pct`` that is significant at ``alpha``;
an analgesic effect is a significant difference in the analgesic direction.  Rotarod
latencies of animals that stayed on until the cut-off enter at the cut-off (the mean is
then conservative: it understates the vehicle's performance and so the deficit).

References
----------
Mogil JS (2009) Animal models of pain: progress and challenges. Nat Rev Neurosci
10:283-294.
Andrews NA et al. (2016) Ensuring transparency and minimization of methodologic bias in
preclinical pain research: PPRECISE considerations. Pain 157:901-909.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nplab.errors import InputError

__all__ = ["SEDATION_COLUMNS", "sedation_check"]

SEDATION_COLUMNS = (
    "group",
    "timepoint",
    "n_vehicle",
    "n_dose",
    "motor_vehicle",
    "motor_dose",
    "motor_change_pct",
    "motor_p",
    "motor_deficit",
    "analgesia_vehicle",
    "analgesia_dose",
    "analgesia_difference",
    "analgesia_p",
    "analgesic_effect",
    "confounded",
    "verdict",
)


def _welch(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or b.size < 2:
        return np.nan
    if np.var(a, ddof=1) == 0 and np.var(b, ddof=1) == 0:
        return 0.0 if a.mean() != b.mean() else 1.0
    return welch_p(a, b)


def welch_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p of Welch's unequal-variance t test of the means of ``a`` and ``b``.

    Welch (1947), Biometrika 34:28; the same arithmetic as ``scipy.stats.ttest_ind(a, b,
    equal_var=False)`` (variance about the mean times n/(n-1), Welch-Satterthwaite df,
    ``2 * stdtr(df, -|t|)``), so the same bits, without importing ``scipy.stats`` (~0.4 s
    of a run).  Samples of fewer than two values give NaN.
    """
    from scipy.special import stdtr

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        return float("nan")
    m1, m2 = a.mean(), b.mean()
    vn1 = np.mean((a - m1) ** 2) * (n1 / (n1 - 1)) / n1
    vn2 = np.mean((b - m2) ** 2) * (n2 / (n2 - 1)) / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (vn1 + vn2) ** 2 / (vn1**2 / (n1 - 1) + vn2**2 / (n2 - 1))
        t = np.divide(m1 - m2, np.sqrt(vn1 + vn2))
    df = 1.0 if np.isnan(df) else df
    return float(2 * stdtr(df, -np.abs(t)))


def _per_animal(df: pd.DataFrame, value: str, what: str) -> pd.DataFrame:
    for col in ("animal", "group", "timepoint", value):
        if col not in df.columns:
            raise InputError(
                f"the {what} table has no {col!r} column",
                column=col,
                expected="a summary with animal, group, timepoint and the value",
            )
    d = df[["animal", "group", "timepoint", value]].copy()
    d[value] = pd.to_numeric(d[value], errors="coerce")
    d["timepoint"] = d["timepoint"].astype(str)
    # one value per animal x timepoint (per-paw tables: the ipsilateral paw)
    if "paw" in df.columns and (df["paw"] == "ipsi").any():
        d = d[(df["paw"] == "ipsi").to_numpy()]
    return d.groupby(["animal", "group", "timepoint"], sort=False, as_index=False)[value].mean()


def sedation_check(
    motor: pd.DataFrame,
    analgesia: pd.DataFrame,
    *,
    vehicle: str,
    motor_value: str = "latency_s",
    analgesia_value: str = "latency_s",
    analgesia_higher: bool = True,
    timepoints: list | None = None,
    groups: list | None = None,
    alpha: float = 0.05,
    min_deficit_pct: float = 20.0,
) -> tuple[pd.DataFrame, str]:
    """Compare each dose with vehicle on motor function and on analgesia.

    Parameters
    ----------
    motor
        Rotarod (or open-field) summary: ``animal``, ``group``, ``timepoint`` and
        ``motor_value`` (``latency_s`` of :func:`nplab.behaviour.rotarod`, or an
        open-field distance column).  Higher = better motor function.
    analgesia
        Analgesia summary with the same ids (e.g. von Frey ``threshold_g``, hot-plate
        ``latency_s``, acetone ``acetone_value``); per-paw tables use the ipsi paw.
    vehicle
        Vehicle group label.
    analgesia_higher
        Whether analgesia raises the value (thresholds, latencies: True) or lowers it
        (acetone scores, lifts: False).
    timepoints
        Time points to compare (default: every one present in both tables except those
        where vehicle is missing).
    groups
        Dose groups to compare with vehicle (default: every other group; a study passes
        its drug groups, leaving out e.g. sham + vehicle).
    alpha, min_deficit_pct
        Significance level and the smallest reduction (%) of motor performance that
        counts as a deficit.

    Returns
    -------
    (pandas.DataFrame, str)
        One row per dose group x time point with :data:`SEDATION_COLUMNS` and a
        sentence for the report that names every confounded dose and time with the
        numbers (or states that none was found).
    """
    m = _per_animal(motor, motor_value, "motor")
    a = _per_animal(analgesia, analgesia_value, "analgesia")
    if vehicle not in set(m["group"]):
        raise InputError(
            f"vehicle group {vehicle!r} is not in the motor table",
            column="group",
            expected=f"one of {', '.join(map(str, pd.unique(m['group'])))}",
        )
    common = [t for t in pd.unique(m["timepoint"]) if t in set(a["timepoint"])]
    if timepoints is not None:
        wanted = {str(t) for t in timepoints}
        common = [t for t in common if t in wanted]
    rows = []
    doses = [g for g in pd.unique(m["group"]) if g != vehicle]
    if groups is not None:
        doses = [g for g in doses if g in set(groups)]
    for group in doses:
        for tp in common:
            mv = m[(m["group"] == vehicle) & (m["timepoint"] == tp)][motor_value].dropna()
            md = m[(m["group"] == group) & (m["timepoint"] == tp)][motor_value].dropna()
            av = a[(a["group"] == vehicle) & (a["timepoint"] == tp)][analgesia_value].dropna()
            ad = a[(a["group"] == group) & (a["timepoint"] == tp)][analgesia_value].dropna()
            if mv.empty or md.empty:
                continue
            mv_, md_ = float(mv.mean()), float(md.mean())
            change = 100.0 * (md_ - mv_) / mv_ if mv_ else np.nan
            mp = _welch(md.to_numpy(float), mv.to_numpy(float))
            deficit = bool(mp < alpha and change <= -min_deficit_pct)
            av_ = float(av.mean()) if len(av) else np.nan
            ad_ = float(ad.mean()) if len(ad) else np.nan
            diff = ad_ - av_
            ap = _welch(ad.to_numpy(float), av.to_numpy(float))
            effect = bool(ap < alpha and (diff > 0 if analgesia_higher else diff < 0))
            confounded = deficit and effect
            if confounded:
                verdict = "motor deficit coincides with the analgesic effect: confounded"
            elif deficit:
                verdict = "motor deficit without an analgesic effect"
            elif effect:
                verdict = "analgesic effect without a motor deficit"
            else:
                verdict = "neither"
            rows.append(
                dict(
                    zip(
                        SEDATION_COLUMNS,
                        (
                            group,
                            tp,
                            len(mv),
                            len(md),
                            mv_,
                            md_,
                            change,
                            mp,
                            deficit,
                            av_,
                            ad_,
                            diff,
                            ap,
                            effect,
                            confounded,
                            verdict,
                        ),
                        strict=True,
                    )
                )
            )
    out = pd.DataFrame(rows, columns=list(SEDATION_COLUMNS))
    return out, _sentence(out, vehicle, motor_value, alpha, min_deficit_pct)


_WORDS = {"latency_s": "latency to fall", "distance_m": "distance travelled",
          "distance_cm": "distance travelled"}


def _sentence(out: pd.DataFrame, vehicle: str, motor_value: str, alpha: float, pct: float) -> str:
    head = (
        f"Sedation check: each dose was compared with {vehicle} at the same time points on "
        f"motor performance ({_WORDS.get(motor_value, motor_value.replace('_', ' '))}; deficit = reduction >= {pct:g} % with Welch "
        f"p < {alpha:g}) and on the analgesia read-out."
    )
    if out.empty:
        return head + " No time point had both motor and analgesia data."
    bad = out[out["confounded"]]
    if bad.empty:
        deficits = out[out["motor_deficit"]]
        tail = " No motor deficit coincided with an analgesic effect"
        if not deficits.empty:
            tail += (
                " (motor deficits without analgesia: "
                + "; ".join(
                    f"{r.group} at {r.timepoint} ({r.motor_change_pct:+.0f} %, p = {r.motor_p:.2g})"
                    for r in deficits.itertuples()
                )
                + ")"
            )
        return head + tail + "."
    items = "; ".join(
        f"{r.group} at {r.timepoint}: motor {r.motor_dose:.3g} vs {r.motor_vehicle:.3g} "
        f"({r.motor_change_pct:+.0f} %, p = {r.motor_p:.2g}), analgesia "
        f"{r.analgesia_dose:.3g} vs {r.analgesia_vehicle:.3g} (p = {r.analgesia_p:.2g})"
        for r in bad.itertuples()
    )
    return head + f" A motor/sedative effect could explain the apparent analgesia of {items}."
