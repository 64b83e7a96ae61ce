"""Allocation lists: seeded, stratified block randomisation with blinded group codes.

Every study starts with an allocation of animals to treatment groups.  nplab makes it
reproducible: animals are allocated by **permuted-block randomisation within strata**
(e.g. sex, cage, or bins of a baseline threshold): within each stratum the animals, in
the order of the animals table, fill consecutive blocks of ``block_size`` places
(a multiple of the number of groups), each block holding every group equally often in
a random order (Altman & Bland 1999; Efird 2011).  The last block of a stratum may be
incomplete (its places are the first ones of a random full block), so group sizes within
a stratum differ by at most ``block_size / n_groups``.

The group names are then replaced by blinded codes (``A``, ``B``, ... in a random
order), so the person dosing and testing sees only the codes.  Outputs are what the rest
of nplab reads: the *unblinding key* (``code``, ``group``; :func:`nplab.blinding.read_key`)
and a *blinded animals table* (``group`` holding the code; :func:`nplab.animals.read_animals`),
plus a record of the method, seed, block size and strata for the report - the items the
NC3Rs Experimental Design Assistant and ARRIVE 2.0 Essential 10 item 4 (randomisation)
ask for.

Randomness comes from ``numpy.random.default_rng(seed)`` (PCG64) only: the same table,
groups, strata, block size and seed give the same allocation.

References
----------
Altman DG, Bland JM (1999) How to randomise. BMJ 319:703-704.
Efird J (2011) Blocked randomization with randomly selected block sizes. Int J Environ
Res Public Health 8:15-20.
Percie du Sert N et al. (2020) The ARRIVE guidelines 2.0. PLoS Biol 18:e3000410 (item 4).
du Sert NP et al. (2017) The Experimental Design Assistant. Nat Methods 14:1024-1025.
"""

from __future__ import annotations

import os
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nplab.checks import raise_first_bad
from nplab.errors import InputError
from nplab.tables import read_table

__all__ = ["Allocation", "randomise"]


@dataclass(frozen=True)
class Allocation:
    """Result of :func:`randomise`.

    Attributes
    ----------
    table
        One row per animal, input order: the input columns, ``stratum``, ``block``,
        ``group`` (the allocated treatment) and ``code`` (its blinded label).
    key
        Unblinding key: ``code``, ``group`` (one row per group).
    blinded
        The animals table for the study runner: input columns with ``group`` = code.
    record
        Method, seed, block size, strata, groups and counts, ``statement`` (a
        sentence for the report's Methods, ARRIVE 2.0 item 4) and ``study_file`` (the
        study file's ``[randomisation]`` table).
    """

    table: pd.DataFrame
    key: pd.DataFrame
    blinded: pd.DataFrame
    record: dict[str, Any] = field(default_factory=dict)


def _codes(n: int) -> list[str]:
    letters = string.ascii_uppercase
    if n <= len(letters):
        return list(letters[:n])
    return [f"G{i + 1:02d}" for i in range(n)]


