"""The study file: one TOML (or YAML) document describing a CCI/SNL drug study.

A study file names everything ``nplab run`` needs and everything a reader of the
report (and the ARRIVE 2.0 checklist) needs: who the animals were, how they were
injured, which groups got which treatment, when they were tested, where the raw tables
are, which protocols were used, the primary outcome, the planned analyses, the
a-priori exclusion rules, and the randomisation and blinding records.

Example (``sample_data/cci_study.toml`` is a complete one)::

    [study]
    title = "Amitriptyline and duloxetine in CCI rats"
    species = "rat"
    strain = "Sprague-Dawley"
    sex = "male"

    [model]
    type = "CCI"
    surgery_protocol = "cci"
    side = "left"
    date = "2026-01-05"
    surgeon = "A. Surgeon"

    [[groups]]
    name = "CCI + vehicle"
    treatment = "vehicle"
    dose = 0
    unit = "mg/kg"
    control = true

    [[timepoints]]
    label = "BL"
    kind = "baseline"
    days = -1

    [data]
    animals = "animals.csv"
    vonfrey = "vonfrey.csv"

The same structure can be written as YAML (``.yaml``/``.yml``; needs the optional
``pyyaml`` package).  Every table is validated against a schema; an unknown key, a wrong type, a missing
required key or a path that does not exist is an :class:`~nplab.errors.InputError`
naming the study file and the key (e.g. ``groups[2].dose``).  Paths are relative to the
study file.  The surgery record in ``[model]`` is checked against the surgery protocol
(``cci``/``snl``) with :func:`nplab.surgery.check_surgery_record`.

References
----------
Percie du Sert N et al. (2020) The ARRIVE guidelines 2.0: updated guidelines for
reporting animal research. PLoS Biol 18(7):e3000410 (the Essential 10 the study file
records).
"""

from __future__ import annotations

import datetime as _dt
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nplab.errors import InputError, split_sheet
from nplab.protocols import Param, load_protocol
from nplab.protocols import validate_table as _validate_schema_table
from nplab.surgery import check_surgery_record

__all__ = [
    "ASSAYS",  # noqa: F822 (module __getattr__)
    "STUDY_SCHEMA",  # noqa: F822
    "TIMEPOINT_KINDS",
    "Study",
    "load_study",
    "missing_keys",
]


def __getattr__(name: str) -> Any:
    """``ASSAYS`` and ``STUDY_SCHEMA`` are built from the assay registry on first use."""
    if name == "ASSAYS":
        #: Assays a study can declare data for (keys of ``[data]`` besides ``animals``).
        from nplab.assays import registry

        return tuple(registry())
    if name == "STUDY_SCHEMA":
        return _schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Allowed ``kind`` of a time point.
TIMEPOINT_KINDS = ("baseline", "predose", "postdose")

_MODELS = ("CCI", "SNL", "sham")
_ANALYSES = (
    "descriptives",
    "endpoints",
    "mixed_anova",
    "mixed_model",
    "dunnett",
    "kruskal",
    "ic50",
)

