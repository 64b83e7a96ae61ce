"""Benchmark (issue 19.4): the sample study at 1x, 3x and 10x the animals.

The grown sample study (``sample_data/cci_study.toml``) without its recordings (patch clamp,
excitability: they do not grow with the animals; a patch-clamp batch's memory is measured
by ``bench_study.py``) is scaled by replicating every animal under new ids (``R01`` ->
``R01-2``, ``R01-3``, ...) in every per-animal table (animals, von Frey, Hargreaves,
acetone, hot plate, rotarod, qPCR, Western; ELISA plates and Western blots are copied
with the samples renamed).
Each size is run as ``python -m nplab run`` in a fresh process (sizes interleaved when
repeated); the script prints wall time, CPU time and peak RSS of each, and the growth
exponent ``b`` of ``cost ~ animals**b`` fitted by least squares on the log-log points
(1 = linear; the fixed start-up cost pulls it below 1).

Run from the repo root: ``python benchmarks/bench_scaling.py [--scales 1 3 10] [--repeats 1]``.

Measured 2026-12-04 (shared box, one run each, CPU s): 1x 8.8, 3x 10.1, 10x 26.6; peak RSS
276 / 290 / 352 MB.  The 10x step is dominated by the Western blot mixed model
(``nplab.stats._reml``: 0.5 s at 1x, 17.6 s at 10x -- super-linear, Nelder-Mead over a
per-blot Python loop of dense inverses); the rest grows sub-linearly.
After the batched (Woodbury) REML deviance and a relative Nelder-Mead f tolerance, the
Western statistics take 0.11 / 0.16 / 0.31 s at 1x / 3x / 10x (``bench_western_lmm.py``).

Measured 2026-12-05 (idle box, one run each, reads and figures overlapped in child
processes): wall 5.84 / 6.55 / 8.98 s, CPU 8.98 / 10.24 / 13.34 s, peak RSS 266 / 281 /
328 MB at 1x / 3x / 10x (50 / 150 / 500 animals): growth exponents 0.19 wall, 0.17 CPU,
0.09 memory (3x -> 10x: 0.26, 0.22, 0.13) -- sub-linear throughout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _harness import run_child

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
STUDY = SAMPLE / "cci_study.toml"


def _replicate(table: pd.DataFrame, scale: int) -> pd.DataFrame:
    """``scale`` copies of ``table``: animal ids (ELISA: sample ids) get a suffix ``-2``,
    ``-3``, ...; plates and blots are copied (``-x2``, ...) so that wells and lanes stay
    unique."""
    copies = []
    for r in range(1, scale + 1):
        copy = table.copy()
        if r > 1:
            if "animal" in copy.columns:
                copy["animal"] = copy["animal"] + f"-{r}"
            if "sample" in copy.columns and "kind" in copy.columns:
                sample = copy["kind"] == "sample"
                copy.loc[sample, "sample"] = copy.loc[sample, "sample"] + f"-{r}"
            for container in ("plate", "blot"):
                if container in copy.columns:
                    copy[container] = copy[container] + f"-x{r}"
        copies.append(copy)
    return pd.concat(copies, ignore_index=True)


def scaled_study(dest: Path, scale: int) -> Path:
    """Write the sample study with ``scale`` x the animals into ``dest``; the study file."""
    text = STUDY.read_text(encoding="utf-8")
    # recordings (patch clamp, excitability) do not grow with the animals: left out
    for key in re.findall(r'(?m)^(\w+) = "(?!cci/)[^"]*\.\w+"$', text):
        text = re.sub(rf'(?m)^{key} = "[^"]*"\n', "", text)
        text = re.sub(rf"(?ms)^\[{key}\]\n.*?(?=^\[)", "", text)
    data = dict(re.findall(r'(?m)^(\w+) = "(cci/[\w.]+)"$', text))
    (dest / "cci").mkdir(parents=True, exist_ok=True)
    for name in set(data.values()) | {"cci/unblinding_key.csv"}:
        table = pd.read_csv(SAMPLE / name, dtype=str, keep_default_na=False)
        if name != "cci/unblinding_key.csv":
            table = _replicate(table, scale)
        table.to_csv(dest / name, index=False)
    out = dest / "cci_study.toml"
    out.write_text(text, encoding="utf-8")
    return out


def _exponent(scales: list[int], values: list[float]) -> float:
    xs = [math.log(s) for s in scales]
    ys = [math.log(v) for v in values]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "MPLBACKEND": "Agg"}
    runs: dict[int, list[dict[str, float]]] = {s: [] for s in args.scales}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        studies = {s: scaled_study(tmp / f"x{s}", s) for s in args.scales}
        for i in range(args.repeats):
            for s in args.scales:
                res = run_child(
                    [sys.executable, "-m", "nplab", "run", "cci_study.toml",
                     "-o", str(tmp / f"out{s}-{i}")],
                    env=env, cwd=str(studies[s].parent),
                )
                runs[s].append(res)
                print(f"  {s:3d}x: wall {res['wall_s']:.2f} s, CPU {res['cpu_s']:.2f} s, "
                      f"peak RSS {res['peak_rss_mb']:.0f} MB", flush=True)
        n_animals = {s: len(pd.read_csv(studies[s].parent / "cci" / "animals.csv"))
                     for s in args.scales}
    result: dict[str, object] = {"scales": args.scales, "animals": n_animals}
    print(f"{'scale':>5} {'animals':>7} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}")
    med = {k: [statistics.median(r[k] for r in runs[s]) for s in args.scales]
           for k in ("wall_s", "cpu_s", "peak_rss_mb")}
    for j, s in enumerate(args.scales):
        print(f"{s:5d} {n_animals[s]:7d} {med['wall_s'][j]:8.2f} {med['cpu_s'][j]:8.2f} "
              f"{med['peak_rss_mb'][j]:8.0f}")
    for key, values in med.items():
        b = _exponent(args.scales, values)
        result[f"exponent_{key}"] = b
        steps = ", ".join(
            f"{a}x->{c}x {_exponent([a, c], [va, vc]):.2f}"
            for a, c, va, vc in zip(args.scales, args.scales[1:], values, values[1:], strict=False))
        print(f"growth exponent ({key}): {b:.2f} overall; {steps}  (<= 1 is linear)")
    result["runs"] = {str(s): runs[s] for s in args.scales}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