def randomise(
    animals: str | os.PathLike[str] | pd.DataFrame,
    groups: Sequence[str],
    *,
    seed: int,
    strata: Sequence[str] = (),
    block_size: int | None = None,
    baseline: str | None = None,
    baseline_bins: int = 2,
) -> Allocation:
    """Allocate animals to groups by seeded, stratified permuted-block randomisation.

    Parameters
    ----------
    animals
        Animals table (CSV/XLSX path or DataFrame) with an ``animal`` column and the
        strata columns; it must not already hold a ``group`` column.
    groups
        Treatment group names (at least 2, distinct).
    seed
        Seed of the random generator (recorded; the same seed gives the same list).
    strata
        Columns to stratify by (e.g. ``["sex"]``, ``["sex", "cage"]``).
    block_size
        Places per block, a multiple of ``len(groups)`` (default: ``len(groups)``).
    baseline
        Optional numeric column (e.g. a baseline 50 % threshold) to stratify by, in
        ``baseline_bins`` quantile bins over all animals (``baseline_bin`` stratum).

    Returns
    -------
    Allocation

    Raises
    ------
    InputError
        Missing or duplicate animals, missing strata columns, blank stratum cells,
        a non-numeric baseline, repeated or too few groups, a block size that is not a
        multiple of the number of groups, an input that already has groups.
    """
    df = animals.copy() if isinstance(animals, pd.DataFrame) else read_table(animals)
    src = df.attrs.get("source")
    df.columns = [str(c).strip() for c in df.columns]
    groups = [str(g).strip() for g in groups]
    if len(groups) < 2 or any(not g for g in groups):
        raise InputError(
            f"{len(groups)} group(s) given", column="--groups", expected="two or more group names"
        )
    if len(set(groups)) != len(groups):
        raise InputError("a group is named twice", column="--groups", expected="distinct names")
    k = len(groups)
    block = k if block_size is None else int(block_size)
    if block < k or block % k:
        raise InputError(
            f"block size {block} is not a multiple of the {k} groups",
            column="--block-size",
            expected=f"a multiple of {k}",
        )
    if "animal" not in df.columns:
        raise InputError("required column is missing", file=src, column="animal")
    if "group" in df.columns:
        raise InputError(
            "the animals table already has a group column",
            file=src,
            column="group",
            expected="an animals table before allocation (remove or rename 'group')",
        )
    if df.empty:
        raise InputError("the table has no animals", file=src, expected="one row per animal")
    df["animal"] = df["animal"].astype("string").str.strip()
    raise_first_bad(
        df["animal"].isna() | (df["animal"] == ""),
        "blank cell",
        file=src,
        column="animal",
        expected="an animal identifier",
    )
    raise_first_bad(
        df["animal"].duplicated(),
        lambda i: f"animal {df['animal'].iloc[i]!r} appears twice",
        file=src,
        column="animal",
        expected="one row per animal",
    )
    strata = [str(s) for s in strata]
    for col in strata:
        if col not in df.columns:
            raise InputError("stratum column is missing", file=src, column=col)
        text = df[col].astype("string").str.strip()
        raise_first_bad(
            text.isna() | (text == ""),
            "blank stratum cell",
            file=src,
            column=col,
            expected=f"a {col} for every animal",
        )
    keys = list(strata)
    if baseline is not None:
        if baseline not in df.columns:
            raise InputError("baseline column is missing", file=src, column=baseline)
        values = pd.to_numeric(df[baseline], errors="coerce")
        raise_first_bad(
            values.isna(),
            lambda i: f"{df[baseline].iloc[i]!r} is not a number",
            file=src,
            column=baseline,
            expected="a baseline value for every animal",
        )
        df["baseline_bin"] = (
            pd.qcut(values.rank(method="first"), baseline_bins, labels=False).astype(int) + 1
        )
        keys.append("baseline_bin")

    gen = np.random.default_rng(seed)
    codes = _codes(k)
    code_of = dict(zip(groups, gen.permutation(codes).tolist(), strict=True))
    stratum = (
        df[keys].astype(str).agg(" / ".join, axis=1) if keys else pd.Series("all", index=df.index)
    )
    group_col = np.empty(len(df), dtype=object)
    block_col = np.zeros(len(df), dtype=np.int64)
    for label in pd.unique(stratum):
        idx = np.flatnonzero((stratum == label).to_numpy())
        for b, start in enumerate(range(0, idx.size, block)):
            places = gen.permutation(np.repeat(np.arange(k), block // k))
            take = idx[start : start + block]
            group_col[take] = [groups[j] for j in places[: take.size]]
            block_col[take] = b + 1
    out = df.copy()
    out["stratum"] = stratum.to_numpy()
    out["block"] = block_col
    out["group"] = group_col
    out["code"] = [code_of[g] for g in group_col]
    key = pd.DataFrame({"code": [code_of[g] for g in groups], "group": groups}).sort_values(
        "code", ignore_index=True
    )
    blinded = df.drop(columns=["baseline_bin"], errors="ignore").copy()
    blinded.insert(1, "group", out["code"].to_numpy())

    counts = out.groupby(["stratum", "group"], sort=False).size()
    record = {
        "method": "permuted-block randomisation within strata",
        "seed": int(seed),
        "generator": "numpy.random.default_rng (PCG64)",
        "block_size": block,
        "strata": keys,
        "baseline": baseline,
        "baseline_bins": baseline_bins if baseline is not None else None,
        "groups": groups,
        "n_animals": len(out),
        "n_per_group": {g: int((out["group"] == g).sum()) for g in groups},
        "n_per_stratum_group": {f"{s} | {g}": int(n) for (s, g), n in counts.items()},
        "blinding": "group names replaced by random codes; key kept separately",
    }
    by = " and ".join(keys) if keys else "no stratification"
    record["statement"] = (
        f"{len(out)} animals were allocated to {k} groups ({', '.join(groups)}) by "
        f"permuted-block randomisation (block size {block}) "
        + (f"stratified by {by}" if keys else "without stratification")
        + f", generated with nplab randomise (numpy PCG64, seed {seed}); group names were "
        f"replaced by codes {', '.join(sorted(codes))}, with the unblinding key written to a "
        "separate file (ARRIVE 2.0 items 4 and 5)."
    )
    # the study file's [randomisation] table (nplab.study), ready to paste
    record["study_file"] = {
        "method": f"permuted-block randomisation, block size {block}, "
        + (f"stratified by {by}" if keys else "unstratified"),
        "sequence": f"computer-generated: nplab randomise, numpy PCG64, seed {seed}",
        "seed": int(seed),
        "unit": "animal",
    }
    return Allocation(table=out.reset_index(drop=True), key=key, blinded=blinded, record=record)