_GROUP = {
    "name": Param("str", required=True, doc="group name as used in the report"),
    "treatment": Param("str", required=True, doc="drug or vehicle"),
    "dose": Param("float", required=True, min=0, doc="dose (0 for vehicle)"),
    "unit": Param("str", default="mg/kg", doc="dose unit"),
    "route": Param("str", default="", doc="route of administration, e.g. i.p."),
    "model": Param("str", default=None, choices=_MODELS, doc="injury of this group"),
    "control": Param("bool", default=False, doc="the control group for many-to-one tests"),
    "description": Param("str", default="", doc="free text"),
}
_TIMEPOINT = {
    "label": Param("str", required=True, doc="label used in the data tables"),
    "kind": Param("str", required=True, choices=TIMEPOINT_KINDS, doc="role of the time point"),
    "hours": Param("float", default=None, unit="h", doc="time after dosing (post-dose)"),
    "days": Param("float", default=None, unit="d", doc="day relative to surgery"),
}
_EXCLUSION_COMMON = {
    "name": Param("str", required=True, doc="short name of the rule"),
    "description": Param("str", default="", doc="the rule in words"),
    "timepoint": Param("str", default=None, doc="time point label (default: the pre-dose one)"),
    "paw": Param("str", default="ipsi", choices=("ipsi", "contra")),
    "models": Param(
        "list", item="str", default=("CCI", "SNL"), doc="the rule applies to these models"
    ),
}
def _schema() -> dict[str, Param]:
    """The study-file schema: fixed tables plus what the registered assays declare."""
    from nplab.assays import registry

    assays = registry()
    per_animal = tuple(n for n, a in assays.items() if a.per_animal)
    criteria: dict[str, Param] = {}
    for a in assays.values():
        criteria.update(a.exclusion_criteria)
    exclusion = {
        "name": _EXCLUSION_COMMON["name"],
        "description": _EXCLUSION_COMMON["description"],
        "assay": Param("str", default=None, choices=per_animal,
                       doc="assay the rule is checked on (default: the primary outcome)"),
        **{k: _EXCLUSION_COMMON[k] for k in ("timepoint", "paw")},
        **criteria,
        "models": _EXCLUSION_COMMON["models"],
    }
    data = {"animals": Param("str", required=True, doc="animals table (CSV/XLSX)")}
    data.update({n: Param("str", default=None, doc=a.data_doc) for n, a in assays.items()})
    protocols = {n: Param("str", default=a.default_protocol)
                 for n, a in assays.items() if a.protocol_kind}
    options = {n: Param("table", default={}, fields=dict(a.options))
               for n, a in assays.items() if a.options}
    return {**_FIXED_SCHEMA_HEAD,
            "data": Param("table", required=True, fields=data),
            "protocols": Param("table", default={}, fields=protocols),
            **options,
            "outcomes": Param("table", required=True, fields={
                **_OUTCOMES, "primary": Param("str", required=True, choices=tuple(assays),
                                              doc="primary assay")}),
            **_FIXED_SCHEMA_TAIL,
            "exclusions": Param("list[table]", default=(), fields=exclusion),
            **_FIXED_SCHEMA_END}


