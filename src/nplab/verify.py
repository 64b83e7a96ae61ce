"""``nplab verify OUTDIR/manifest.json``: is this result reproducible from its inputs?

Three checks, all reported (not only the first failure):

1. every input recorded in the manifest still exists with the recorded sha256;
2. the outputs on disk still have the recorded sha256 (nothing edited afterwards);
3. the study is rerun into a temporary folder and every output is compared byte for
   byte with the manifest: identical, different, missing from the rerun, or new.

Across releases or machines the last digits of a floating-point result can move (a
faster quadrature, another BLAS); ``rtol``/``atol`` then accept a CSV table whose
bytes differ when it has the same columns, rows and text and every number agrees
within ``|rerun - recorded| <= atol + rtol * |recorded|`` (NaN only matches NaN).  Such
tables are listed with their largest differences, never silently counted as identical.

The manifest itself is not compared (it records the time of the run).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nplab.errors import InputError, NplabError
from nplab.tables import sha256_file

__all__ = ["VerifyResult", "table_difference", "verify"]


@dataclass
class VerifyResult:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    ok
        True when inputs match, outputs on disk match and the rerun is byte-identical.
    inputs_changed
        ``(path, problem)`` for inputs missing or with another sha256.
    outputs_tampered
        Outputs in OUTDIR whose bytes no longer match the manifest.
    outputs_deleted
        Outputs in the manifest that are no longer in OUTDIR.
    outputs_differ
        Outputs the rerun wrote with different bytes.
    outputs_missing, outputs_new
        Outputs in the manifest the rerun did not write, and the reverse.
    identical
        Outputs the rerun reproduced byte for byte.
    within_tolerance
        ``(path, max absolute difference, max relative difference)`` of CSV tables whose
        bytes differ but whose numbers agree within the tolerance asked for.
    rerun_error
        The error message when the rerun itself failed (e.g. an edited input that
        no longer validates); every output then counts as not reproduced.
    """

    manifest: Path
    study: Path | None = None
    inputs_changed: list[tuple[str, str]] = field(default_factory=list)
    outputs_tampered: list[str] = field(default_factory=list)
    outputs_deleted: list[str] = field(default_factory=list)
    outputs_differ: list[str] = field(default_factory=list)
    outputs_missing: list[str] = field(default_factory=list)
    outputs_new: list[str] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)
    within_tolerance: list[tuple[str, float, float]] = field(default_factory=list)
    rerun_error: str | None = None

    @property
    def ok(self) -> bool:
        return not (
            self.rerun_error
            or self.inputs_changed
            or self.outputs_tampered
            or self.outputs_deleted
            or self.outputs_differ
            or self.outputs_missing
            or self.outputs_new
        )

    def lines(self) -> list[str]:
        """Human-readable report, one finding per line."""
        out = [f"manifest: {self.manifest}", f"study: {self.study}"]
        out += [f"INPUT CHANGED  {p}: {why}" for p, why in self.inputs_changed]
        out += [f"OUTPUT EDITED  {p} (differs from the manifest)" for p in self.outputs_tampered]
        out += [f"MISSING        {p} (deleted from the output folder since the run)"
                for p in self.outputs_deleted]
        out += [f"DIFFERS        {p}" for p in self.outputs_differ]
        out += [f"WITHIN TOL.    {p} (numbers differ by at most {a:.3g} absolute, "
                f"{r:.3g} relative)" for p, a, r in self.within_tolerance]
        out += [f"NOT REPRODUCED {p} (the rerun did not write it)" for p in self.outputs_missing]
        out += [f"NEW OUTPUT     {p} (not in the manifest)" for p in self.outputs_new]
        if self.rerun_error:
            out.append(f"RERUN FAILED   {self.rerun_error}")
        n = len(self.identical)
        n_diff = len(self.outputs_differ) + len(self.outputs_missing) + len(self.outputs_new)
        tol = len(self.within_tolerance)
        verdict = (
            (f"OK: all {n} outputs reproduced byte for byte" if not tol else
             f"OK: {n} outputs reproduced byte for byte, {tol} table(s) within tolerance")
            if self.ok
            else f"FAILED: rerun reproduced {n} outputs and differs in {n_diff}; "
            f"{len(self.inputs_changed)} input(s) changed, "
            f"{len(self.outputs_tampered)} output(s) edited and "
            f"{len(self.outputs_deleted)} deleted since the run"
        )
        return [*out, verdict]


def _load(manifest: Path) -> dict[str, Any]:
    if not manifest.is_file():
        raise InputError("manifest not found", file=manifest)
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", file=manifest) from None
    if not isinstance(record, dict) or "study" not in record or "outputs" not in record:
        raise InputError(
            "not the manifest of an 'nplab run'",
            file=manifest,
            expected="OUTDIR/manifest.json written by nplab run",
        )
    return record


