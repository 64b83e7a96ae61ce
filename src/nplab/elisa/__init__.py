"""ELISA standard curves and back-calculated concentrations (``nplab.elisa``).

:func:`quantify` fits one 4PL/5PL standard curve per plate with
:mod:`nplab.doseresponse` (optionally weighted), back-calculates unknowns with a
delta-method interval, and judges each plate by the ICH M10 ligand-binding criteria.
:func:`read_plate` / :func:`read_layout` turn plate-shaped reader exports and layout
grids into the tidy table :func:`quantify` takes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nplab.protocols import Param

_SCHEMA = {
    "model": Param("str", "4PL", choices=("4PL", "5PL"), doc="standard-curve model (LL.4 / LL.5)"),
    "weights": Param("str", "none", choices=("none", "1/y^2", "pom"),
                     doc="weighting: none, 1/y^2 (observed raw signal) or power of the mean"),
    "pom_theta": Param("float", None, min=0.0, max=2.0,
                       doc="fixed power-of-the-mean exponent (empty: estimated from replicates)"),
    "tolerance_pct": Param("float", 20.0, unit="%", min=0.0, max=100.0,
                           doc="back-calculated standards within ±this % of nominal"),
    "tolerance_edge_pct": Param("float", 25.0, unit="%", min=0.0, max=100.0,
                                doc="tolerance at the lowest and highest non-anchor level"),
    "min_pass_pct": Param("float", 75.0, unit="%", min=0.0, max=100.0,
                          doc="share of non-anchor standard levels that must pass"),
    "min_levels": Param("int", 6, min=2, doc="passing standard levels needed"),
    "refit_failing": Param("bool", False, doc="exclude standard levels failing acceptance and refit once "
                                              "(ICH M10 4.2.3)"),
    "anchors": Param("list", [], item="float", doc="nominal concentrations of anchor points"),
    "cv_limit_pct": Param("float", 20.0, unit="%", min=0.0, doc="replicate CV flag limit"),
    "min_replicates": Param("int", 2, min=1, doc="replicate wells required per sample"),
    "ci_level": Param("float", 0.95, min=0.5, max=0.999, doc="confidence level"),
    "unit": Param("str", "pg/mL", doc="concentration unit of the standards"),
    "analytes": Param("list", [], item="str", doc="analytes the kit measures (documentation)"),
}

#: Protocol schema of kind ``elisa``.
PROTOCOL_SCHEMAS = {"elisa": _SCHEMA}

from nplab.elisa.plates import read_layout, read_plate, read_plate_files  # noqa: E402
from nplab.elisa.plot import plot_curve  # noqa: E402
from nplab.elisa.quantify import KINDS, ElisaResult, acceptance, prepare_table, quantify  # noqa: E402


def quantify_with_protocol(table: pd.DataFrame, protocol: Any) -> ElisaResult:
    """:func:`quantify` with the parameters of an ``elisa`` protocol (name, path or object)."""
    from nplab.protocols import Protocol, load_protocol

    proto = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    p = proto.params
    weights = p["weights"] if p["weights"] != "none" else None
    if weights == "pom" and p.get("pom_theta") is not None:
        weights = {"pom": p["pom_theta"]}
    return quantify(
        table, model=p["model"], weights=weights, anchors=p["anchors"],
        tolerance_pct=p["tolerance_pct"], tolerance_edge_pct=p["tolerance_edge_pct"],
        min_pass_pct=p["min_pass_pct"], min_levels=p["min_levels"], cv_limit_pct=p["cv_limit_pct"],
        min_replicates=p["min_replicates"], level=p["ci_level"], refit_failing=p["refit_failing"],
    )


__all__ = [
    "KINDS",
    "PROTOCOL_SCHEMAS",
    "ElisaResult",
    "acceptance",
    "plot_curve",
    "prepare_table",
    "quantify",
    "quantify_with_protocol",
    "read_layout",
    "read_plate",
    "read_plate_files",
]