_FIXED_SCHEMA_HEAD: dict[str, Param] = {
    "study": Param(
        "table",
        required=True,
        fields={
            "title": Param("str", required=True),
            "id": Param("str", default=""),
            "description": Param("str", default=""),
            "objectives": Param("str", default=""),
            "species": Param("str", required=True),
            "strain": Param("str", default=""),
            "sex": Param("str", default="", doc="male, female or both"),
            "age": Param("str", default=""),
            "weight": Param("str", default=""),
            "supplier": Param("str", default=""),
            "housing": Param("str", default=""),
            "ethics": Param("str", default=""),
            "design": Param("str", default="", doc="experimental design in words"),
            "experimental_unit": Param("str", default="animal"),
            "sample_size": Param("str", default="", doc="how the sample size was decided"),
            "procedures": Param("str", default="", doc="dosing and testing schedule"),
        },
    ),
    "model": Param(
        "table",
        required=True,
        fields={
            "type": Param("str", required=True, choices=("CCI", "SNL")),
            "surgery_protocol": Param("str", required=True, doc="cci or snl (or a .toml path)"),
            "side": Param("str", required=True, choices=("left", "right")),
            "date": Param("str", default=None, doc="YYYY-MM-DD"),
            "surgeon": Param("str", default=None),
            "ligature_material": Param("str", default=None),
            "notes": Param("str", default=""),
        },
    ),
    "groups": Param("list[table]", required=True, fields=_GROUP),
    "timepoints": Param("list[table]", required=True, fields=_TIMEPOINT),
}
_OUTCOMES: dict[str, Param] = {
    "primary_paw": Param("str", default="ipsi", choices=("ipsi", "contra")),
    "description": Param("str", default=""),
    "secondary": Param("list", item="str", default=()),
}
_FIXED_SCHEMA_TAIL: dict[str, Param] = {
    "analysis": Param(
        "table",
        default={},
        fields={
            "planned": Param(
                "list",
                item="str",
                choices=_ANALYSES,
                default=("descriptives", "endpoints", "mixed_anova", "dunnett", "ic50"),
            ),
            "alpha": Param("float", default=0.05, min=0.0001, max=0.5),
            "log10_thresholds": Param("bool", default=True, doc="analyse log10 thresholds"),
            "software_note": Param("str", default=""),
        },
    ),
}
#: ``[design]``: the factors of the per-animal time-course statistics (issue 14.7).
#: Aliases ``treatment`` → ``group`` and ``time`` → ``timepoint`` are accepted.
DESIGN_WITHIN = ("timepoint", "paw")
POSTHOC_GATES = ("omnibus", "interaction", "none")
_DESIGN: dict[str, Param] = {
    "between": Param(
        "list", item="str", default=("group",),
        doc="between-animal factors: group (alias treatment) first, then columns of the "
            "animals table such as sex (measured factors: generalised eta-squared treats "
            "them as observed); post hoc comparisons are made within each of their levels",
    ),
    "within": Param(
        "list", item="str", default=("timepoint",),
        doc="within-animal factors: timepoint (alias time), optionally paw (one mixed ANOVA "
            "with paw as a within factor instead of one per paw)",
    ),
    "posthoc_gate": Param(
        "str", default="omnibus", choices=POSTHOC_GATES,
        doc="when the results paragraph calls a post hoc difference shown: omnibus (true) = "
            "only if an omnibus effect involving group (group, group x time, ...) is "
            "significant; interaction = only if an interaction of group with a within "
            "factor is; none (false) = always.  The omnibus result is stated first.",
    ),
}
_DESIGN_ALIASES = {"treatment": "group", "time": "timepoint"}

_FIXED_SCHEMA_END: dict[str, Param] = {
    "design": Param("table", default={}, fields=_DESIGN),
    "randomisation": Param(
        "table",
        default=None,
        fields={
            "method": Param("str", required=True, doc="how animals were allocated"),
            "sequence": Param("str", default="", doc="how the sequence was generated"),
            "seed": Param("int", default=None),
            "unit": Param("str", default="animal"),
            "confounders": Param("str", default="", doc="cage, order, tester controlled how"),
        },
    ),
    "output": Param(
        "table",
        default={},
        fields={
            "round": Param("int", default=None, min=1, max=15,
                           doc="also write copies of the tables rounded to this many "
                           "significant digits (tables/rounded/; full precision kept)"),
        },
    ),
    "blinding": Param(
        "table",
        default=None,
        fields={
            "blinded": Param("bool", required=True, doc="were testers/analysts blind"),
            "who": Param("str", default="", doc="who was blind at which stage"),
            "code_holder": Param("str", default="", doc="who held the allocation code"),
            "key": Param(
                "str",
                default=None,
                doc="unblinding key (code,group) applied after the analysis",
            ),
        },
    ),
}



