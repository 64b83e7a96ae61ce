"""Protocol registry: named, versioned parameter files that the analyses load.

Each documented protocol is a Markdown file (for people) plus a TOML parameter file
(for the code) in the ``protocols/`` folder of the repository, shipped inside the wheel
as ``nplab/_protocols``.  A parameter file looks like::

    [protocol]
    name = "hargreaves-rat"
    version = "1.0.0"
    kind = "hargreaves"
    title = "Hargreaves plantar test, rat"
    references = ["Hargreaves et al. 1988, Pain 32:77-88"]

    [parameters]
    cutoff_s = 20.0

``kind`` selects the schema the parameters are validated against.  Schemas are plain
data (:class:`Param` per key) declared by the capability modules in a module-level
``PROTOCOL_SCHEMAS`` dict; the loader imports the module that owns the kind.  Unknown
keys, wrong types, out-of-range values and missing required keys are
:class:`~nplab.errors.ProtocolError` naming the file and the key.  Missing optional
keys take their documented default, so the resolved parameters are always complete.

Wherever a protocol name is accepted, a path to a user's own ``.toml`` file works too.
"""

from __future__ import annotations

import importlib
import importlib.resources
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nplab.errors import ProtocolError
from nplab.tables import sha256_file

__all__ = [
    "KIND_MODULES",
    "Param",
    "Protocol",
    "list_protocols",
    "load_protocol",
    "protocol_dirs",
    "validate_parameters",
    "validate_table",
]

#: Which module declares the schema of each protocol kind.
KIND_MODULES: dict[str, str] = {
    "surgery": "nplab.surgery",
    "vonfrey-updown": "nplab.vonfrey",
    "vonfrey-sudo": "nplab.vonfrey",
    "hargreaves": "nplab.hargreaves",
    "patchclamp": "nplab.ephys",
    "elisa": "nplab.elisa",
    "qpcr": "nplab.qpcr",
    "western": "nplab.western",
    **{
        k: "nplab.behaviour"
        for k in (
            "hot-plate",
            "tail-flick",
            "cold-plate",
            "rotarod",
            "acetone",
            "randall-selitto",
            "electronic-vonfrey",
            "weight-bearing",
            "formalin",
            "open-field",
            "vonfrey-percent",
        )
    },
    "currentclamp": "nplab.ephys.excitability",
}

_HEADER_KEYS = {"name", "version", "kind", "title", "description", "references"}
_TYPES = {"float", "int", "str", "bool", "list", "table", "list[table]", "dict"}
_MISSING = object()


@dataclass(frozen=True)
class Param:
    """Schema of one protocol parameter.

    Parameters
    ----------
    type
        One of ``float``, ``int``, ``str``, ``bool``, ``list`` (of ``item``),
        ``table`` (validated against ``fields``), ``list[table]`` (each item against
        ``fields``) or ``dict`` (free-form table, e.g. metadata).
    default
        Value used when the key is absent; ``required=True`` means there is none.
        ``None`` is allowed as a default meaning "not set".
    unit, doc
        Documentation, shown by ``nplab protocols show``.
    min, max
        Inclusive numeric bounds (for lists: applied to each item).
    choices
        Allowed values for ``str`` (or list items).
    item
        Item type of a ``list``: ``float``, ``int``, ``str`` or ``bool``.
    fields
        Sub-schema for ``table`` and ``list[table]``.
    int_as_text
        For ``str`` parameters that may be written as a whole number (an epoch index
        ``3`` as well as ``"3"`` or ``"D"``): integers are taken as their text.
    """

    type: str
    default: Any = None
    required: bool = False
    unit: str | None = None
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    item: str | None = None
    fields: Mapping[str, Param] | None = None
    int_as_text: bool = False

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"unknown parameter type {self.type!r}")


Schema = Mapping[str, Param]


@dataclass(frozen=True)
class Protocol:
    """A loaded, validated protocol.

    Attributes
    ----------
    name, version, kind, title
        From the ``[protocol]`` table; ``name`` and ``version`` are echoed into every
        result's provenance.
    params
        Resolved parameters (defaults filled in).
    path
        File the protocol was read from.
    sha256
        Hash of that file.
    references
        Literature the protocol follows.
    overrides
        Parameters changed from the file by the caller (recorded in provenance).
    """

    name: str
    version: str
    kind: str
    title: str
    params: dict[str, Any]
    path: str
    sha256: str
    references: tuple[str, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    def with_overrides(self, **overrides: Any) -> Protocol:
        """Return a copy with some parameters replaced (validated like the file)."""
        merged = {**self.params, **overrides}
        try:
            params = validate_parameters(merged, self.kind, file=self.path)
        except ProtocolError as exc:
            key = (exc.column or "").split(".")[0].split("[")[0]
            if key not in overrides:
                raise
            raise ProtocolError(  # the bad value came from the caller, not the file
                exc.reason,
                file=f"override of protocol '{self.name}' ({self.path})",
                key=exc.key, column=None if exc.key else exc.column,
                expected=exc.expected,
            ) from None
        return Protocol(
            name=self.name,
            version=self.version,
            kind=self.kind,
            title=self.title,
            params=params,
            path=self.path,
            sha256=self.sha256,
            references=self.references,
            overrides={**self.overrides, **overrides},
        )

    def provenance(self) -> dict[str, Any]:
        """The record of this protocol written into manifests and output rows."""
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "path": self.path,
            "sha256": self.sha256,
            "parameters": self.params,
            "overrides": self.overrides,
        }

    @property
    def label(self) -> str:
        """``name@version``, the short form written into output rows."""
        return f"{self.name}@{self.version}"


