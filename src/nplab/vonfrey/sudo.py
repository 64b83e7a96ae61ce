"""Simplified up-down method, SUDO (Bonin, Bories & De Koninck 2014, Mol Pain 10:26).

A fixed 5 stimuli from the middle filament of a numbered series, stepping down after a
withdrawal (X) and up after none (O).  The threshold in filament units is the number
of the 5th filament applied -0.5 if it was withdrawn from (X), +0.5 if not (O).  It is
converted to grams with the kit's log-linear fit, grams = 10^(slope * F + intercept),
``slope`` and ``intercept`` the least-squares line of log10(force in g) on filament
number (1 = weakest) over the whole kit (nominal or calibrated forces, as the kit
gives them).  Both values are reported (``threshold_filament`` and ``threshold_g``).
Estimates below filament 1 or above the last filament (e.g. 0.5 or 9.5 on a 9-filament
kit) are extrapolations of the fit and are flagged ``below_range`` / ``above_range``.
"""

from __future__ import annotations

import numpy as np

from nplab.vonfrey.kits import Kit
from nplab.vonfrey.updown import _empty, _path

__all__ = ["evaluate_sudo", "sudo_fit"]


def sudo_fit(kit: Kit) -> tuple[float, float]:
    """``(slope, intercept)`` of log10(grams) on filament number 1..n (least squares)."""
    number = np.arange(1, len(kit) + 1, dtype=float)
    slope, intercept = np.polyfit(number, np.log10(np.asarray(kit.grams, dtype=float)), 1)
    return float(slope), float(intercept)


def evaluate_sudo(pattern: str, start: int, kit: Kit, params: dict) -> dict:
    """SUDO threshold of one validated X/O ``pattern`` starting at kit index ``start``.

    Returns the result columns plus ``threshold_filament``; ``status`` is ``ok``,
    ``incomplete`` (fewer stimuli than ``n_stimuli``), ``overrun`` (more; the
    ``n_stimuli``-th is used), ``below_range``/``above_range`` (extrapolated beyond
    the kit) or ``invalid`` (the path leaves the kit).
    """
    n = params["n_stimuli"]
    idx = _path(pattern, start)
    outside = np.flatnonzero((idx < 0) | (idx >= len(kit)))
    if outside.size:
        res = _empty(
            pattern, "invalid", f"the up-down path leaves the kit at stimulus {outside[0] + 1}"
        )
        return {**res, "threshold_filament": float("nan")}
    if len(pattern) < n:
        res = _empty(pattern, "incomplete", f"{len(pattern)} stimuli; SUDO uses the {n}th")
        return {**res, "threshold_filament": float("nan")}
    last = idx[n - 1]
    value = (last + 1) + (-0.5 if pattern[n - 1] == "X" else 0.5)
    slope, intercept = params["_fit"]
    log_g = slope * value + intercept
    status, message = "ok", ""
    if len(pattern) > n:
        status, message = "overrun", f"{len(pattern)} stimuli; the {n}th was used"
    if value < 1 or value > len(kit):
        status = "below_range" if value < 1 else "above_range"
        message = f"filament {value:g} lies beyond the kit: grams extrapolated by the fit"
    return {
        "threshold_filament": float(value),
        "threshold_g": 10**log_g,
        "log10_threshold": log_g,
        "ci_low_g": float("nan"),
        "ci_high_g": float("nan"),
        "k": float("nan"),
        "delta": float("nan"),
        "xf": float(np.log10(kit.grams[last] * 1e4)),
        "n_stimuli": len(pattern),
        "pattern": pattern,
        "method": "sudo",
        "status": status,
        "message": message,
    }