@dataclass(frozen=True)
class Study:
    """A validated study file.

    Attributes
    ----------
    path
        The study file.
    root
        Folder the relative paths are resolved against (the study file's folder).
    name
        Short name: ``[study].id`` or the file stem (used for batch subfolders).
    meta
        ``[study]`` (title, species, strain, sex, ...).
    model, surgery
        ``[model]`` and the checked surgery record; ``surgery_protocol`` is the loaded
        :class:`~nplab.protocols.Protocol`.
    groups
        One row per group: ``name, treatment, dose, unit, route, model, control,
        description`` in the study file's order.
    timepoints
        One row per time point: ``label, kind, hours, days, order``.
    data
        Absolute paths of the declared tables (``animals`` always; assays when given);
        a workbook's sheet is kept after ``#`` (``/abs/book.xlsx#Animals``) as
        :func:`nplab.tables.read_table` reads it.
    options
        Each assay's own options table (``[patchclamp]``, ...) by assay name.
    protocols, outcomes, analysis, exclusions, randomisation, blinding, output
        The remaining tables, defaults filled in (``output["round"]``: significant
        digits of the rounded copies of the tables, or ``None``).  Patch-clamp protocols come from the
        experiment table (a ``protocol`` column, or conditions named after protocols).
    """

    path: Path
    root: Path
    name: str
    meta: dict[str, Any]
    model: dict[str, Any]
    surgery: dict[str, Any]
    surgery_protocol: Any
    groups: pd.DataFrame
    timepoints: pd.DataFrame
    data: dict[str, Path]
    protocols: dict[str, Any]
    options: dict[str, dict[str, Any]]
    outcomes: dict[str, Any]
    analysis: dict[str, Any]
    exclusions: list[dict[str, Any]]
    randomisation: dict[str, Any] | None
    blinding: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    #: ``[design]`` (``between``, ``within``, ``posthoc_gate``), defaults filled in.
    design: dict[str, Any] = field(default_factory=lambda: _default_design())

    @property
    def title(self) -> str:
        return str(self.meta["title"])

    @property
    def patchclamp(self) -> dict[str, Any]:
        """The ``[patchclamp]`` options (``options["patchclamp"]``)."""
        return self.options.get("patchclamp", {})

    @property
    def control_group(self) -> str | None:
        """Name of the control group (``control = true``), or ``None``."""
        ctrl = self.groups.loc[self.groups["control"], "name"]
        return str(ctrl.iloc[0]) if len(ctrl) else None

    @property
    def predose_label(self) -> str | None:
        tp = self.timepoints.loc[self.timepoints["kind"] == "predose", "label"]
        return str(tp.iloc[-1]) if len(tp) else None

    @property
    def baseline_label(self) -> str | None:
        tp = self.timepoints.loc[self.timepoints["kind"] == "baseline", "label"]
        return str(tp.iloc[0]) if len(tp) else None

    @property
    def postdose(self) -> pd.DataFrame:
        """Post-dose time points with their ``hours`` (sorted by time)."""
        return self.timepoints[self.timepoints["kind"] == "postdose"]

    @property
    def blinded(self) -> bool:
        return bool(self.blinding and self.blinding.get("blinded"))

    @property
    def unblinding_key(self) -> Path | None:
        """Absolute path of the unblinding key file, if the study names one."""
        if not self.blinding or not self.blinding.get("key"):
            return None
        return self.root / self.blinding["key"]

    def input_files(self) -> list[Path]:
        """The study file and every table it names (not the recordings), sorted."""
        files = [self.path, *self.data.values()]
        key = self.unblinding_key
        if key is not None and key.exists():
            files.append(key)
        return files


def _default_design() -> dict[str, Any]:
    return {"between": ["group"], "within": ["timepoint"], "posthoc_gate": "omnibus"}


