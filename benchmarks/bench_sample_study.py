"""Benchmark (issue 19.3): the sample study end to end, this tree against the v0 release.

The study file and data of the sample study as they were at the release before the
speed work (git commit ``2d784b9``: von Frey, Hargreaves, patch clamp) are kept in
``benchmarks/data/sample_study_v0/``.  Each repeat runs, in fresh processes and
interleaved so that the shared machine's load hits both alike:

1. the v0 release (``git archive 2d784b9 src protocols`` into a temporary folder,
   ``PYTHONPATH`` pointing at it) on the v0 study;
2. this tree (``PYTHONPATH=src``) on the same v0 study -- the ratio new / old of the
   medians is the issue's number (target <= 0.35);
3. this tree on today's grown sample study (``sample_data/cci_study.toml``, every assay).

Wall time and CPU time (user + sys of the child, less sensitive to other jobs on the
machine) are both reported.  Each run is ``python -m nplab run STUDY -o OUT``.  The
script also says how many of the v0 run's tables this tree reproduces byte for byte.

Run from the repo root: ``python benchmarks/bench_sample_study.py [--repeats 5] [--json F]``.

Measured 2026-12-04 on the shared 2-core box (load ~2), 3 interleaved repeats: v0 release
10.64 s wall / 11.07 s CPU; this tree on the v0 study 5.30 s / 5.23 s (ratio 0.50 wall,
0.47 CPU: target 0.35 not reached -- imports ~1.6 s and figures ~2 s remain, see the perf
note); grown sample study (11 assays, 87 outputs) 10.37 s / 10.23 s.

Measured 2026-12-05 on the idle 2-core box, 5 interleaved repeats (medians): v0 release
8.93 s wall / 11.99 s CPU; this tree on the v0 study 2.70 s / 4.79 s -- ratio 0.302 wall
(target <= 0.35 met), 0.399 CPU (the work now spread over child processes costs some
CPU twice: each child imports what it needs); grown sample study 6.61 s / 11.77 s.
What got it there: Dunnett's exact integral by fixed-node quadrature (19.1), no
scipy.stats/statsmodels on the run path, figures saved by forked children while the next
assay analyses, every assay but the first read in a forked child (the patch-clamp batch
no longer blocks the behaviour analyses), and the console run ending without the
interpreter's ~0.25 s module teardown.  The 13 of 21 v0 tables that differ in bytes
differ by issue 13/14 corrections and, for the Dunnett tables, in the 12th digit of p
(``nplab verify --rtol`` lists them).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import run_child

REPO = Path(__file__).resolve().parents[1]
V0_COMMIT = "2d784b9"
V0_STUDY = REPO / "benchmarks" / "data" / "sample_study_v0" / "cci_study.toml"
GROWN_STUDY = REPO / "sample_data" / "cci_study.toml"


def checkout_release(commit: str, dest: Path) -> Path:
    """Extract ``src`` and ``protocols`` of ``commit`` into ``dest``; its ``src`` path."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "src", "protocols"],
        capture_output=True, check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def nplab_run(src: Path, study: Path, out: Path) -> dict[str, float]:
    """One ``nplab run`` of ``study`` into ``out`` with ``src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "Agg"}
    return run_child(
        [sys.executable, "-m", "nplab", "run", study.name, "-o", str(out)],
        env=env, cwd=str(study.parent),
    )


def _summary(runs: list[dict[str, float]], key: str) -> str:
    vals = [r[key] for r in runs]
    return f"median {statistics.median(vals):6.2f} s (min {min(vals):.2f}, max {max(vals):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"v0": [], "new": [], "grown": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "v0").mkdir()
        old_src = checkout_release(V0_COMMIT, tmp / "v0")
        new_src = REPO / "src"
        for i in range(args.repeats):
            runs["v0"].append(nplab_run(old_src, V0_STUDY, tmp / f"old{i}"))
            runs["new"].append(nplab_run(new_src, V0_STUDY, tmp / f"new{i}"))
            runs["grown"].append(nplab_run(new_src, GROWN_STUDY, tmp / f"grown{i}"))
            print(f"repeat {i + 1}/{args.repeats}: " + ", ".join(
                f"{k} {v[-1]['wall_s']:.2f} s wall / {v[-1]['cpu_s']:.2f} s CPU"
                for k, v in runs.items()), flush=True)
        old_tables = sorted((tmp / "old0" / "tables").glob("*.csv"))
        same = [p.name for p in old_tables
                if filecmp.cmp(p, tmp / "new0" / "tables" / p.name, shallow=False)
                if (tmp / "new0" / "tables" / p.name).exists()]
    labels = {"v0": f"v0 release ({V0_COMMIT}), v0 study",
              "new": "this tree, v0 study",
              "grown": "this tree, grown sample study"}
    result: dict[str, object] = {"repeats": args.repeats}
    for key, label in labels.items():
        print(f"{label:34s} wall {_summary(runs[key], 'wall_s')}; "
              f"CPU {_summary(runs[key], 'cpu_s')}")
        result[key] = runs[key]
    for key in ("wall_s", "cpu_s"):
        ratio = (statistics.median(r[key] for r in runs["new"])
                 / statistics.median(r[key] for r in runs["v0"]))
        result[f"ratio_{key}"] = ratio
        print(f"ratio new/old ({key[:-2]}): {ratio:.3f}  (target <= 0.35)")
    print(f"v0 tables reproduced byte for byte by this tree: {len(same)}/{len(old_tables)}")
    result["identical_tables"] = same
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
