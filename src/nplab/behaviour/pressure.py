"""Paw pressure: Randall-Selitto and electronic von Frey withdrawal force in grams.

Randall-Selitto (1957): increasing pressure applied to the paw by a blunt cone until
withdrawal or vocalisation, with a force cut-off (250 g in rats is usual) to avoid
tissue damage.  Electronic von Frey (Möller et al. 1998; Martinov et al. 2013): a
rigid tip on a force transducer pressed against the plantar surface until withdrawal;
the peak force is read.  Both give a force per trial; the per animal x paw x timepoint
value is the mean (or median) of the readings after the protocol's outlier rule
(``median_deviation`` or ``drop_extremes``).  Readings at the cut-off are right-censored:
counted (``n_at_cutoff``), flagged ``at_cutoff`` and kept at the cut-off value.

Input columns: ``animal``, ``paw``, ``timepoint``, ``trial``, ``force_g`` (> 0);
optional ``valid``, ``note``, ``group``.

References
----------
Randall LO, Selitto JJ (1957) A method for measurement of analgesic activity on
inflamed tissue. Arch Int Pharmacodyn Ther 111:409-419.
Möller KA, Johansson B, Berge OG (1998) Assessing mechanical allodynia in the rat paw
with a new electronic algometer. J Neurosci Methods 84:41-47.
Martinov T, Mack M, Sykes A, Chatterjea D (2013) Measuring changes in tactile
sensitivity in the hind paw of mice using an electronic von Frey apparatus. J Vis Exp
82:e51212.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nplab.behaviour.engine import Measure, TableLike, read_value_trials, summarise_values
from nplab.behaviour.latency import ProtocolLike
from nplab.checks import raise_first_bad
from nplab.protocols import load_protocol

__all__ = ["FORCE", "electronic_vonfrey", "randall_selitto"]

FORCE = Measure("force_g", "g", 0.0, None)


def _pressure(trials, protocol, animals, kind: str, overrides: dict) -> pd.DataFrame:
    proto = load_protocol(protocol, kind=kind, **overrides)
    data = read_value_trials(trials, proto, FORCE, animals, kind=kind)
    cutoff = proto["cutoff"]
    force = data["force_g"].to_numpy(dtype=float)
    raise_first_bad(
        force == 0,
        "a withdrawal force of 0 g is not a reading",
        file=data.attrs["source"],
        column="force_g",
        expected="force_g > 0",
    )
    if cutoff is not None:
        raise_first_bad(
            force > cutoff,
            lambda i: f"force {force[i]:g} g is above the cut-off of {cutoff:g} g",
            file=data.attrs["source"],
            column="force_g",
            expected=f"force_g <= cutoff = {cutoff:g}",
        )
    return summarise_values(data, FORCE)


def randall_selitto(
    trials: TableLike,
    protocol: ProtocolLike = "randall-selitto",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Randall-Selitto withdrawal force per animal x paw x timepoint.

    Returns
    -------
    pandas.DataFrame
        Id columns, ``paw``, ``timepoint``, ``n_trials``, ``n_valid`` (after outliers),
        ``n_outliers``, ``n_at_cutoff``, ``mean_force_g``, ``median_force_g``,
        ``sd_force_g``, ``force_g`` (averaging rule), ``status``, ``message``,
        ``protocol``.
    """
    return _pressure(trials, protocol, animals, "randall-selitto", overrides)


def electronic_vonfrey(
    trials: TableLike,
    protocol: ProtocolLike = "electronic-vonfrey",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Electronic von Frey withdrawal force per animal x paw x timepoint (as
    :func:`randall_selitto`)."""
    return _pressure(trials, protocol, animals, "electronic-vonfrey", overrides)