def _design(values: dict[str, Any] | None, file: Path) -> dict[str, Any]:
    """Normalise ``[design]``: aliases resolved, group first, within factors known."""
    if not values:
        return _default_design()
    between = [_DESIGN_ALIASES.get(f, f) for f in values["between"]]
    within = [_DESIGN_ALIASES.get(f, f) for f in values["within"]]
    if not between or between[0] != "group":
        raise InputError(
            "the first between factor must be the group (treatment)", file=file,
            column="design.between", expected='["group", "sex"] or ["treatment", "sex"]',
        )  # fmt: skip
    for key, names in (("between", between), ("within", within)):
        if len(set(names)) != len(names):
            raise InputError(f"a factor is named twice in {names}", file=file,
                             column=f"design.{key}")  # fmt: skip
    bad = [f for f in within if f not in DESIGN_WITHIN]
    if bad or "timepoint" not in within:
        raise InputError(
            f"unknown within-animal factor(s) {bad}" if bad else "timepoint is missing",
            file=file, column="design.within",
            expected='["timepoint"] or ["timepoint", "paw"]',
        )  # fmt: skip
    clash = [f for f in between[1:] if f in ("animal", "timepoint", "paw", "model")]
    if clash:
        raise InputError(f"{clash[0]!r} cannot be a between-animal factor", file=file,
                         column="design.between", expected="a column of the animals table")
    return {"between": between, "within": ["timepoint", *[f for f in within if f != "timepoint"]],
            "posthoc_gate": values["posthoc_gate"]}


