"""Benchmark: reading ABF files — nplab ``read_abf`` vs pyabf vs a raw ``np.fromfile``.

Synthetic single-channel episodic ABF1 files (20 kHz, 10,000 samples = 0.5 s per
sweep, int16; written by :func:`nplab.ephys.abfwrite.write_abf1`) with 10 sweeps
(small, per-file overhead) and 100, 300 and 1,000 sweeps (throughput).  Timed, each
as the median of repeated runs:

* kept: ``read_abf(path)`` (header checks, plausibility checks, scaled float32 data)
  then ``rec.sweep_view(s)`` for every sweep, all views kept in a list;
* stream: ``read_abf(path)`` then each sweep's view used once (its first sample
  read) and dropped — how :func:`nplab.ephys.measure` uses a recording.  ``read_abf``
  scales the whole data block up front, so this differs from "kept" only by the
  list;
* pyabf: ``pyabf.ABF(path)`` then ``setSweep(s)`` / ``sweepY`` for every sweep;
* raw: ``np.fromfile`` of the int16 data block (no header, no scaling, no float32
  output) — the floor the issue names;
* fill: a new float32 array with one value per sample, filled with a constant (no
  file, no header, no conversion) — the memory floor of any reader that returns
  every sample as float32.

Samples are checked identical to pyabf's before timing.  Prints medians (ms), the
ratios nplab/pyabf, nplab/raw and nplab/fill, and nplab's throughput in MB of file
per second.

Why "kept" cannot come within 4x of raw on big files: the float32 result is twice
the bytes of the int16 block, and above glibc's 32 MB mmap ceiling (1,000 sweeps:
40 MB) every result is fresh pages that the kernel zeroes before the samples are
written, so the float32 bytes go to memory twice, while raw's 20 MB buffer is reused
warm from one repeat to the next.  The fill column measures that floor.  Below the
ceiling the result depends on the allocator's state: in some processes glibc hands
each result back warm, in others as fresh 4-KB pages (the 300-sweep line then reads
~7 ms instead of ~2 ms, before and after the chunked reader alike) — compare runs,
not single lines.

    PYTHONPATH=src python benchmarks/bench_abf_read.py [--repeats N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import measure

from nplab.ephys import read_abf
from nplab.ephys.abfwrite import EpochSpec, write_abf1

RATE = 20000
NPTS = 10000
SIZES = (10, 100, 300, 1000)


def make_file(folder: Path, sweeps: int) -> Path:
    gen = np.random.default_rng(sweeps)
    data = gen.normal(-20.0, 5.0, (sweeps, NPTS))
    data[:, 2000:2400] -= 700.0
    epochs = [EpochSpec("Step", -120.0, 1800), EpochSpec("Step", 0.0, 2000)]
    return write_abf1(
        folder / f"bench_{sweeps}.abf",
        data,
        RATE,
        epochs=epochs,
        holding=-120.0,
        sweep_interval_s=1.0,
        lsb=0.05,
    )


def main() -> None:
    import pyabf

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for sweeps in SIZES:
            path = make_file(Path(tmp), sweeps)
            head = pyabf.ABF(str(path), loadData=False)
            start, count = int(head.dataByteStart), int(head.dataPointCount)

            def nplab_read(path=path):
                rec = read_abf(path)
                return [rec.sweep_view(s) for s in range(rec.sweep_count)]

            def nplab_stream(path=path):
                rec = read_abf(path)
                total = 0.0
                for s in range(rec.sweep_count):
                    total += float(rec.sweep_view(s)[0])
                return total

            def pyabf_read(path=path):
                abf = pyabf.ABF(str(path))
                out = []
                for s in range(abf.sweepCount):
                    abf.setSweep(s)
                    out.append(abf.sweepY)
                return out

            def raw_read(path=path, start=start, count=count):
                return np.fromfile(path, dtype=np.int16, count=count, offset=start)

            def fill(count=count):
                return np.full(count, 1.0, dtype=np.float32)

            pairs = zip(nplab_read(), pyabf_read(), strict=True)
            assert all(np.array_equal(a, b) for a, b in pairs)
            reps = args.repeats if sweeps <= 300 else max(3, args.repeats // 3)
            t_n = measure(nplab_read, reps)["median_s"]
            t_s = measure(nplab_stream, reps)["median_s"]
            t_p = measure(pyabf_read, max(3, reps // 3) if sweeps >= 300 else reps)["median_s"]
            t_r = measure(raw_read, reps)["median_s"]
            t_f = measure(fill, reps)["median_s"]
            mb = path.stat().st_size / 1e6
            row = {
                "sweeps": sweeps,
                "file_mb": round(mb, 3),
                "nplab_ms": t_n * 1e3,
                "nplab_stream_ms": t_s * 1e3,
                "pyabf_ms": t_p * 1e3,
                "raw_ms": t_r * 1e3,
                "fill_ms": t_f * 1e3,
                "nplab_over_pyabf": t_n / t_p,
                "nplab_over_raw": t_n / t_r,
                "stream_over_raw": t_s / t_r,
                "nplab_over_fill": t_n / t_f,
                "nplab_mb_s": mb / t_n,
                "raw_mb_s": mb / t_r,
            }
            results.append(row)
            print(
                f"{sweeps:5d} sweeps {mb:6.2f} MB | nplab kept {t_n * 1e3:6.2f} ms, stream "
                f"{t_s * 1e3:6.2f} ms | pyabf {t_p * 1e3:8.2f} ms | raw {t_r * 1e3:5.2f} ms | "
                f"fill {t_f * 1e3:5.2f} ms | nplab/pyabf {t_n / t_p:5.3f} | nplab/raw "
                f"{t_n / t_r:5.1f} (stream {t_s / t_r:5.1f}) | nplab/fill {t_n / t_f:5.2f} | "
                f"nplab {mb / t_n:5.0f} MB/s"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
