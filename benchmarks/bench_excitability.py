"""Benchmark: nplab spike detection vs eFEL on the same current-clamp sweeps, and
sweeps/s of the whole excitability analysis on a 1,000-sweep batch.

Sweeps: every sweep of the current-clamp step/ramp files in shared/data/abf (real
recordings, 20-25 kHz).  eFEL (test-only reference, ``pip install efel``) computes
``peak_indices`` and ``AP_begin_indices`` with ``interp_step`` = the sample interval
(no resampling); nplab computes every spike feature (:func:`detect_spikes`).  The
script checks that spike counts are identical before timing.  The batch: 50 copies
of a 20-sweep Wang–Buzsáki step family (1,000 sweeps of 0.4 s at 20 kHz), analysed
serially by :func:`nplab.ephys.excitability.excitability`.

    PYTHONPATH=src python benchmarks/bench_excitability.py [--repeats N] [--json FILE]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import compare

from nplab.ephys import read_abf
from nplab.ephys.ccsynth import StepFamily, WBCell, write_step_file
from nplab.ephys.excitability import excitability
from nplab.ephys.spikes import detect_spikes

ABF = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "abf"
FILES = [("171116sh_0018.abf", 0), ("17o05027_ic_ramp.abf", 0), ("17o05028_ic_steps.abf", 0),
         ("18425108.abf", 1), ("File_axon_5.abf", 0), ("opto_aps_good_units.abf", 0)]


def _sweeps():
    out = []
    for name, ch in FILES:
        rec = read_abf(ABF / name)
        out += [(rec.sweep_view(s, ch).astype(float), rec.sample_rate) for s in range(rec.sweep_count)]
    return out


def main() -> None:
    import efel

    sweeps = _sweeps()
    efel.set_setting("Threshold", -20.0)
    efel.set_setting("DerivativeThreshold", 10.0)
    traces = []
    for v, fs in sweeps:
        t = np.arange(v.size) * 1000.0 / fs
        traces.append({"T": t, "V": v, "stim_start": [0.0], "stim_end": [t[-1]]})

    def run_efel():
        out = []
        for (_v, fs), tr in zip(sweeps, traces, strict=True):
            efel.set_setting("interp_step", 1000.0 / fs)
            out.append(efel.get_feature_values([tr], ["peak_indices", "AP_begin_indices"],
                                               raise_warnings=False)[0])
        return out

    def run_nplab():
        return [detect_spikes(v, fs) for v, fs in sweeps]

    ref, ours = run_efel(), run_nplab()
    counts_ref = [0 if r["peak_indices"] is None else len(r["peak_indices"]) for r in ref]
    assert counts_ref == [len(o) for o in ours], "spike counts differ from eFEL"
    print(f"{len(sweeps)} sweeps, {sum(counts_ref)} spikes; identical counts")
    compare(f"spikes per sweep ({len(sweeps)} real sweeps)", run_nplab, run_efel)

    tmp = Path(tempfile.mkdtemp())
    try:
        fam = StepFamily(first_pa=-40, increment_pa=10, sweeps=20, baseline_ms=50, step_ms=300,
                         recovery_ms=50)
        one = write_step_file(tmp / "cell000.abf", WBCell("wb"), fam)
        for k in range(1, 50):
            shutil.copy(one, tmp / f"cell{k:03d}.abf")
        t0 = time.perf_counter()
        res = excitability(tmp, executor="serial")
        dt = time.perf_counter() - t0
        n = len(res.sweeps)
        print(f"batch: {n} sweeps in {dt:.2f} s serial = {n / dt:.0f} sweeps/s")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
