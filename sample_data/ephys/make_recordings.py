"""Generate the sample patch-clamp recordings (ABF1) with known truth.

Usage (from the repository root)::

    PYTHONPATH=src python sample_data/ephys/make_recordings.py [OUTDIR] [--seed N]

Writes the ABF files, ``truth.csv`` (one row per file × concentration, with the true
apparent IC50, Hill slope, K_R/K_I/h, run-down, Ra/Rm/Cm and expected QC outcome) and
``experiment.csv`` (the experiment table of the one-file-per-concentration layout:
``cell``, ``file``, ``drug``, ``conc_um``, ``holding_mv``, ``condition``).  Output is
byte-identical for the same seed (see nplab.ephys.synth).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nplab.ephys.synth import make_sample_recordings
from nplab.provenance import DEFAULT_SEED
from nplab.tables import write_table

EXPERIMENT_COLUMNS = ["cell", "file", "drug", "conc_um", "holding_mv", "condition"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", nargs="?", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    out = Path(args.outdir)
    truth = make_sample_recordings(out, seed=args.seed)
    write_table(truth, out / "truth.csv")
    per_file = truth[truth["layout"] == "per-file"]
    write_table(per_file[EXPERIMENT_COLUMNS], out / "experiment.csv")
    print(f"wrote {truth['file'].nunique()} ABF files, truth.csv and experiment.csv to {out}")


if __name__ == "__main__":
    main()
