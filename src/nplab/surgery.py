"""Nerve-injury surgery protocols (CCI, SNL) and the surgery record a study keeps.

The surgery itself is documented in ``protocols/cci.md`` and ``protocols/snl.md``;
the parameter files carry the fixed facts of the model and the list of fields every
study must record per animal or per cohort (model, side, date, surgeon, ligature
material).  :func:`check_surgery_record` validates such a record.

References
----------
Bennett GJ, Xie YK (1988) A peripheral mononeuropathy in rat that produces disorders
of pain sensation like those seen in man. Pain 33:87-107 (CCI).
Kim SH, Chung JM (1992) An experimental model for peripheral neuropathy produced by
segmental spinal nerve ligation in the rat. Pain 50:355-363 (SNL).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from nplab.errors import InputError
from nplab.protocols import Param, Protocol

__all__ = ["PROTOCOL_SCHEMAS", "check_surgery_record"]

_SCHEMA = {
    "model": Param("str", required=True, choices=("CCI", "SNL", "sham"), doc="injury model"),
    "nerve": Param("str", required=True, doc="nerve or spinal nerves operated on"),
    "ligatures": Param("int", required=True, min=0, max=10, doc="number of ligatures"),
    "ligature_material": Param("str", required=True, doc="default ligature material"),
    "ligature_spacing_mm": Param(
        "float", default=None, min=0, unit="mm", doc="spacing between ligatures"
    ),
    "ligature_tightness": Param("str", default="", doc="how tight the ligatures are tied"),
    "anaesthesia": Param("str", default="", doc="anaesthetic used"),
    "allodynia_onset_days": Param(
        "list", item="int", default=(7, 14), min=0, doc="typical onset window of allodynia"
    ),
    "record_fields": Param(
        "list",
        item="str",
        default=("model", "side", "date", "surgeon", "ligature_material"),
        doc="fields a study must record for each surgery",
    ),
}

PROTOCOL_SCHEMAS = {"surgery": _SCHEMA}


def check_surgery_record(
    record: Mapping[str, Any], protocol: Protocol, *, file: str | None = None
) -> dict[str, Any]:
    """Check a study's surgery record against the protocol's required fields.

    ``side`` must be ``left`` or ``right``; ``date`` an ISO date (YYYY-MM-DD); ``model``
    must match the protocol's model.  Missing ``ligature_material`` takes the protocol's
    default.  Returns the completed record.
    """
    rec = dict(record)
    rec.setdefault("model", protocol["model"])
    rec.setdefault("ligature_material", protocol["ligature_material"])
    for key in protocol["record_fields"]:
        if rec.get(key) in (None, ""):
            raise InputError("surgery record field is missing", file=file, column=key)
    if str(rec.get("side", "")).lower() not in {"left", "right"}:
        raise InputError(
            f"{rec.get('side')!r} is not a side", file=file, column="side", expected="left or right"
        )
    if "date" in rec:
        try:
            _dt.date.fromisoformat(str(rec["date"]))
        except ValueError:
            raise InputError(
                f"{rec['date']!r} is not a date", file=file, column="date", expected="YYYY-MM-DD"
            ) from None
    if str(rec["model"]).upper() != protocol["model"].upper():
        raise InputError(
            f"model {rec['model']!r} does not match protocol '{protocol.name}'",
            file=file,
            column="model",
            expected=protocol["model"],
        )
    return rec