def _plain(value: Any) -> Any:
    """YAML dates/times as ISO strings (as TOML study files write them)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, _dt.date | _dt.datetime):
        return value.isoformat()
    return value


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        raise InputError(
            "YAML study files need the pyyaml package",
            file=path,
            expected="pip install pyyaml, or a .toml study file",
        ) from None
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=path) from None
    if not isinstance(data, dict):
        raise InputError("the YAML document is not a mapping", file=path,
                         expected="top-level keys study, model, groups, ...")
    return _plain(data)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError("study file not found", file=path)
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        return _read_yaml(path)
    if suffix != ".toml":
        raise InputError(
            "study files are TOML (or YAML)",
            file=path,
            expected="a .toml (or .yaml) file (see sample_data/)",
        )
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", file=path) from None


def missing_keys(values: Any, schema: dict[str, Param], prefix: str = "",
                 unknown: list[str] | None = None) -> list[str]:
    """Every required key absent from ``values`` (``study.title``, ``groups[1].name``).

    Walks the tables and arrays of tables that are present; a table or value of the
    wrong type is left to the schema validation, which names it.  Keys not in the schema
    are appended to ``unknown`` when it is given (a misspelt key is often the missing one).
    """
    if not isinstance(values, dict):
        return []
    out: list[str] = []
    if unknown is not None:
        unknown += [f"{prefix}{k}" for k in values if k not in schema]
    for key, spec in schema.items():
        name = f"{prefix}{key}"
        if key not in values:
            if spec.required:  # a missing table: its required keys (study.title, ...)
                inner = (missing_keys({}, spec.fields, f"{name}.")
                         if spec.type == "table" and spec.fields else [])
                out += inner or [name]
            continue
        value = values[key]
        if spec.type == "table" and spec.fields:
            out += missing_keys(value, spec.fields, f"{name}.", unknown)
        elif spec.type == "list[table]" and spec.fields and isinstance(value, list):
            for i, row in enumerate(value):
                out += missing_keys(row, spec.fields, f"{name}[{i}].", unknown)
    return out


def _check_keys(raw: dict[str, Any], schema: dict[str, Param], file: Path) -> None:
    """Report every missing required key at once (and any unknown key beside them)."""
    unknown: list[str] = []
    missing = missing_keys(raw, schema, unknown=unknown)
    if not missing:
        return
    text = f"missing key{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    if unknown:
        text += "; unknown " + ", ".join(f"key '{k}'" for k in unknown) + " (misspelt?)"
    raise InputError(text, file=file,
                     expected="every required key of the study file (README: 'Study file keys')")


def _check_unique(rows: list[dict[str, Any]], key: str, table: str, file: Path) -> None:
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row[key] in seen:
            raise InputError(
                f"{row[key]!r} appears twice",
                file=file,
                key=f"{table}[{i}].{key}",
                expected=f"unique {key}s",
            )
        seen.add(row[key])


def _timepoints(rows: list[dict[str, Any]], file: Path) -> pd.DataFrame:
    _check_unique(rows, "label", "timepoints", file)
    kinds = [r["kind"] for r in rows]
    for i, r in enumerate(rows):
        name = f"timepoints[{i}]"
        if r["kind"] == "postdose" and r["hours"] is None:
            raise InputError(
                "a post-dose time point needs its time after dosing",
                file=file,
                key=f"{name}.hours",
                expected="hours = a number, e.g. 2",
            )
        if r["kind"] != "postdose" and r["days"] is None and r["hours"] is None:
            raise InputError(
                f"a {r['kind']} time point needs its day relative to surgery",
                file=file,
                key=f"{name}.days",
                expected="days = a number, e.g. 14 (or -1 before surgery)",
            )
    order = {"baseline": 0, "predose": 1, "postdose": 2}
    ranks = [order[k] for k in kinds]
    if ranks != sorted(ranks):
        raise InputError(
            "time points are out of order",
            file=file,
            key="timepoints",
            expected="baseline, then pre-dose, then post-dose time points",
        )
    hours = [r["hours"] for r in rows if r["kind"] == "postdose"]
    if hours != sorted(hours) or len(set(hours)) != len(hours):
        raise InputError(
            "post-dose hours must increase",
            file=file,
            key="timepoints",
            expected="post-dose time points in increasing order of hours",
        )
    if "predose" in kinds and kinds.count("predose") > 1:
        raise InputError(
            "more than one pre-dose time point",
            file=file,
            key="timepoints",
            expected="one post-injury pre-dose time point",
        )
    df = pd.DataFrame(rows, columns=list(_TIMEPOINT))
    df["order"] = range(len(df))
    return df


def _groups(rows: list[dict[str, Any]], model: str, file: Path) -> pd.DataFrame:
    _check_unique(rows, "name", "groups", file)
    for r in rows:
        if r["model"] is None:
            r["model"] = model
        elif r["model"] not in (model, "sham"):
            raise InputError(
                f"group model {r['model']!r} differs from the study model {model!r}",
                file=file,
                key=f"groups[{rows.index(r)}].model",
                expected=f"{model} or sham",
            )
    n_ctrl = sum(bool(r["control"]) for r in rows)
    if n_ctrl > 1:
        raise InputError(
            "more than one control group",
            file=file,
            key="groups",
            expected="control = true on exactly one group",
        )
    return pd.DataFrame(rows, columns=list(_GROUP))


def load_study(path: str | os.PathLike[str]) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path
        A ``.toml`` study file.

    Returns
    -------
    Study
        With defaults filled in and data paths resolved against the file's folder.

    Raises
    ------
    InputError
        Naming the study file and the key (``groups[1].dose``, ``data.vonfrey``) for
        an unknown key, wrong type, missing key, inconsistent entries or a data file
        that does not exist.
    """
    from nplab.assays import registry

    p = Path(path)
    raw = _read(p)
    schema = _schema()
    assays = registry()
    gate = raw.get("design", {}).get("posthoc_gate") if isinstance(raw.get("design"), dict) else None
    if isinstance(gate, bool):  # posthoc_gate = true / false
        raw["design"] = {**raw["design"], "posthoc_gate": "omnibus" if gate else "none"}
    _check_keys(raw, schema, p)
    values = _validate_schema_table(raw, schema, p, "")
    option_tables = [n for n, a in assays.items() if a.options]
    for key in ("protocols", "analysis", "output", *option_tables):  # absent: fill fields' defaults
        if key not in raw:
            values[key] = _validate_schema_table({}, schema[key].fields or {}, p, f"{key}.")
    root = p.resolve().parent
    meta = values["study"]
    model = values["model"]
    proto = load_protocol(model["surgery_protocol"], kind="surgery")
    if proto["model"] != model["type"]:
        raise InputError(
            f"surgery protocol '{proto.name}' is for {proto['model']}",
            file=p,
            key="model.surgery_protocol",
            expected=f"a {model['type']} surgery protocol",
        )
    record = {k: v for k, v in model.items() if k in proto["record_fields"] and v is not None}
    record["model"] = model["type"]
    surgery = check_surgery_record(record, proto, file=str(p))
    groups = _groups(values["groups"], model["type"], p)
    if groups.empty:
        raise InputError("no groups", file=p, key="groups", expected="[[groups]] tables")
    timepoints = _timepoints(values["timepoints"], p)
    data: dict[str, Path] = {}
    for key in ["animals", *(k for k in raw["data"] if k != "animals")]:  # file order
        rel = values["data"][key]
        if rel is None:
            continue
        rel_file, sheet = split_sheet(rel)  # "book.xlsx#Sheet": that sheet of the workbook
        full = (root / rel_file).resolve()
        if not full.is_file():
            raise InputError(
                f"{rel_file!r} not found (looked for {full})",
                file=p,
                key=f"data.{key}",
                expected="a path relative to the study file",
            )
        data[key] = full if sheet is None else full.with_name(f"{full.name}#{sheet}")
    outcomes = values["outcomes"]
    if outcomes["primary"] not in data:
        raise InputError(
            f"the primary outcome is {outcomes['primary']} but [data] has no "
            f"{outcomes['primary']} table",
            file=p,
            key=f"data.{outcomes['primary']}",
        )
    labels = set(timepoints["label"])
    exclusions = values["exclusions"]
    for i, rule in enumerate(exclusions):
        name = f"exclusions[{i}]"
        if rule["timepoint"] is None:
            rule["timepoint"] = (
                str(timepoints.loc[timepoints["kind"] == "predose", "label"].iloc[0])
                if (timepoints["kind"] == "predose").any()
                else None
            )
        if rule["timepoint"] not in labels:
            raise InputError(
                f"time point {rule['timepoint']!r} is not declared",
                file=p,
                key=f"{name}.timepoint",
                expected=f"one of {', '.join(sorted(labels))}",
            )
        if rule["assay"] is None:
            rule["assay"] = outcomes["primary"]
            if not assays[rule["assay"]].per_animal:
                raise InputError(
                    f"the primary outcome {rule['assay']} has no per-animal measurements",
                    file=p,
                    key=f"{name}.assay",
                    expected="assay = one of " + ", ".join(
                        n for n, a in assays.items() if a.per_animal),
                )
        assays[rule["assay"]]().check_rule(rule, p, name)
        if rule.get("min_drop_pct") is not None and (timepoints["kind"] != "baseline").all():
            raise InputError(
                "min_drop_pct needs a baseline time point",
                file=p,
                key=f"{name}.min_drop_pct",
            )
        if rule["assay"] not in data:
            raise InputError(
                f"rule uses {rule['assay']} but [data] has no {rule['assay']} table",
                file=p,
                key=f"{name}.assay",
            )
    options = {n: values[n] or {} for n in option_tables}
    for n in option_tables:
        assays[n]().check_options(options[n], p)
    blinding = values["blinding"]
    if blinding and blinding.get("key"):
        key = root / blinding["key"]
        if not key.is_file():
            raise InputError(
                f"{blinding['key']!r} not found",
                file=p,
                key="blinding.key",
                expected="the unblinding key (columns code, group) beside the study file",
            )
    return Study(
        path=p.resolve(),
        root=root,
        name=meta["id"] or p.stem,
        meta=meta,
        model=model,
        surgery=surgery,
        surgery_protocol=proto,
        groups=groups,
        timepoints=timepoints,
        data=data,
        protocols=values["protocols"] or {},
        options=options,
        outcomes=outcomes,
        analysis=values["analysis"] or {},
        exclusions=exclusions,
        randomisation=values["randomisation"],
        blinding=blinding,
        raw=raw,
        output=values["output"] or {},
        design=_design(values.get("design") if "design" in raw else None, p),
    )
