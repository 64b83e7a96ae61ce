"""Up-down 50 % withdrawal thresholds (Chaplan et al. 1994) with every convention explicit.

threshold_g = 10^(Xf + k * delta) / 10^4  (Chaplan et al. 1994, J Neurosci Methods
53:55-63), ``Xf`` the log value of the final filament applied (handle number, or
log10(grams x 10^4)), ``k`` Dixon's constant for the whole X/O series computed by
maximum likelihood (:func:`nplab.vonfrey.dixon.dixon_k`), ``delta`` the step in log
units: a fixed number (Chaplan's 0.224), the kit's mean log step, the mean step over
the filaments actually used ("flexible"), or ``exact``: the likelihood evaluated on
the actual log filament values with sigma = the flexible delta (Christensen et al.
2020, Eur J Pain 24:783; as the R package up.down.ld50 by M. A. Storm).

Confidence interval: likelihood-ratio (profile) interval of the 50 % point with sigma
fixed at delta (:func:`nplab.vonfrey.dixon.ml_interval`), mapped to grams.

Series that never change response have no estimate; the protocol's ``boundary``
policy decides what is reported when such a run reached the end of the kit:
``chaplan`` (fixed values, 0.25 g below / 15 g above for the rat kit), ``end_filament``
(the force of the last filament tested, a bound, not an estimate) or ``censored``
(no number).  Their ``status`` is ``below_range`` / ``above_range``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nplab.errors import InputError
from nplab.protocols import Protocol
from nplab.vonfrey.dixon import dixon_interval, in_dixon_table, ml_interval
from nplab.vonfrey.kits import Kit

__all__ = [
    "CONVENTION_COLUMNS",
    "RESULT_COLUMNS",
    "conventions",
    "evaluate_series",
    "raise_first",
    "resolve_kit_params",
    "updown_results",
]

#: Result columns, in order, after the id columns.
RESULT_COLUMNS = [
    "threshold_g",
    "log10_threshold",
    "ci_low_g",
    "ci_high_g",
    "k",
    "delta",
    "xf",
    "n_stimuli",
    "pattern",
    "method",
    "status",
    "message",
]
#: Conventions recorded in every output row.
CONVENTION_COLUMNS = [
    "protocol",
    "kit",
    "filament_unit",
    "xf_source",
    "delta_mode",
    "k_source",
    "boundary",
    "stopping_rule",
    "ci_method",
    "start_filament",
]

_NAN = float("nan")


def _path(pattern: str, start: int) -> np.ndarray:
    moves = np.fromiter((-1 if c == "X" else 1 for c in pattern[:-1]), dtype=np.int64)
    return start + np.concatenate([[0], np.cumsum(moves)])


def _empty(pattern: str, status: str, message: str, method: str = "none") -> dict:
    return {
        "threshold_g": _NAN,
        "log10_threshold": _NAN,
        "ci_low_g": _NAN,
        "ci_high_g": _NAN,
        "k": _NAN,
        "delta": _NAN,
        "xf": _NAN,
        "n_stimuli": len(pattern),
        "pattern": pattern,
        "method": method,
        "status": status,
        "message": message,
    }


def evaluate_series(pattern: str, start: int, kit: Kit, params: dict) -> dict:
    """Threshold of one validated X/O ``pattern`` starting at kit index ``start``.

    Returns a dict with the :data:`RESULT_COLUMNS`; ``status`` is ``ok``,
    ``incomplete`` (stopped before the stopping rule), ``overrun`` (ran past it),
    ``below_range`` / ``above_range`` (never crossed, reached the end of the kit) or
    ``invalid`` (the path leaves the kit).
    """
    logs = params["_logs"]
    n_kit = len(kit)
    idx = _path(pattern, start)
    out_lo, out_hi = np.flatnonzero(idx < 0), np.flatnonzero(idx >= n_kit)
    if out_lo.size or out_hi.size:
        i = min([*out_lo[:1], *out_hi[:1]])
        side = "below the weakest" if idx[i] < 0 else "above the strongest"
        return _empty(
            pattern,
            "invalid",
            f"the up-down path leaves the kit at stimulus {i + 1} ({side} filament)",
        )
    xf = float(logs[idx[-1]])
    r = np.fromiter((c == "X" for c in pattern), dtype=bool)
    if r.all() or not r.any():
        at_end = idx[-1] == (0 if r.all() else n_kit - 1)
        if not at_end:
            res = _empty(pattern, "incomplete", "no change of response and end of kit not reached")
            res["xf"] = xf
            return res
        below = bool(r.all())
        status = "below_range" if below else "above_range"
        policy = params["boundary"]
        if policy == "chaplan":
            value = params["below_value_g"] if below else params["above_value_g"]
            note = f"assigned Chaplan's fixed {'floor' if below else 'ceiling'} {value:g} g"
        elif policy == "end_filament":
            value = float(kit.grams[idx[-1]])
            note = f"threshold {'<=' if below else '>='} end filament ({value:.6g} g); a bound"
        else:
            value = _NAN
            note = "censored: threshold beyond the kit"
        res = _empty(pattern, status, note, method="boundary")
        res.update(threshold_g=value, log10_threshold=np.log10(value), xf=xf)
        return res
    status, message = "ok", ""
    if params["stopping_rule"] == "chaplan":
        first_change = int(np.argmax(r != r[0]))
        tail = len(pattern) - first_change
        need = params["stimuli_after_crossover"] + 1
        if tail != need:
            status = "incomplete" if tail < need else "overrun"
            message = (
                f"{tail - 1} stimuli after the first change of response, "
                f"the stopping rule asks for {need - 1}; k by maximum likelihood"
            )
    used = logs[idx.min() : idx.max() + 1]
    flexible = float(np.mean(np.diff(used)))
    mode = params["delta_mode"]
    level = params["ci_level"]
    if mode == "exact":
        sigma = flexible
        mu, low, high = ml_interval(logs[idx], r, sigma, level)
        k = (mu - xf) / sigma
        delta = sigma
        method = "exact-ml"
    else:
        delta = {"fixed": params["delta"], "kit_mean": params["_kit_mean"]}.get(mode, flexible)
        k, klo, khi = dixon_interval(pattern, level)
        method = "dixon-ml-k"
        if params.get("k_source", "ml") == "table" and in_dixon_table(pattern):
            k, method = round(k, 3), "dixon-table-k"
        mu, low, high = xf + k * delta, xf + klo * delta, xf + khi * delta
    if status == "ok" and not logs[0] <= mu <= logs[-1]:
        side = "below the weakest" if mu < logs[0] else "above the strongest"
        message = f"estimate lies {side} filament of the kit (extrapolated)"
    return {
        "threshold_g": 10 ** mu / 1e4,
        "log10_threshold": mu - 4.0,
        "ci_low_g": 10 ** low / 1e4,
        "ci_high_g": 10 ** high / 1e4,
        "k": float(k),
        "delta": float(delta),
        "xf": xf,
        "n_stimuli": len(pattern),
        "pattern": pattern,
        "method": method,
        "status": status,
        "message": message,
    }


def resolve_kit_params(kit: Kit, params: dict, *, file: str | None = None) -> dict:
    """Protocol parameters plus the kit's log scale (``_logs``) and mean step.

    ``file``: the protocol's path, named in errors.
    """
    logs = kit.log_values(params["xf_source"], file=file)
    return {**params, "_logs": logs, "_kit_mean": float(np.mean(np.diff(logs)))}


def updown_results(
    patterns: np.ndarray,
    start: np.ndarray,
    invalid: np.ndarray,
    kit: Kit,
    params: dict,
    evaluate=evaluate_series,
    columns: list[str] = RESULT_COLUMNS,
) -> pd.DataFrame:
    """Evaluate every test, once per distinct (pattern, start) pair; invalid ones flagged.

    ``invalid`` holds a message per test ("" if the input was valid).
    """
    n = len(patterns)
    bad = invalid != ""
    pat_codes, _ = pd.factorize(np.where(bad, "", patterns).astype(object), sort=False)
    span = np.int64(len(kit) + 2)
    codes, uniques = pd.factorize(pat_codes.astype(np.int64) * span + (start + 1), sort=False)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    records = []
    for i in first:
        if invalid[i]:
            records.append(_empty(str(patterns[i] or ""), "invalid", ""))
        else:
            records.append(evaluate(str(patterns[i]), int(start[i]), kit, params))
    table = pd.DataFrame.from_records(records, columns=columns)
    out = table.iloc[codes].reset_index(drop=True)
    if bad.any():
        msg = out["message"].to_numpy(dtype=object).copy()
        msg[bad] = invalid[bad]
        out["message"] = msg
        pat = out["pattern"].to_numpy(dtype=object).copy()
        pat[bad] = ""
        out["pattern"] = pat
    out["n_stimuli"] = out["n_stimuli"].astype("int64")
    return out


def conventions(proto: Protocol, kit: Kit) -> dict[str, str]:
    """The convention columns' values for one protocol."""
    p = proto.params
    return {
        "protocol": proto.label,
        "kit": kit.name,
        "filament_unit": p["filament_unit"],
        "xf_source": p.get("xf_source", ""),
        "delta_mode": p.get("delta_mode", ""),
        "k_source": p.get("k_source", ""),
        "boundary": p.get("boundary", ""),
        "stopping_rule": p.get("stopping_rule", ""),
        "ci_method": (
            f"likelihood-ratio {p['ci_level']:g}, sigma fixed = delta" if "ci_level" in p else ""
        ),
    }


def raise_first(
    mask: np.ndarray,
    messages: np.ndarray,
    rows: np.ndarray,
    columns: np.ndarray,
    file: str | None,
    expected: np.ndarray,
) -> None:
    """Raise :class:`InputError` for the first test where ``mask`` is true (if any)."""
    bad = np.flatnonzero(mask)
    if bad.size:
        i = int(bad[0])
        raise InputError(
            str(messages[i]), file=file, row=int(rows[i]), column=str(columns[i]),
            expected=str(expected[i]) or None,
        )

