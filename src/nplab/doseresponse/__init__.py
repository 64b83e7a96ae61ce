"""Dose–response fitting with drc-grade inference (``nplab.doseresponse``).

``fit`` fits log-logistic (LL.2–LL.5) and Weibull (W1.4, W2.4) models by least squares
to one or several curves, optionally sharing or fixing parameters, and returns a
:class:`DoseResponseFit` with drc's standard errors, ED/IC values with delta, log and
profile intervals, relative potencies (delta and Fieller), and nested-model tests.

Reference: Ritz C, Baty F, Streibig JC, Gerhard D (2015) Dose-response analysis using
R. PLoS ONE 10(12): e0146021.
"""

from nplab.doseresponse.fitting import DoseResponseFit, fit, fit_many
from nplab.doseresponse.inference import compare, curve_flags, effective_doses, relative_potency
from nplab.doseresponse.models import MODELS, PARAMETERS, Model, ed_value, evaluate, get_model
from nplab.doseresponse.plot import plot_fit
from nplab.doseresponse.start import guess, guess_many

__all__ = [
    "MODELS",
    "PARAMETERS",
    "DoseResponseFit",
    "Model",
    "compare",
    "curve_flags",
    "ed_value",
    "effective_doses",
    "evaluate",
    "fit",
    "fit_many",
    "get_model",
    "guess",
    "guess_many",
    "plot_fit",
    "relative_potency",
]