def _study_path(record: dict[str, Any], manifest: Path) -> Path:
    info = record["study"]
    candidates = [Path(info.get("path", ""))]
    rel = info.get("relative_to_outdir")
    if rel:
        candidates.append((manifest.parent / rel).resolve())
    for c in candidates:
        if c.is_file():
            return c
    raise InputError(
        "the study file of this run is not found",
        file=manifest,
        column="study.path",
        expected=" or ".join(str(c) for c in candidates),
    )


def verify(
    manifest: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    keep: str | os.PathLike[str] | None = None,
    rtol: float = 0.0,
    atol: float = 0.0,
) -> VerifyResult:
    """Check a run's inputs and outputs against its manifest and rerun it.

    Parameters
    ----------
    manifest
        ``OUTDIR/manifest.json`` written by :func:`nplab.runner.run_study`.
    jobs, scheduler
        Passed to the rerun (results do not depend on them).
    keep
        Folder for the rerun's outputs (default: a temporary folder, deleted).
    rtol, atol
        Numeric tolerance for CSV tables whose bytes differ (see the module notes);
        0 (the default): byte for byte only.

    Returns
    -------
    VerifyResult
        ``.ok`` tells whether everything matched; ``.lines()`` says what differs.

    Raises
    ------
    InputError
        When the manifest is unreadable or the study file cannot be found.
    """
    import math

    from nplab.runner import run_study

    if not (math.isfinite(rtol) and math.isfinite(atol) and rtol >= 0 and atol >= 0):
        raise InputError(f"tolerance rtol={rtol!r}, atol={atol!r}", column="rtol/atol",
                         expected="finite numbers >= 0")
    mpath = Path(manifest).resolve()
    record = _load(mpath)
    study = _study_path(record, mpath)
    result = VerifyResult(manifest=mpath, study=study)
    root = study.parent
    for item in record.get("inputs", []):
        p = Path(item["path"])
        full = p if p.is_absolute() else root / p
        if not full.is_file():
            result.inputs_changed.append((item["path"], "missing"))
        elif sha256_file(full) != item["sha256"]:
            result.inputs_changed.append((item["path"], "sha256 differs from the manifest"))
    expected = {o["path"]: o["sha256"] for o in record["outputs"]}
    outdir = mpath.parent
    for rel, digest in sorted(expected.items()):
        f = outdir / rel
        if not f.is_file():
            result.outputs_deleted.append(rel)
        elif sha256_file(f) != digest:
            result.outputs_tampered.append(rel)
    with tempfile.TemporaryDirectory(prefix="nplab-verify-") as tmp:
        target = Path(keep) if keep is not None else Path(tmp) / "rerun"
        try:
            rerun = run_study(study, target, jobs=jobs, scheduler=scheduler,
                              cohort=record["study"].get("cohort"))
        except NplabError as exc:
            # e.g. an edited input that no longer validates: still report which
            # inputs changed, and that no output could be reproduced.
            result.rerun_error = str(exc)
            result.outputs_missing = sorted(expected)
            return result
        produced = set(rerun.outputs)
        for rel in sorted(expected):
            if rel not in produced:
                result.outputs_missing.append(rel)
            elif sha256_file(target / rel) == expected[rel]:
                result.identical.append(rel)
            elif (rtol or atol) and rel.endswith(".csv") and rel not in result.outputs_tampered \
                    and (outdir / rel).is_file() \
                    and (diff := table_difference(outdir / rel, target / rel, rtol, atol)):
                result.within_tolerance.append((rel, *diff))
            else:
                result.outputs_differ.append(rel)
        result.outputs_new = sorted(produced - set(expected))
    return result


def table_difference(recorded: Path, rerun: Path, rtol: float, atol: float = 0.0
                     ) -> tuple[float, float] | None:
    """``(max absolute, max relative difference)`` of the numbers of two CSV tables, or
    None when they differ beyond ``atol + rtol * |recorded|``, in shape, column names
    or any non-numeric cell (NaN matches only NaN)."""
    import numpy as np
    import pandas as pd

    try:
        a = pd.read_csv(recorded, keep_default_na=False, dtype=str)
        b = pd.read_csv(rerun, keep_default_na=False, dtype=str)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return None
    worst_abs = worst_rel = 0.0
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        same = x == y
        if same.all():
            continue
        xn = pd.to_numeric(pd.Series(x[~same]), errors="coerce").to_numpy(float)
        yn = pd.to_numeric(pd.Series(y[~same]), errors="coerce").to_numpy(float)
        if np.isnan(xn).any() or np.isnan(yn).any():  # text, or NaN against a number
            return None
        with np.errstate(invalid="ignore"):
            d = np.abs(yn - xn)
            inf = np.isinf(xn) | np.isinf(yn)
            if (inf & (xn != yn)).any():
                return None
            d = np.where(inf, 0.0, d)
            if (d > atol + rtol * np.abs(xn)).any():
                return None
            worst_abs = max(worst_abs, float(d.max()))
            rel = np.divide(d, np.abs(xn), out=np.zeros_like(d), where=xn != 0)
            worst_rel = max(worst_rel, float(rel.max()))
    return worst_abs, worst_rel
