"""Benchmark (issue 19.6): 1,000,000 von Frey series from an in-memory table.

Candidate: :func:`nplab.vonfrey.thresholds` on a DataFrame (lab-sheet style, one
``responses`` series per row; simulated Chaplan sessions from ``bench_vonfrey.simulate``).
Baseline: the 15-line loop a lab would write once it knows that patterns repeat -- walk
the rows and evaluate each distinct pattern once with nplab's own per-series function
(:func:`nplab.vonfrey.updown.evaluate_series`: same k, CI and status), caching by pattern,
then build the table.  Both give the same result columns (checked here; the test suite
checks the vectorised path against ``evaluate_series`` on a random table).  Target: the
candidate in <= 1/3 of the loop's time.

Run from the repo root: ``PYTHONPATH=src python benchmarks/bench_vonfrey_scale.py``
(``--rows N``, ``--repeats R``, ``--json FILE``).

Measured 2026-12-04 (shared box, medians of 5): nplab 0.437 s, cached loop 1.52 s:
3.5x (102 distinct patterns in 1e6 rows).  2026-12-05 (idle box, medians of 3): nplab
0.451 s, cached loop 1.401 s: 3.1x (0.32 of the loop's time).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _harness import compare
from bench_vonfrey import simulate

from nplab.protocols import load_protocol
from nplab.vonfrey import thresholds
from nplab.vonfrey.kits import kit_from_params
from nplab.vonfrey.updown import RESULT_COLUMNS, evaluate_series, resolve_kit_params

PROTOCOL = "vonfrey-updown-rat"


def cached_loop(data: pd.DataFrame) -> pd.DataFrame:
    """The per-pattern cached loop (the baseline)."""
    proto = load_protocol(PROTOCOL, kind="vonfrey")
    kit = kit_from_params(proto.params, file=proto.path)
    params = resolve_kit_params(kit, proto.params, file=proto.path)
    start = kit.index_of(proto.params["start_filament"], proto.params["filament_unit"])
    cache: dict[str, dict] = {}
    rows = []
    for pattern in data["responses"]:
        res = cache.get(pattern)
        if res is None:
            res = cache[pattern] = evaluate_series(pattern.upper(), start, kit, params)
        rows.append(res)
    return pd.DataFrame.from_records(rows, columns=RESULT_COLUMNS)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args, rest = ap.parse_known_args()
    data = simulate(args.rows)
    ours = thresholds(data, PROTOCOL, on_invalid="flag")[RESULT_COLUMNS]
    pd.testing.assert_frame_equal(ours, cached_loop(data), check_dtype=False)
    print(f"{args.rows} series: same result columns as the cached loop "
          f"({data['responses'].nunique()} distinct patterns)")
    compare(
        f"vonfrey thresholds, {args.rows} series from a DataFrame",
        lambda: thresholds(data, PROTOCOL, on_invalid="flag"),
        lambda: cached_loop(data),
        baseline_name="per-pattern cached loop (evaluate_series)",
        repeats=3,
        argv=rest,
    )


if __name__ == "__main__":
    main()