def protocol_dirs() -> list[Path]:
    """Folders searched for protocols by name: the installed copy, then the source tree."""
    dirs: list[Path] = []
    packaged = importlib.resources.files("nplab") / "_protocols"
    if packaged.is_dir():
        dirs.append(Path(str(packaged)))
    source = Path(__file__).resolve().parents[2] / "protocols"
    if source.is_dir() and source not in dirs:
        dirs.append(source)
    return dirs


def list_protocols() -> list[dict[str, str]]:
    """Name, version, kind and title of every protocol shipped with nplab."""
    seen: dict[str, dict[str, str]] = {}
    for d in protocol_dirs():
        for f in sorted(d.glob("*.toml")):
            if f.stem in seen:
                continue
            header = _read_toml(f).get("protocol", {})
            seen[f.stem] = {
                "name": str(header.get("name", f.stem)),
                "version": str(header.get("version", "")),
                "kind": str(header.get("kind", "")),
                "title": str(header.get("title", "")),
                "path": str(f),
            }
    return [seen[k] for k in sorted(seen)]


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    text = os.fspath(name_or_path)
    p = Path(text)
    if p.suffix.lower() == ".toml" or os.sep in text or "/" in text or p.is_file():
        if not p.is_file():
            raise ProtocolError("protocol file not found", file=p)
        return p
    for d in protocol_dirs():
        candidate = d / f"{text}.toml"
        if candidate.is_file():
            return candidate
    known = ", ".join(item["name"] for item in list_protocols())
    raise ProtocolError(
        f"no protocol named '{text}'", expected=f"one of {known}, or a path to a .toml file"
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"not valid TOML: {exc}", file=path) from None
    except OSError as exc:
        raise ProtocolError(f"cannot be read: {exc.strerror}", file=path) from None


def load_protocol(
    name_or_path: str | os.PathLike[str] | Protocol, *, kind: str | None = None, **overrides: Any
) -> Protocol:
    """Load and validate a protocol by name (``"vonfrey-updown-rat"``) or file path.

    Parameters
    ----------
    name_or_path
        A shipped protocol's name, a path to a ``.toml`` file, or an already loaded
        :class:`Protocol` (returned as is, with ``overrides`` applied).
    kind
        If given, the protocol must be of this kind (or of a kind starting with it,
        e.g. ``kind="vonfrey"`` accepts ``vonfrey-updown`` and ``vonfrey-sudo``).
    **overrides
        Parameters to replace after loading; validated like the file's.

    Raises
    ------
    ProtocolError
        Naming the file and the offending key.
    """
    if isinstance(name_or_path, Protocol):
        proto = name_or_path
    else:
        path = _resolve(name_or_path)
        data = _read_toml(path)
        proto = _build(data, path)
    if kind is not None and not proto.kind.startswith(kind):
        raise ProtocolError(
            f"protocol '{proto.name}' is of kind '{proto.kind}'",
            file=proto.path,
            key="protocol.kind",
            expected=f"a '{kind}' protocol",
        )
    return proto.with_overrides(**overrides) if overrides else proto


