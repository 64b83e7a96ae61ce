"""Dose–response model functions (pure, vectorised, with analytic derivatives).

Every model is a member of one of three five-parameter families written in drc's
parameter order (b, c, d, e, f), here named ``hill, bottom, top, ic50, asym``:

* log-logistic (drc ``llogistic``, models ``LL.2``–``LL.5``)::

      f(x) = bottom + (top - bottom) / (1 + (x / ic50) ** hill) ** asym

* Weibull type 1 (drc ``weibull1``, ``W1.4``)::

      f(x) = bottom + (top - bottom) * exp(-exp(hill * (log x - log ic50)))

* Weibull type 2 (drc ``weibull2``, ``W2.4``)::

      f(x) = bottom + (top - bottom) * (1 - exp(-exp(hill * (log x - log ic50))))

``LL.4`` is drc's LL.4 with b = hill, c = bottom, d = top, e = ic50 (hill > 0: the
response falls with dose). ``LL.3`` fixes bottom = 0, ``LL.2`` fixes bottom = 0 and
top = 1 (drc's defaults), ``LL.5`` frees the asymmetry ``asym`` (drc's f). For the
Weibull models ``ic50`` is drc's e, the dose at which the exponent is 1 (not the ED50;
use :meth:`DoseResponseFit.ic` for the ED50) and ``asym`` is not used.

Zero doses are ordinary points: log 0 = -inf gives the limit of the model (``top``
for a falling log-logistic curve) and the derivatives take their limits (0).

References
----------
Ritz C, Baty F, Streibig JC, Gerhard D (2015) Dose-response analysis using R.
PLoS ONE 10(12): e0146021 (drc's ``llogistic``, ``weibull1``, ``weibull2``).
Seber GAF, Wild CJ (1989) Nonlinear Regression, Wiley, ch. 7 (growth/sigmoid models).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

__all__ = ["MODELS", "PARAMETERS", "Model", "ed_value", "evaluate", "get_model"]

#: Parameter names in drc order (b, c, d, e, f).
PARAMETERS: tuple[str, ...] = ("hill", "bottom", "top", "ic50", "asym")


@dataclass(frozen=True)
class Model:
    """A dose–response model: a family plus the parameters it fixes by definition.

    Attributes
    ----------
    name
        drc's name (``"LL.4"``).
    family
        ``"LL"``, ``"W1"`` or ``"W2"``.
    defaults
        Values of the parameters the model fixes (e.g. ``{"bottom": 0.0}`` for LL.3).
    description
        One line for reports.
    """

    name: str
    family: str
    defaults: dict[str, float] = field(default_factory=dict)
    description: str = ""

    @property
    def parameters(self) -> tuple[str, ...]:
        """Parameters the model estimates (before any user ``fixed``), in drc order."""
        used = PARAMETERS if self.family == "LL" else PARAMETERS[:4]
        return tuple(p for p in used if p not in self.defaults)

    @property
    def all_defaults(self) -> dict[str, float]:
        """Fixed values including the unused ``asym = 1`` of four-parameter families."""
        out = dict(self.defaults)
        out.setdefault("asym", 1.0) if self.family != "LL" else None
        return out


MODELS: dict[str, Model] = {
    "LL.2": Model("LL.2", "LL", {"bottom": 0.0, "top": 1.0, "asym": 1.0},
                  "log-logistic, bottom = 0 and top = 1 fixed"),
    "LL.3": Model("LL.3", "LL", {"bottom": 0.0, "asym": 1.0}, "log-logistic, bottom = 0 fixed"),
    "LL.4": Model("LL.4", "LL", {"asym": 1.0}, "four-parameter log-logistic"),
    "LL.5": Model("LL.5", "LL", {}, "five-parameter (asymmetric) log-logistic"),
    "W1.4": Model("W1.4", "W1", {}, "four-parameter Weibull type 1"),
    "W2.4": Model("W2.4", "W2", {}, "four-parameter Weibull type 2"),
}


def get_model(name: str | Model) -> Model:
    """Look up a model by drc name (``"LL.4"``; ``"LL4"`` and lower case accepted)."""
    if isinstance(name, Model):
        return name
    key = str(name).strip().upper()
    if "." not in key and len(key) >= 3:
        key = key[:-1] + "." + key[-1]
    if key not in MODELS:
        from nplab.errors import InputError

        raise InputError(
            f"unknown dose-response model {name!r}", column="model",
            expected="one of " + ", ".join(MODELS),
        )
    return MODELS[key]


def _z(x: np.ndarray, b: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z = b (log x - log e) and log(x / e), with x = 0 mapped to the limit z = -b*inf."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logr = np.log(x) - np.log(e)
        z = b * logr
        zero = x <= 0
        if np.any(zero):
            lim = np.where(b >= 0, -np.inf, np.inf)
            z = np.where(zero, lim, z)
    return z, logr


def evaluate(
    family: str, x: np.ndarray, theta: np.ndarray, *, jacobian: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Model values (and derivatives) for a family, vectorised over curves.

    Parameters
    ----------
    family
        ``"LL"``, ``"W1"`` or ``"W2"``.
    x
        Doses, any shape ``S`` (>= 0).
    theta
        Parameters ``(..., 5)`` in the order of :data:`PARAMETERS`, broadcastable
        against ``x`` after dropping the last axis (e.g. ``x`` (N, n), theta (N, 1, 5)).
    jacobian
        Also return the derivatives with respect to the five parameters, shape
        ``S + (5,)``.

    Returns
    -------
    values or (values, jac)
    """
    x = np.asarray(x, dtype=float)
    theta = np.asarray(theta, dtype=float)
    b, c, d, e, f = (theta[..., k] for k in range(5))
    z, logr = _z(x, b, e)
    amp = d - c
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if family == "LL":
            u = np.logaddexp(0.0, z)  # log(1 + exp z)
            s = np.exp(-f * u)
            y = c + amp * s
            if not jacobian:
                return y
            dz = -amp * f * s * expit(z)  # d y / d z
            ds_df = -amp * s * u
        elif family == "W1":
            w = np.exp(z)
            s = np.exp(-w)
            y = c + amp * s
            if not jacobian:
                return y
            dz = -amp * np.exp(z - w)
            ds_df = np.zeros_like(y)
        elif family == "W2":
            w = np.exp(z)
            s = -np.expm1(-w)
            y = c + amp * s
            if not jacobian:
                return y
            dz = amp * np.exp(z - w)
            ds_df = np.zeros_like(y)
        else:  # pragma: no cover - guarded by get_model
            raise ValueError(family)
        jb = dz * logr
        je = -dz * b / e
    pos = x > 0
    jb = np.where(pos & np.isfinite(jb), jb, 0.0)
    je = np.where(np.isfinite(je), je, 0.0)
    ds_df = np.where(np.isfinite(ds_df), ds_df, 0.0)
    jac = np.stack(np.broadcast_arrays(jb, 1.0 - s, s, je, ds_df), axis=-1)
    return y, jac


