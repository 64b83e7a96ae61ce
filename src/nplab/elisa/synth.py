"""Simulated ELISA plates with known truth (tests, benchmarks, sample data).

Signals follow a rising five-parameter log-logistic curve plus a blank offset, with
multiplicative (constant-CV) Gaussian noise, so the true concentration of every
sample is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["STANDARDS", "signal_of", "simulate_plate"]

#: A typical 2-fold standard series (pg/mL), zero standard first.
STANDARDS: tuple[float, ...] = (0.0, 7.8125, 15.625, 31.25, 62.5, 125.0, 250.0, 500.0, 1000.0)


def signal_of(conc: np.ndarray | float, curve: Sequence[float]) -> np.ndarray:
    """Blank-free signal of the log-logistic ``curve`` = (hill, bottom, top, ic50, asym)."""
    b, c, d, e, f = curve
    x = np.asarray(conc, dtype=float)
    with np.errstate(divide="ignore"):
        return c + (d - c) / (1.0 + (x / e) ** b) ** f


def simulate_plate(
    samples: Mapping[str, float],
    *,
    plate: str = "1",
    curve: Sequence[float] = (-1.2, 0.0, 3.0, 150.0, 1.0),
    standards: Sequence[float] = STANDARDS,
    blank: float = 0.05,
    cv: float = 0.04,
    replicates: int = 2,
    dilution: float = 1.0,
    rows: int = 8,
    cols: int = 12,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """One plate as the tidy table of :func:`nplab.elisa.quantify`.

    Parameters
    ----------
    samples
        ``{sample: true concentration in the sample}`` (before dilution).
    curve
        True (hill, bottom, top, ic50, asym) of the blank-corrected signal.
    standards, blank, cv, replicates, dilution
        Standard series, blank level, CV of the multiplicative noise, wells per
        standard / sample / blank, dilution factor of the samples.
    rows, cols
        Plate shape (8 x 12 or 16 x 24); samples fill the remaining wells.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    wells = iter([f"{chr(65 + r)}{c + 1}" for r in range(rows) for c in range(cols)])
    out = []

    def add(kind: str, sample: str, nominal: float, dil: float, true_well: float | None) -> None:
        for _ in range(replicates):
            mu = blank + (signal_of(true_well, curve) if true_well is not None else 0.0)
            try:
                well = next(wells)
            except StopIteration:
                raise ValueError("more wells than the plate holds") from None
            out.append((plate, well, kind, sample, nominal, dil, float(mu * (1 + cv * rng.standard_normal()))))

    for s in standards:
        add("standard", "", s, 1.0, s)
    add("blank", "", np.nan, 1.0, None)
    for name, conc in samples.items():
        add("sample", name, np.nan, dilution, conc / dilution)
    return pd.DataFrame(out, columns=["plate", "well", "kind", "sample", "nominal", "dilution", "signal"])
