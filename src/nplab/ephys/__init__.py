"""Whole-cell patch-clamp recordings (``nplab.ephys``): ABF reading, per-sweep
measurement, QC and concentration–response analysis.

Reading and measuring::

    rec = nplab.ephys.read_abf("cell01_0003.abf")
    table = nplab.ephys.measure(["cell01_0003.abf"], "patchclamp-nav-resting")
    qc = nplab.ephys.qc_cells(table, "patchclamp-nav-resting")

Concentration–response from an experiment table (``cell, file, drug, conc_um,
holding_mv, condition``)::

    res = nplab.ephys.ic50("experiment.csv", rundown="linear")
    res.cells, res.fits, res.state, res.references

Current-clamp excitability (issue 15)::

    res = nplab.ephys.excitability(["cell1.abf", "cell2.abf"], "currentclamp-steps")
    res.cells, res.sweeps, res.spikes
    nplab.ephys.compare_groups(res.cells, "rheobase_pa")   # animal as the unit
    nplab.ephys.excitability_figures(res, "figures/")
    nplab.ephys.detect_spikes(v_mv, sample_rate)           # one trace -> SpikeArrays

As with ``measure`` and ``ic50``, the name ``nplab.ephys.excitability`` is the function;
the module's other names are imported from it directly (``from nplab.ephys.excitability
import CELL_COLUMNS``).  ``nplab.ephys.spikes`` stays the module: its per-sweep table
function is ``nplab.ephys.spikes.spikes`` (exporting it here would hide the module), and
``detect_spikes`` is exported instead.
"""

from nplab.ephys.abf import Epoch, LeakSubtraction, Recording, Tag, read_abf

# --- concentration–response (ic50, concentrations, state, references, plots) ---
from nplab.ephys.concentrations import (
    EXPERIMENT_COLUMNS,
    NO_DRUG,
    RUNDOWN_METHODS,
    assign_concentrations,
    control_lines,
    is_washout,
    linear_rundown,
    parse_concentration,
    read_experiment,
    rundown_factor,
    steady_state,
    validate_experiment,
    vehicle_ratio,
)
from nplab.ephys.excitability import ExcitabilityResult, excitability, excitability_file
from nplab.ephys.excitability_plots import excitability_figures
from nplab.ephys.excitability_stats import animal_means, compare_groups, paired_within_cell
from nplab.ephys.ic50 import (
    CELL_COLUMNS,
    FIT_COLUMNS,
    IC50_DEFAULTS,
    IC50_SCHEMA,
    IC50Result,
    fit_cells,
    fractional_current,
    ic50,
)
from nplab.ephys.measure import (
    MEASURES,
    PER_SWEEP_COLUMNS,
    PROTOCOL_SCHEMAS,
    measure,
    measure_file,
    measure_trace,
    resolve_window,
)
from nplab.ephys.plots import (
    cell_traces,
    plot_concentration_response,
    plot_time_course,
    plot_traces,
)
from nplab.ephys.qc import QC_COLUMNS, membrane_test, qc_cells, rundown_rate
from nplab.ephys.references import (
    compare_state_to_references,
    compare_to_references,
    load_references,
)
from nplab.ephys.spikes import SpikeArrays, detect_spikes
from nplab.ephys.state import (
    availability,
    delta_v_half,
    k_app,
    k_inactivated,
    k_inactivated_from_shift,
    state_dependent,
    state_table,
)

# Protocols of kind "patchclamp" may also set the concentration–response keys.
PROTOCOL_SCHEMAS["patchclamp"].update(IC50_SCHEMA)

__all__ = [
    "CELL_COLUMNS",
    "EXPERIMENT_COLUMNS",
    "FIT_COLUMNS",
    "IC50_DEFAULTS",
    "IC50_SCHEMA",
    "MEASURES",
    "NO_DRUG",
    "PER_SWEEP_COLUMNS",
    "PROTOCOL_SCHEMAS",
    "QC_COLUMNS",
    "RUNDOWN_METHODS",
    "Epoch",
    "ExcitabilityResult",
    "IC50Result",
    "LeakSubtraction",
    "Recording",
    "SpikeArrays",
    "Tag",
    "animal_means",
    "assign_concentrations",
    "availability",
    "cell_traces",
    "compare_groups",
    "compare_state_to_references",
    "compare_to_references",
    "control_lines",
    "delta_v_half",
    "detect_spikes",
    "excitability",
    "excitability_figures",
    "excitability_file",
    "fit_cells",
    "fractional_current",
    "ic50",
    "is_washout",
    "k_app",
    "k_inactivated",
    "k_inactivated_from_shift",
    "linear_rundown",
    "load_references",
    "measure",
    "measure_file",
    "measure_trace",
    "membrane_test",
    "paired_within_cell",
    "parse_concentration",
    "plot_concentration_response",
    "plot_time_course",
    "plot_traces",
    "qc_cells",
    "read_abf",
    "read_experiment",
    "resolve_window",
    "rundown_factor",
    "rundown_rate",
    "state_dependent",
    "state_table",
    "steady_state",
    "validate_experiment",
    "vehicle_ratio",
]
