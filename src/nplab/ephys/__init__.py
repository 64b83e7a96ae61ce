"""Whole-cell patch-clamp recordings (``nplab.ephys``): ABF reading, per-sweep
measurement, QC and concentration–response analysis.

Reading and measuring::

    rec = nplab.ephys.read_abf("cell01_0003.abf")
    table = nplab.ephys.measure(["cell01_0003.abf"], "patchclamp-nav-resting")
    qc = nplab.ephys.qc_cells(table, "patchclamp-nav-resting")
"""

from nplab.ephys.abf import Epoch, LeakSubtraction, Recording, Tag, read_abf
from nplab.ephys.measure import (
    MEASURES,
    PER_SWEEP_COLUMNS,
    PROTOCOL_SCHEMAS,
    measure,
    measure_file,
    measure_trace,
    resolve_window,
)
from nplab.ephys.qc import QC_COLUMNS, membrane_test, qc_cells, rundown_rate

__all__ = [
    "MEASURES",
    "PER_SWEEP_COLUMNS",
    "PROTOCOL_SCHEMAS",
    "QC_COLUMNS",
    "Epoch",
    "LeakSubtraction",
    "Recording",
    "Tag",
    "measure",
    "measure_file",
    "measure_trace",
    "membrane_test",
    "qc_cells",
    "read_abf",
    "resolve_window",
    "rundown_rate",
]
