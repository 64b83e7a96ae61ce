"""Benchmark (issue 19.4): Western blot statistics (blot random-intercept LMM) at 1x/3x/10x.

The sample study's Western table (``sample_data/cci/western.csv``, groups from the animals
table) is replicated as ``bench_scaling.py`` does (new animal ids, blots copied), normalised
with the ``western-densitometry`` protocol and passed to :func:`nplab.western.statistics`
(one mixed model per measure).  Prints the median wall time of each size and the growth
exponent ``b`` of ``time ~ blots**b`` (least squares on the log-log points).

Run from the repo root: ``python benchmarks/bench_western_lmm.py [--scales 1 3 10] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_scaling import SAMPLE, _replicate


def _table(scale: int) -> pd.DataFrame:
    bands = pd.read_csv(SAMPLE / "cci" / "western.csv")
    animals = pd.read_csv(SAMPLE / "cci" / "animals.csv", dtype=str)[["animal", "group"]]
    bands = bands.merge(animals, on="animal")
    return _replicate(bands, scale)


def main() -> None:
    from nplab.protocols import load_protocol
    from nplab.western import normalise_with_protocol
    from nplab.western import statistics as western_stats

    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 3, 10])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    params = load_protocol("western-densitometry").params
    pts = []
    for scale in args.scales:
        table = _table(scale)
        control = sorted(set(table["group"]))[0]
        norm, _ = normalise_with_protocol(table, params, control=control)
        times = []
        western_stats(norm, control)  # warm-up (imports)
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            western_stats(norm, control)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        pts.append((table["blot"].nunique(), med))
        print(f"{scale:>3}x  blots {pts[-1][0]:>4}  median {med:8.3f} s  (min {min(times):.3f})", flush=True)
    if len(pts) > 1:
        lx = [math.log(b) for b, _ in pts]
        ly = [math.log(t) for _, t in pts]
        mx, my = statistics.fmean(lx), statistics.fmean(ly)
        b = sum((x - mx) * (y - my) for x, y in zip(lx, ly, strict=True)) / sum((x - mx) ** 2 for x in lx)
        print(f"exponent b (time ~ blots**b): {b:.2f}")


if __name__ == "__main__":
    main()
