"""Von Frey 50 % withdrawal thresholds: Dixon-Chaplan up-down, exact ML, and SUDO.

Public API
----------
:func:`thresholds`
    ``thresholds(data, protocol="vonfrey-updown-rat", **overrides) -> DataFrame``,
    one row per test with the id columns, ``threshold_g``, ``log10_threshold``,
    ``ci_low_g``, ``ci_high_g``, ``k``, ``delta``, ``xf``, ``n_stimuli``, ``pattern``,
    ``method``, ``status``, ``message`` and the convention columns ``protocol``
    (name@version), ``kit``, ``filament_unit``, ``xf_source``, ``delta_mode``,
    ``boundary``, ``stopping_rule``, ``ci_method``, ``start_filament`` (SUDO protocols add
    ``threshold_filament`` before ``threshold_g`` and ``fit``).
:func:`dixon_k`
    Dixon's k of any X/O series by maximum likelihood (Dixon 1965, 1980).
:func:`read_sheet`
    Read a CSV/XLSX sheet (lab-sheet or long style).

Protocol kinds ``vonfrey-updown`` and ``vonfrey-sudo`` (see ``protocols/vonfrey-*.md``).

References
----------
Chaplan SR, Bach FW, Pogrel JW, Chung JM, Yaksh TL (1994) Quantitative assessment of
tactile allodynia in the rat paw. J Neurosci Methods 53:55-63.
Dixon WJ (1965) J Am Stat Assoc 60:967-978; Dixon WJ (1980) Annu Rev Pharmacol Toxicol
20:441-462.
Christensen SL, Hansen RB, Storm MA, et al. (2020) Von Frey testing revisited. Eur J
Pain 24:783-790.
Bonin RP, Bories C, De Koninck Y (2014) A simplified up-down method (SUDO) for
measuring mechanical nociception in rodents using von Frey filaments. Mol Pain 10:26.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from nplab.animals import check_paws
from nplab.errors import InputError, ProtocolError
from nplab.protocols import Param, Protocol, load_protocol
from nplab.vonfrey.dixon import dixon_interval, dixon_k, dixon_table
from nplab.vonfrey.kits import KITS, Kit, kit_from_params
from nplab.vonfrey.sheets import read_sheet, sheet_tests
from nplab.vonfrey.sudo import evaluate_sudo, sudo_fit
from nplab.vonfrey.updown import (
    CONVENTION_COLUMNS,
    RESULT_COLUMNS,
    conventions,
    evaluate_series,
    raise_first,
    resolve_kit_params,
    updown_results,
)

__all__ = [
    "CONVENTION_COLUMNS",
    "KITS",
    "PROTOCOL_SCHEMAS",
    "RESULT_COLUMNS",
    "Kit",
    "dixon_interval",
    "dixon_k",
    "dixon_table",
    "mpe_cutoff_g",
    "read_sheet",
    "sudo_fit",
    "thresholds",
]

_KIT_SCHEMA = {
    "kit": Param(
        "str",
        default="chaplan-rat",
        choices=(*KITS, "custom"),
        doc="filament kit: a shipped kit, or 'custom' with filaments_g (and handles)",
    ),
    "filaments_g": Param(
        "list", item="float", default=None, min=0, unit="g",
        doc="custom kit: forces (nominal or calibrated), weakest first",
    ),
    "handles": Param(
        "list", item="float", default=None, doc="custom kit: handle/evaluator numbers"
    ),
    "filament_unit": Param(
        "str", default="grams", choices=("grams", "handle"),
        doc="how sheets record filaments (start_filament, long-style filament column)",
    ),
    "start_filament": Param(
        "float", default=None,
        doc="first filament, in filament_unit; default the middle filament ((n-1)//2)",
    ),
    "injury_margin_pct": Param(
        "float", default=20.0, min=0, max=100, unit="%",
        doc="%MPE and % reversal are undefined (flagged, left out of group means) for an "
        "animal x paw whose pre-dose value is not below its baseline by this percentage",
    ),
    "mpe_cutoff_g": Param(
        "float", default=None, min=0, unit="g",
        doc="cut-off for %MPE; default: the highest threshold the protocol can give (the "
        "chaplan ceiling above_value_g, else the kit's strongest filament); must not exceed "
        "what the kit can measure",
    ),
    "on_invalid": Param(
        "str", default="error", choices=("error", "flag"),
        doc="invalid series (bad characters, leaving the kit, filament off the rule): "
        "raise an error, or flag the row status 'invalid'",
    ),
}

_UPDOWN_SCHEMA = {
    **_KIT_SCHEMA,
    "xf_source": Param(
        "str", default="handle", choices=("handle", "grams"),
        doc="Xf: the handle number (Chaplan) or log10(grams x 10^4)",
    ),
    "delta_mode": Param(
        "str", default="fixed", choices=("fixed", "kit_mean", "flexible", "exact"),
        doc="delta: the fixed value 'delta', the kit's mean log step, the mean step over "
        "the filaments used, or exact ML on actual log filament values (Christensen 2020)",
    ),
    "delta": Param("float", default=0.224, min=0, unit="log10", doc="fixed delta"),
    "k_source": Param(
        "str", default="table", choices=("table", "ml"),
        doc="table: Dixon's printed 3-decimal k for the 248 series it covers (nominal N 2-6, "
        "initial run <= 4; reproduced by maximum likelihood and rounded as printed), the "
        "unrounded ML k otherwise; ml: always the unrounded ML k",
    ),
    "stopping_rule": Param(
        "str", default="chaplan", choices=("chaplan", "none"),
        doc="chaplan: stop stimuli_after_crossover stimuli after the first change",
    ),
    "stimuli_after_crossover": Param("int", default=4, min=1, doc="Chaplan: 4"),
    "on_stopping_violation": Param(
        "str", default="flag", choices=("flag", "error"),
        doc="series stopped early / run past the rule: flag 'incomplete'/'overrun' or raise",
    ),
    "boundary": Param(
        "str", default="chaplan", choices=("chaplan", "end_filament", "censored"),
        doc="runs that never cross and reach the kit's end",
    ),
    "below_value_g": Param("float", default=0.25, min=0, unit="g", doc="chaplan floor"),
    "above_value_g": Param("float", default=15.0, min=0, unit="g", doc="chaplan ceiling"),
    "ci_level": Param("float", default=0.95, min=0.5, max=0.999, doc="confidence level"),
}

_SUDO_SCHEMA = {
    **_KIT_SCHEMA,
    "n_stimuli": Param("int", default=5, min=1, doc="stimuli per test (Bonin 2014: 5)"),
}

PROTOCOL_SCHEMAS = {"vonfrey-updown": _UPDOWN_SCHEMA, "vonfrey-sudo": _SUDO_SCHEMA}


def _start_index(kit: Kit, params: dict, file: str) -> int:
    value = params["start_filament"]
    if value is None:
        return (len(kit) - 1) // 2
    idx = kit.index_of(value, params["filament_unit"])
    if idx is None:
        raise ProtocolError(
            f"start_filament {value:g} is not a filament of kit '{kit.name}'",
            file=file,
            column="start_filament",
            expected=f"one of {kit.labels(params['filament_unit'])} ({params['filament_unit']})",
        )
    return idx


def _strongest_g(kit: Kit, params: dict) -> float:
    return float(kit.grams[-1])


def check_kit_consistency(proto: Protocol) -> None:
    """Refuse protocol values that do not belong to the protocol's kit.

    The chaplan ceiling ``above_value_g`` (assigned to animals that never respond) and
    an explicit ``mpe_cutoff_g`` must belong to the kit: a 15 g ceiling (Chaplan's rat
    kit) with a 2 g mouse kit would give mice thresholds and %MPE on a scale their kit
    cannot measure.  Refused when above 1.5 × the kit's strongest filament: calibrated
    forces of a nominal 15 g filament (e.g. 13.1 g) keep Chaplan's nominal 15 g ceiling,
    a kit of another species does not.
    """
    params = proto.params
    kit = kit_from_params(params, file=proto.path)
    top = _strongest_g(kit, params)
    checks = [("mpe_cutoff_g", params.get("mpe_cutoff_g"))]
    if proto.kind == "vonfrey-updown" and params.get("boundary") == "chaplan":
        checks.append(("above_value_g", params.get("above_value_g")))
    for key, value in checks:
        if value is not None and value > 1.5 * top:
            raise ProtocolError(
                f"{key} = {value:g} g does not belong to kit '{kit.name}' (strongest "
                f"filament {top:g} g)",
                file=proto.path,
                column=key,
                expected=f"a value the kit can measure (at most 1.5 × {top:g} g), e.g. "
                f"{top:g} g",
            )


def mpe_cutoff_g(protocol: str | os.PathLike[str] | Protocol) -> float:
    """The %MPE cut-off (g) of a von Frey protocol, from the kit actually used.

    %MPE = (post − pre) / (cut-off − pre) × 100 needs the largest threshold the
    method can report: the protocol's ``mpe_cutoff_g`` when given, else the chaplan
    ceiling ``above_value_g`` with the ``chaplan`` boundary (Chaplan et al. 1994: 15 g,
    the strongest filament of the rat kit), else the kit's strongest filament.  Values
    above the kit's strongest filament are refused (:func:`check_kit_consistency`).

    Parameters
    ----------
    protocol
        A ``vonfrey-updown`` or ``vonfrey-sudo`` protocol (name, path or loaded).

    Returns
    -------
    float
        The cut-off in grams (2 g for ``vonfrey-updown-mouse``, 15 g for the rat kit).
    """
    proto = protocol if isinstance(protocol, Protocol) else load_protocol(protocol,
                                                                          kind="vonfrey")
    check_kit_consistency(proto)
    params = proto.params
    if params.get("mpe_cutoff_g") is not None:
        return float(params["mpe_cutoff_g"])
    if proto.kind == "vonfrey-updown" and params.get("boundary") == "chaplan":
        return float(params["above_value_g"])
    return _strongest_g(kit_from_params(params, file=proto.path), params)


def thresholds(
    data: pd.DataFrame | str | os.PathLike[str],
    protocol: str | os.PathLike[str] | Protocol = "vonfrey-updown-rat",
    **overrides,
) -> pd.DataFrame:
    """50 % withdrawal thresholds, one row per test, conventions recorded per row.

    Parameters
    ----------
    data
        A DataFrame or a CSV/XLSX path, lab-sheet style (``responses`` column,
        optional ``start_filament``) or long style (``filament``, ``response``,
        optional ``stimulus`` order, else file order); see :mod:`nplab.vonfrey.sheets`.  Other columns are id columns.
    protocol
        A ``vonfrey-updown`` or ``vonfrey-sudo`` protocol name or path.
    **overrides
        Protocol parameters to change (validated like the file).

    Returns
    -------
    pandas.DataFrame
        Input order.  Id columns, then ``threshold_g`` (g), ``log10_threshold``
        (log10 g), ``ci_low_g``/``ci_high_g`` (likelihood-ratio interval, sigma fixed
        = delta), ``k`` (for ``exact``: (mu_hat - Xf) / delta, so that
        threshold_g = 10^(xf + k*delta)/10^4 holds in every mode), ``delta``, ``xf``, ``n_stimuli``, ``pattern`` (upper-case
        series), ``method`` (``dixon-ml-k``, ``exact-ml``, ``boundary``, ``sudo`` or
        ``none``), ``status`` (``ok``, ``incomplete``, ``overrun``, ``below_range``,
        ``above_range``, ``invalid``), ``message``, then :data:`CONVENTION_COLUMNS`.

    Raises
    ------
    InputError
        Naming file, row, column and what was expected, for structural problems and
        (with ``on_invalid = "error"``, the default) the first invalid test.
    """
    proto = load_protocol(protocol, kind="vonfrey", **overrides)
    if isinstance(data, pd.DataFrame):
        df = data.copy()
        df.attrs = dict(data.attrs)
    else:
        df = read_sheet(data)
    file = df.attrs.get("source")
    if len(df) == 0:
        raise InputError("the sheet has no data rows", file=file, expected="one test per row")
    if "paw" in df.columns:
        check_paws(df, file=file)
    params = proto.params
    kit = kit_from_params(params, file=proto.path)
    # long-style sheets record every filament applied (the first one is the start), so
    # the protocol's default start is only needed, and only checked, for lab sheets
    long_style = "responses" not in df.columns
    start = -1 if long_style else _start_index(kit, params, proto.path)
    tests = sheet_tests(df, kit, filament_unit=params["filament_unit"], default_start=start)
    sudo = proto.kind == "vonfrey-sudo"
    if sudo:
        resolved = {**params, "_fit": sudo_fit(kit)}
        columns = ["threshold_filament", *RESULT_COLUMNS]
        evaluate = evaluate_sudo
    else:
        resolved = resolve_kit_params(kit, params, file=proto.path)
        columns, evaluate = RESULT_COLUMNS, evaluate_series
    check_kit_consistency(proto)
    res = updown_results(
        tests.patterns, tests.start, tests.invalid, kit, resolved, evaluate, columns
    )
    check_stopping = not sudo and params["on_stopping_violation"] == "error"
    if params["on_invalid"] == "error" or check_stopping:
        status = res["status"].to_numpy(dtype=object)
        messages = res["message"].to_numpy(dtype=object)
    if params["on_invalid"] == "error":
        expected = np.where(
            tests.expected == "",
            f"an up-down path within kit '{kit.name}' (or on_invalid = 'flag')",
            tests.expected,
        )
        raise_first(
            status == "invalid", messages, tests.rows, tests.invalid_column, file, expected
        )
    if check_stopping:
        n = params["stimuli_after_crossover"]
        raise_first(
            np.isin(status, ["incomplete", "overrun"]), messages, tests.rows,
            np.full(len(status), "responses", dtype=object), file,
            np.full(len(status), f"{n} stimuli after the first change of response"),
        )
    conv = conventions(proto, kit)
    # the start filament of each test (protocol default, sheet override, or the first
    # filament of a long-style test), in filament_unit; NaN where it is not in the kit
    ref = kit.grams if params["filament_unit"] == "grams" else kit.handles
    labels = np.full(len(kit), np.nan) if ref is None else np.asarray(ref, dtype=float)
    conv["start_filament"] = np.where(
        tests.start >= 0, labels[np.clip(tests.start, 0, len(kit) - 1)], np.nan
    )
    if sudo:
        slope, intercept = resolved["_fit"]
        conv.update(
            xf_source="grams", delta_mode="", boundary="",
            stopping_rule=f"{params['n_stimuli']} stimuli", ci_method="",
        )
        conv["fit"] = f"log10(g) = {slope:.6g} * filament + {intercept:.6g}"
    ids = tests.ids
    clash = [c for c in ids.columns if c in res.columns or c in conv]
    if clash:
        raise InputError(
            "id column has the name of an output column", file=file, column=clash[0],
            expected="another name",
        )
    out = pd.concat([ids, res], axis=1)
    for name, value in conv.items():
        out[name] = value
    return out
