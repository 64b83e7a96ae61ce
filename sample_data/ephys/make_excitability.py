"""Generate the sample current-clamp recordings (ABF1, Wang–Buzsáki neurons) with truth.

Usage (from the repository root)::

    PYTHONPATH=src python sample_data/ephys/make_excitability.py [--seed N]

Three animals each of Sham + vehicle, CCI + vehicle and CCI + amitriptyline 10 mg/kg
(the first three of each group in ``sample_data/cci/animals.csv``), two DRG cells per
animal, one step family per cell (−40 to +55 pA in 5 pA, 300 ms).  Nerve injury raises
g_Na (×1.3: lower rheobase), amitriptyline blocks it back (×1.05), so the truth is
rheobase(CCI + vehicle) < rheobase(Sham) ≈ rheobase(CCI + amitriptyline): treatment
raises rheobase.  Writes ``cc/*.abf``, ``excitability.csv`` (file, cell, animal) and
``excitability_truth.csv`` (with g_Na scale, area and the true rheobase on a 0.5 pA
grid).  Output is identical for the same seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from nplab.ephys.ccsynth import SAMPLE_GNA, make_sample_cells
from nplab.provenance import DEFAULT_SEED
from nplab.tables import write_table

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    animals = pd.read_csv(HERE.parent / "cci" / "animals.csv", dtype=str)
    key = pd.read_csv(HERE.parent / "cci" / "unblinding_key.csv", dtype=str)
    code_to_group = dict(zip(key["code"], key["group"], strict=True))
    picks = []
    for group in SAMPLE_GNA:
        ids = animals.loc[animals["group"].map(code_to_group) == group, "animal"].tolist()[:3]
        picks += [(a, group) for a in ids]
    rows = make_sample_cells(HERE / "cc", picks, seed=args.seed)
    truth = pd.DataFrame(rows)
    truth["file"] = "cc/" + truth["file"]
    write_table(truth[["file", "cell", "animal"]], HERE / "excitability.csv")
    write_table(truth, HERE / "excitability_truth.csv")


if __name__ == "__main__":
    main()