def ed_value(
    family: str,
    theta: np.ndarray,
    p: float | np.ndarray,
    *,
    reference: str = "control",
    type: str = "relative",
) -> np.ndarray:
    """Effective dose ED_p, defined as in drc's ``ED`` (vectorised over ``theta``).

    ``type="relative"`` (default): ``p`` is a percentage of the span between the two
    asymptotes. With ``reference="control"`` it is counted from the control level (the
    model's limit at dose 0): ED_p is the dose at which the response has moved p % of
    the way from the control level to the other asymptote, for falling and rising curves
    alike (drc swaps p for 100 - p when b < 0 to the same effect). ``reference="upper"``
    counts from ``top`` whatever the direction. ``type="absolute"``: ``p`` is a response
    value, ED is the dose at which the curve takes that value (NaN if never reached).

    With s the model's shape term (``f = bottom + (top - bottom) * s``), the target
    s* is inverted in closed form: LL: z = log(s*^(-1/asym) - 1); W1: z = log(-log s*);
    W2: z = log(-log(1 - s*)); ED = ic50 * exp(z / hill). For LL this is drc's
    ``e * ((100 / (100 - p)) ** (1 / f) - 1) ** (1 / b)``.
    """
    theta = np.asarray(theta, dtype=float)
    b, c, d, e, f = (theta[..., k] for k in range(5))
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if type == "absolute":
            s = (p - c) / (d - c)
        elif reference == "upper":
            s = 1.0 - p / 100.0
        else:
            control_is_top = (b < 0) if family == "W2" else (b >= 0)
            s = np.where(control_is_top, 1.0 - p / 100.0, p / 100.0)
        s = np.where((s > 0) & (s < 1), s, np.nan)
        if family == "LL":
            z = np.log(s ** (-1.0 / f) - 1.0)
        elif family == "W1":
            z = np.log(-np.log(s))
        elif family == "W2":
            z = np.log(-np.log1p(-s))
        else:  # pragma: no cover
            raise ValueError(family)
        return e * np.exp(z / b)
