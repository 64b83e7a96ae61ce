"""The other behavioural tests of a pain study, on one trial engine.

Latency tests with a cut-off (right-censoring, Tobit and Kaplan-Meier through
:mod:`nplab.hargreaves`): :func:`hot_plate`, :func:`tail_flick`, :func:`cold_plate`
(``measure = "latency"``), :func:`rotarod`.  Locomotor activity: :func:`open_field` (distance travelled).  Score / count / force / weight tests on
the value engine (:mod:`nplab.behaviour.engine`): :func:`acetone`, :func:`cold_plate`
(``measure = "lifts"``), :func:`randall_selitto`, :func:`electronic_vonfrey`,
:func:`weight_bearing`; binned: :func:`formalin`.  Endpoints (%MPE, % reversal, AUC,
ipsi - contra) through :func:`nplab.stats.endpoints.endpoints` with the protocol's
cut-off: :func:`behaviour_endpoints`.  Motor/sedation confound: :func:`sedation_check`.

Every test has a versioned protocol (``protocols/<test>.md`` + ``.toml``) of the kind
of the same name; :data:`TESTS` maps the test name to its summary function.
"""

from __future__ import annotations

from nplab.behaviour.schemas import PROTOCOL_SCHEMAS

__all__ = [
    "PROTOCOL_SCHEMAS",
    "TESTS",
    "acetone",
    "behaviour_endpoints",
    "cold_plate",
    "electronic_vonfrey",
    "formalin",
    "hot_plate",
    "open_field",
    "randall_selitto",
    "rotarod",
    "sedation_check",
    "tail_flick",
    "weight_bearing",
]

from nplab.behaviour.acetone import acetone
from nplab.behaviour.coldplate import cold_plate
from nplab.behaviour.endpoints import behaviour_endpoints
from nplab.behaviour.formalin import formalin
from nplab.behaviour.latency import hot_plate, tail_flick
from nplab.behaviour.openfield import open_field
from nplab.behaviour.pressure import electronic_vonfrey, randall_selitto
from nplab.behaviour.rotarod import rotarod
from nplab.behaviour.sedation import sedation_check
from nplab.behaviour.weightbearing import weight_bearing

#: test name (= protocol kind) -> summary function
TESTS = {
    "hot-plate": hot_plate,
    "tail-flick": tail_flick,
    "cold-plate": cold_plate,
    "rotarod": rotarod,
    "acetone": acetone,
    "randall-selitto": randall_selitto,
    "electronic-vonfrey": electronic_vonfrey,
    "weight-bearing": weight_bearing,
    "formalin": formalin,
    "open-field": open_field,
}
