"""Benchmark: the sample study end to end, and a 1,000-recording patch-clamp batch.

1. ``nplab run sample_data/cci_study.toml`` (every table, figure, report.html and the
   manifest) — median wall time of repeated runs.
2. Patch-clamp batch throughput: the sample study's recordings repeated to 1,000 files
   (hard links in a temporary folder), measured with :func:`nplab.ephys.measure` on 2
   local processes (chunked, 50–200 files per task) against the serial loop; files/s.
3. Peak memory vs number of files: each size (250, 500, 1,000) is measured in a fresh
   Python process; peak RSS of the parent and of the largest worker
   (``resource.getrusage``).  Flat = bounded by a chunk, not by the batch.

Run from the repo root: ``PYTHONPATH=src python benchmarks/bench_study.py``
(``--json FILE`` to save the numbers, ``--files N`` for the batch size).

Measured 2026-11-23 on the shared 2-core build box (load average ~5 from other jobs, so
absolute times are inflated 2-3x and two processes cannot beat one): sample study end to
end median 19.8 s (min 18.8, 3 runs; ~45% of it is the deterministic Dunnett p-value
integration of 28 comparison families); 1,000-recording batch 43 files/s on 2 processes vs
59 files/s serial (medians of 3); peak RSS parent 280 MB at 250, 500 and 1,000 files,
largest worker 118 / 121 / 126 MB -- flat in the number of files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import compare

from nplab.runner import run_study

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "sample_data" / "cci_study.toml"
RECORDINGS = REPO / "sample_data" / "ephys"

_MEMORY_CHILD = r"""
import resource, sys
from pathlib import Path
from nplab.ephys import measure
files = sorted(str(p) for p in Path(sys.argv[1]).glob("*.abf"))[: int(sys.argv[2])]
table = measure(files, protocol=sys.argv[3], executor=2, progress=False)
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(len(table), me, kids)
"""


def _batch_folder(folder: Path, n: int) -> tuple[list[str], str]:
    """``n`` hard links to the sample recordings of one protocol; (paths, protocol)."""
    import pandas as pd

    exp = pd.read_csv(RECORDINGS / "experiment.csv")
    proto_col = "protocol" if "protocol" in exp.columns else None
    if proto_col:
        proto = str(exp[proto_col].iloc[0])
        sources = [RECORDINGS / f for f in exp.loc[exp[proto_col] == proto, "file"]]
    else:
        proto = "patchclamp-nav-resting"
        sources = [RECORDINGS / f for f in exp["file"]]
    sources = list(dict.fromkeys(sources))
    paths = []
    for i in range(n):
        dest = folder / f"rec{i:05d}.abf"
        os.link(sources[i % len(sources)], dest)
        paths.append(str(dest))
    return paths, proto


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--json")
    args, _ = parser.parse_known_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        results["study"] = compare(
            "sample CCI study end to end (nplab run, report included)",
            lambda: run_study(STUDY, out),
            repeats=3,
            argv=[],
        )
        if not RECORDINGS.is_dir():
            print("no sample recordings: run sample_data/ephys/make_recordings.py")
        else:
            from nplab.ephys import measure

            folder = Path(tmp) / "batch"
            folder.mkdir()
            paths, proto = _batch_folder(folder, args.files)
            res = compare(
                f"patch-clamp batch, {len(paths)} recordings (2 processes, chunked)",
                lambda: measure(paths, protocol=proto, executor=2, progress=False),
                lambda: measure(paths, protocol=proto, executor="serial", progress=False),
                baseline_name="serial loop",
                repeats=3,
                argv=[],
            )
            res["files_per_s"] = len(paths) / res["candidate"]["median_s"]
            res["files_per_s_serial"] = len(paths) / res["baseline"]["median_s"]
            print(f"  throughput: {res['files_per_s']:.0f} files/s "
                  f"(serial {res['files_per_s_serial']:.0f} files/s)")
            results["batch"] = res
            memory = []
            env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
            for n in (args.files // 4, args.files // 2, args.files):
                done = subprocess.run(
                    [sys.executable, "-c", _MEMORY_CHILD, str(folder), str(n), proto],
                    capture_output=True, text=True, check=True, env=env,
                )
                rows, me, kids = map(int, done.stdout.split()[-3:])
                memory.append({"files": n, "rows": rows, "parent_peak_mb": me / 1024,
                               "worker_peak_mb": kids / 1024})
                print(f"  {n:5d} files: peak RSS parent {me / 1024:.0f} MB, "
                      f"largest worker {kids / 1024:.0f} MB")
            results["memory"] = memory
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
