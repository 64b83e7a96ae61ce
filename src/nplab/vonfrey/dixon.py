"""Dixon's k by maximum likelihood, and likelihood-ratio confidence intervals.

Dixon (1965, 1980) tabulated, for every short up-and-down series, the constant ``k`` in
the estimate of the 50 % point ``mu_hat = x_f + k * d`` (``x_f`` the last level tested,
``d`` the step).  His values are maximum-likelihood estimates of the mean of a normal
tolerance distribution whose standard deviation equals the step, using *every* trial
(the initial run of like responses included).  This module computes ``k`` that way for
any series, so series longer than the printed table, or not stopped exactly as the
table assumes, still get a principled value; the printed table (248 series, nominal
N 2-6) is reproduced to its 3 decimals (``tests/vonfrey/test_dixon.py``).

Model: stimulus levels on a unit grid (after a response ``X`` the next level is one
step lower, after a non-response ``O`` one step higher); P(response at level x) =
Phi((x - mu) / sigma) with sigma = 1 step; the log-likelihood is concave in ``mu``, so
the estimate is the unique root of the score, found by Brent's method to 1e-12.

The confidence interval of ``mu`` is the likelihood-ratio (profile) interval with
sigma held fixed at the step: all ``mu`` with 2 [l(mu_hat) - l(mu)] <= chi2_1(level)
(e.g. 3.841 for 95 %).  Because sigma is fixed, the profile is the likelihood of
``mu`` itself.

References
----------
Dixon WJ (1965) The up-and-down method for small samples. J Am Stat Assoc 60:967-978.
Dixon WJ (1980) Efficient analysis of experimental observations. Annu Rev Pharmacol
Toxicol 20:441-462 (Table 7).
Brownlee KA, Hodges JL, Rosenblatt M (1953) The up-and-down method with small samples.
J Am Stat Assoc 48:262-277.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, special

from nplab._dist import chi2_ppf
from nplab.errors import InputError

__all__ = [
    "dixon_interval",
    "dixon_k",
    "dixon_table",
    "grid_levels",
    "in_dixon_table",
    "ml_interval",
    "ml_mean",
    "normalise_series",
]

_XTOL = 1e-12
_MIRROR = str.maketrans("XO", "OX")


def normalise_series(series: str) -> str:
    """Upper-case, strip white space and check that ``series`` is made of X and O only.

    Raises
    ------
    InputError
        If the series is empty or has another character.
    """
    s = "".join(str(series).split()).upper()
    if not s or set(s) - {"X", "O"}:
        raise InputError(
            f"{series!r} is not an up-down series", column="responses", expected="only X and O"
        )
    return s


def grid_levels(series: str) -> np.ndarray:
    """Levels (in steps) of each stimulus of ``series``, the first at 0.

    After ``X`` the next stimulus is one step lower; after ``O`` one step higher.
    """
    s = normalise_series(series)
    moves = np.array([-1 if c == "X" else 1 for c in s[:-1]], dtype=float)
    return np.concatenate([[0.0], np.cumsum(moves)])


def _responses(series: str) -> np.ndarray:
    return np.array([c == "X" for c in series], dtype=bool)


def _loglik(mu: float, x: np.ndarray, r: np.ndarray, sigma: float) -> float:
    z = (x - mu) / sigma
    return float(np.sum(np.where(r, special.log_ndtr(z), special.log_ndtr(-z))))


def _score(mu: float, x: np.ndarray, r: np.ndarray, sigma: float) -> float:
    # d/dmu of the log-likelihood; lambda(t) = phi(t) / Phi(t), computed in log space
    z = (x - mu) / sigma
    lam_pos = np.exp(-0.5 * z * z - 0.5 * np.log(2 * np.pi) - special.log_ndtr(z))
    lam_neg = np.exp(-0.5 * z * z - 0.5 * np.log(2 * np.pi) - special.log_ndtr(-z))
    return float(np.sum(np.where(r, -lam_pos, lam_neg)) / sigma)


def _check_crossing(r: np.ndarray) -> None:
    if r.all() or not r.any():
        raise InputError(
            "the series never changes response, so the maximum-likelihood estimate does not "
            "exist (it lies beyond the levels tested)",
            column="responses",
            expected="at least one X and one O",
        )


def ml_mean(levels: np.ndarray, responses: np.ndarray, sigma: float) -> float:
    """Maximum-likelihood mean of a normal tolerance distribution with known ``sigma``.

    Parameters
    ----------
    levels
        Stimulus levels (any scale, e.g. log10 force).
    responses
        True where the animal responded (X).
    sigma
        Standard deviation of the tolerance distribution, in the units of ``levels``.

    Returns
    -------
    float
        ``mu_hat``, the root of the score equation (Brent, xtol 1e-12).
    """
    x = np.asarray(levels, dtype=float)
    r = np.asarray(responses, dtype=bool)
    _check_crossing(r)
    lo, hi = x.min() - 20 * sigma, x.max() + 20 * sigma
    return float(optimize.brentq(_score, lo, hi, args=(x, r, sigma), xtol=_XTOL * sigma))


def ml_interval(
    levels: np.ndarray, responses: np.ndarray, sigma: float, level: float = 0.95
) -> tuple[float, float, float]:
    """``(mu_hat, low, high)``: ML mean and its likelihood-ratio confidence interval.

    The interval holds every ``mu`` with 2 [l(mu_hat) - l(mu)] <= chi2_1 quantile at
    ``level``, ``sigma`` fixed (so this is the profile-likelihood interval on ``mu``).
    """
    x = np.asarray(levels, dtype=float)
    r = np.asarray(responses, dtype=bool)
    mu = ml_mean(x, r, sigma)
    target = _loglik(mu, x, r, sigma) - 0.5 * float(chi2_ppf(level, 1))

    def f(m: float) -> float:
        return _loglik(m, x, r, sigma) - target

    span = (x.max() - x.min() + 1.0) * sigma
    lo_b, hi_b = mu - span, mu + span
    while f(lo_b) > 0:
        lo_b -= span
    while f(hi_b) > 0:
        hi_b += span
    low = optimize.brentq(f, lo_b, mu, xtol=_XTOL * sigma)
    high = optimize.brentq(f, mu, hi_b, xtol=_XTOL * sigma)
    return mu, float(low), float(high)


@lru_cache(maxsize=65536)
def _grid_fit(series: str, level: float) -> tuple[float, float, float]:
    if series[0] == "X":  # Dixon's mirror rule, exactly: k(mirror) = -k
        k, low, high = _grid_fit(series.translate(_MIRROR), level)
        return -k, -high, -low
    x = grid_levels(series)
    mu, low, high = ml_interval(x, _responses(series), 1.0, level)
    last = float(x[-1])
    return mu - last, low - last, high - last


def dixon_k(series: str) -> float:
    """Dixon's ``k`` for an up-down series of X (response) and O (no response).

    ``k = mu_hat - x_last`` on a unit grid, ``mu_hat`` the maximum-likelihood mean of a
    normal tolerance distribution with sigma = 1 step, using every trial of the
    series from the first stimulus (Dixon 1965; 1980, Table 7).  The 50 % threshold
    in log units is then ``x_f + k * delta``.  k(mirror) = -k.  Results are cached per
    series.

    Parameters
    ----------
    series
        E.g. ``"OOOXOXOX"``; case-insensitive, white space ignored.

    Raises
    ------
    InputError
        For characters other than X/O, or a series without a change of response.

    Examples
    --------
    >>> round(dixon_k("OOOXOXOX"), 3)
    -0.453
    """
    return _grid_fit(normalise_series(series), 0.95)[0]


def dixon_interval(series: str, level: float = 0.95) -> tuple[float, float, float]:
    """``(k, k_low, k_high)``: k and its likelihood-ratio CI, in steps from the last level."""
    return _grid_fit(normalise_series(series), float(level))


def in_dixon_table(series: str) -> bool:
    """Whether Dixon's printed table covers ``series``.

    The table lists series with an initial run of 1-4 like responses followed by 1-5
    stimuli starting with the first change (nominal N 2-6).
    """
    s = normalise_series(series)
    run = len(s) - len(s.lstrip(s[0]))
    return 1 <= run <= 4 and 1 <= len(s) - run <= 5


def dixon_table() -> pd.DataFrame:
    """Dixon's table recomputed: the 248 series of nominal N 2-6, X-first and O-first.

    Columns: ``series`` (first run of 1-4 like responses, then 1-5 more stimuli
    starting with the first change), ``first_run``, ``n_nominal`` (1 + length of the
    second part), ``k`` (unrounded ML value).  Rows ordered O-first then X-first, by first
    run length, then second-part length, then the second part (O before X).
    """
    rows = []
    for first in "OX":
        other = "X" if first == "O" else "O"
        for run in range(1, 5):
            for tail_len in range(1, 6):
                for rest in itertools.product("OX", repeat=tail_len - 1):
                    s = first * run + other + "".join(rest)
                    rows.append((s, run, tail_len + 1, dixon_k(s)))
    return pd.DataFrame(rows, columns=["series", "first_run", "n_nominal", "k"])
