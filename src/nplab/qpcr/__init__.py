"""RT-qPCR relative expression (``nplab.qpcr``).

:func:`relative_expression` (ΔCt, ΔΔCt, fold change; with efficiencies the Pfaffl /
Hellemans NRQ), :func:`efficiency` (dilution series), :func:`genorm` and
:func:`normfinder` (reference-gene stability), :func:`read_cq` (tidy, Bio-Rad CFX and
QuantStudio exports) and :func:`group_statistics` (Dunnett on ΔCt, animal = unit).
"""

from __future__ import annotations

from nplab.protocols import Param

_SCHEMA = {
    "reference_genes": Param("list", ["Gapdh", "Actb"], item="str", doc="reference genes"),
    "control_group": Param("str", "vehicle", doc="group that ΔΔCt is taken against"),
    "max_cq": Param("float", 35.0, min=10.0, max=50.0, doc="Cq above this = not detected"),
    "replicate_sd_limit": Param("float", 0.3, unit="cycles", min=0.0, doc="replicate SD flag"),
    "efficiency_low_pct": Param("float", 90.0, unit="%", doc="efficiency acceptance, low"),
    "efficiency_high_pct": Param("float", 110.0, unit="%", doc="efficiency acceptance, high"),
    "targets": Param("list", [], item="str", doc="targets of interest (documentation)"),
}

#: Protocol schema of kind ``qpcr``.
PROTOCOL_SCHEMAS = {"qpcr": _SCHEMA}

from nplab.qpcr.expression import average_replicates, efficiency, relative_expression  # noqa: E402
from nplab.qpcr.readers import FORMATS, read_cq  # noqa: E402
from nplab.qpcr.stability import GenormResult, genorm, normfinder  # noqa: E402
from nplab.qpcr.stats import group_statistics  # noqa: E402

__all__ = [
    "FORMATS",
    "PROTOCOL_SCHEMAS",
    "GenormResult",
    "average_replicates",
    "efficiency",
    "genorm",
    "group_statistics",
    "normfinder",
    "read_cq",
    "relative_expression",
]
