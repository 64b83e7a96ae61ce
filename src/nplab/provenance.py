"""Provenance records: what went into a result and what produced it.

A manifest is a JSON document with the sha256 of every input, the resolved protocol
parameters with their names and versions, the versions of nplab and its dependencies,
the command line, and the sha256 of every output.  Keys are sorted and floats written
by ``json`` so the same run gives the same bytes, except ``created`` (UTC time), which
honours ``SOURCE_DATE_EPOCH`` (reproducible-builds.org) when set so that reruns can be
byte-identical too.

Randomness: every stochastic computation in nplab takes a ``seed`` argument that
defaults to :data:`DEFAULT_SEED` and builds its own ``numpy.random.Generator``
(:func:`rng`); nplab never uses global random state.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nplab.errors import split_sheet
from nplab.protocols import Protocol
from nplab.tables import atomic_write, sha256_file

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DEFAULT_SEED", "build_manifest", "package_versions", "rng", "write_manifest"]

#: Seed used by every stochastic step unless the caller gives another.
DEFAULT_SEED = 20260101

_PACKAGES = ("nplab", "numpy", "scipy", "pandas", "statsmodels", "pyabf", "matplotlib", "click")


def rng(seed: int | None = None) -> np.random.Generator:
    """A fresh PCG64 generator seeded with ``seed`` (default :data:`DEFAULT_SEED`)."""
    import numpy as np

    return np.random.default_rng(DEFAULT_SEED if seed is None else seed)


def package_versions(extra: Iterable[str] = ()) -> dict[str, str]:
    """Installed versions of nplab, its dependencies and ``extra`` packages."""
    out = {"python": platform.python_version()}
    for name in (*_PACKAGES, *extra):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    if out.get("nplab") == "not installed":  # running from a source tree
        from nplab import __version__

        out["nplab"] = __version__
    return out


def _created() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC)
        if epoch
        else _dt.datetime.now(tz=_dt.UTC).replace(microsecond=0)
    )
    return when.isoformat()


def _file_record(path: str | os.PathLike[str], root: Path | None) -> dict[str, Any]:
    file, sheet = split_sheet(path)  # book.xlsx#Sheet: the workbook, and which sheet
    p = Path(file)
    shown = str(p)
    if root is not None:
        try:
            shown = str(p.resolve().relative_to(root.resolve()))
        except ValueError:
            shown = str(p)
    record = {"path": shown, "bytes": p.stat().st_size, "sha256": sha256_file(p)}
    if sheet is not None:
        record["sheet"] = sheet
    return record


def build_manifest(
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    outputs: Iterable[str | os.PathLike[str]] = (),
    protocols: Iterable[Protocol] = (),
    parameters: Mapping[str, Any] | None = None,
    command: list[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    output_root: str | os.PathLike[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble a provenance record.

    Parameters
    ----------
    inputs, outputs
        Files read and written; each gets path, size and sha256.
    protocols
        Protocols used; their names, versions, hashes and resolved parameters.
    parameters
        Any other analysis parameters (CLI options, seeds).
    command
        The command line (defaults to ``sys.argv``).
    root, output_root
        Paths are recorded relative to these folders when given.
    extra
        Further JSON-serialisable fields.
    """
    root_p = Path(root) if root is not None else None
    out_root = Path(output_root) if output_root is not None else None
    record: dict[str, Any] = {
        "nplab_manifest": 1,
        "created": _created(),
        "command": list(sys.argv if command is None else command),
        "versions": package_versions(),
        "platform": platform.platform(),
        "seed": DEFAULT_SEED,
        "inputs": [_file_record(p, root_p) for p in inputs],
        "protocols": [p.provenance() for p in protocols],
        "parameters": dict(parameters or {}),
        "outputs": [_file_record(p, out_root) for p in outputs],
    }
    if extra:
        record.update(extra)
    return record


def write_manifest(record: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a manifest atomically as sorted, indented JSON."""
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(record, fh, indent=2, sort_keys=True, default=_json_default)
        fh.write("\n")
    return Path(path)


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