def _build(data: dict[str, Any], path: Path) -> Protocol:
    for key in data:
        if key not in {"protocol", "parameters"}:
            raise ProtocolError(
                f"unknown table [{key}]",
                file=path,
                key=key,
                expected="[protocol] and [parameters]",
            )
    header = data.get("protocol")
    if not isinstance(header, dict):
        raise ProtocolError(
            "missing [protocol] table", file=path, expected="name, version and kind"
        )
    for key in header:
        if key not in _HEADER_KEYS:
            raise ProtocolError(
                f"unknown key '{key}' in [protocol]",
                file=path,
                key=f"protocol.{key}",
                expected=f"one of {', '.join(sorted(_HEADER_KEYS))}",
            )
    for key in ("name", "version", "kind"):
        if not isinstance(header.get(key), str) or not header[key]:
            raise ProtocolError(
                "missing or not a string", file=path, key=f"protocol.{key}", expected="a string"
            )
    refs = header.get("references", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise ProtocolError(
            "must be a list of strings", file=path, key="protocol.references", expected="a list"
        )
    params = validate_parameters(data.get("parameters", {}), header["kind"], file=path)
    return Protocol(
        name=header["name"],
        version=header["version"],
        kind=header["kind"],
        title=str(header.get("title", "")),
        params=params,
        path=str(path),
        sha256=sha256_file(path),
        references=tuple(refs),
    )


def schema_for(kind: str, *, file: str | os.PathLike[str] | None = None) -> Schema:
    """The parameter schema of a protocol kind (imports the owning module)."""
    module_name = KIND_MODULES.get(kind)
    if module_name is None:
        raise ProtocolError(
            f"unknown protocol kind '{kind}'",
            file=file,
            key="protocol.kind",
            expected=f"one of {', '.join(sorted(KIND_MODULES))}",
        )
    module = importlib.import_module(module_name)
    return module.PROTOCOL_SCHEMAS[kind]


def validate_parameters(
    values: Mapping[str, Any], kind: str, *, file: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Validate ``values`` against the schema of ``kind``; return them with defaults filled."""
    if not isinstance(values, Mapping):
        raise ProtocolError("[parameters] must be a table", file=file, key="parameters")
    return validate_table(values, schema_for(kind, file=file), file, "")


def validate_table(
    values: Mapping[str, Any], schema: Schema, file: Any, prefix: str = ""
) -> dict:
    """Validate a table of ``values`` against ``schema`` (keys named ``prefix + key``)."""
    for key in values:
        if key not in schema:
            raise ProtocolError(
                f"unknown key '{prefix}{key}'",
                file=file,
                key=f"{prefix}{key}",
                expected=f"one of {', '.join(sorted(schema))}",
            )
    out: dict[str, Any] = {}
    for key, spec in schema.items():
        name = f"{prefix}{key}"
        value = values.get(key, _MISSING)
        if value is _MISSING:
            if spec.required:
                raise ProtocolError("required key is missing", file=file, key=name)
            value = spec.default
            out[key] = list(value) if isinstance(value, tuple) else value
            continue
        out[key] = _validate_value(value, spec, file, name)
    return out


def _check_scalar(value: Any, typ: str, spec: Param, file: Any, name: str) -> Any:
    if typ == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
        ok = ok and math.isfinite(value)
    elif typ == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif typ == "str":
        if spec.int_as_text and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, bool)
    if not ok:
        raise ProtocolError(
            f"{value!r} has the wrong type", file=file, key=name, expected=f"a {typ}"
        )
    if spec.min is not None and typ in {"float", "int"} and value < spec.min:
        raise ProtocolError(
            f"{value!r} is out of range", file=file, key=name, expected=f">= {spec.min}"
        )
    if spec.max is not None and typ in {"float", "int"} and value > spec.max:
        raise ProtocolError(
            f"{value!r} is out of range", file=file, key=name, expected=f"<= {spec.max}"
        )
    if spec.choices is not None and value not in spec.choices:
        raise ProtocolError(
            f"{value!r} is not allowed",
            file=file,
            key=name,
            expected=f"one of {', '.join(map(repr, spec.choices))}",
        )
    return value


def _validate_value(value: Any, spec: Param, file: Any, name: str) -> Any:
    if value is None and not spec.required:
        return None
    if spec.type in {"float", "int", "str", "bool"}:
        return _check_scalar(value, spec.type, spec, file, name)
    if spec.type == "list":
        if not isinstance(value, list):
            raise ProtocolError(
                "must be a list", file=file, key=name, expected=f"a list of {spec.item}"
            )
        return [
            _check_scalar(v, spec.item or "str", spec, file, f"{name}[{i}]")
            for i, v in enumerate(value)
        ]
    if spec.type == "dict":
        if not isinstance(value, dict):
            raise ProtocolError("must be a table", file=file, key=name, expected="a table")
        return dict(value)
    if spec.type == "table":
        if not isinstance(value, dict):
            raise ProtocolError("must be a table", file=file, key=name, expected="a table")
        return validate_table(value, spec.fields or {}, file, f"{name}.")
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ProtocolError(
            "must be an array of tables", file=file, key=name, expected="[[...]] tables"
        )
    return [
        validate_table(v, spec.fields or {}, file, f"{name}[{i}].") for i, v in enumerate(value)
    ]


def describe_schema(kind: str) -> list[dict[str, Any]]:
    """Rows (key, type, default, unit, range, doc) documenting a kind's parameters."""
    rows: list[dict[str, Any]] = []

    def walk(schema: Schema, prefix: str) -> None:
        for key, spec in schema.items():
            rng = ""
            if spec.min is not None or spec.max is not None:
                rng = f"[{'' if spec.min is None else spec.min}, {'' if spec.max is None else spec.max}]"
            if spec.choices:
                rng = " | ".join(map(str, spec.choices))
            rows.append(
                {
                    "key": prefix + key,
                    "type": spec.type if spec.type != "list" else f"list[{spec.item}]",
                    "default": "(required)" if spec.required else spec.default,
                    "unit": spec.unit or "",
                    "allowed": rng,
                    "doc": spec.doc,
                }
            )
            if spec.fields and spec.type in {"table", "list[table]"}:
                walk(spec.fields, prefix + key + ("[]." if spec.type == "list[table]" else "."))

    walk(schema_for(kind), "")
    return rows
