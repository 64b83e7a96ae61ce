"""Benchmark: ELISA quantification.

1. One 384-well plate (16 x 24: 9 standard levels in duplicate, blanks, 180 samples in
   duplicate), ``nplab.elisa.quantify`` with 1/y^2 weights.
2. 100 plates of 96 wells (36 samples each) quantified in one call (batched fitter), against
   the naive loop a lab script would run: per plate ``scipy.optimize.curve_fit`` of the 4PL
   (weighted, sigma = signal) and a per-sample inverse with a numerical delta-method SE.

Run: ``PYTHONPATH=src python benchmarks/bench_elisa.py [--json out.json]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _harness import compare
from scipy.optimize import curve_fit

from nplab.elisa import quantify
from nplab.elisa.synth import simulate_plate


def ll4(x, b, c, d, e):
    with np.errstate(all="ignore"):
        return c + (d - c) / (1 + (x / e) ** b)


def naive(table: pd.DataFrame) -> list[pd.DataFrame]:
    out = []
    for _, p in table.groupby("plate", sort=False):
        blank = p.loc[p["kind"] == "blank", "signal"].mean()
        s = p[p["kind"] == "standard"]
        y = s["signal"].to_numpy() - blank
        popt, pcov = curve_fit(ll4, s["nominal"].to_numpy(), y, p0=[-1, 0, y.max(), 150],
                               sigma=s["signal"].to_numpy(), maxfev=5000)
        u = p[p["kind"] == "sample"].groupby("sample")["signal"].agg(["mean", "std", "count"])
        rows = []
        for name, r in u.iterrows():
            ybar = r["mean"] - blank

            def inv(th, ybar=ybar):
                b, c, d, e = th
                with np.errstate(all="ignore"):
                    return e * ((d - c) / (ybar - c) - 1) ** (1 / b)

            x = inv(popt)
            g = np.array([(inv(popt + h) - x) / 1e-7 for h in np.eye(4) * 1e-7])
            se = np.sqrt(g @ pcov @ g)
            rows.append((name, x, se))
        out.append(pd.DataFrame(rows, columns=["sample", "x", "se"]))
    return out


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    big = simulate_plate({f"S{i:03d}": float(c) for i, c in enumerate(rng.uniform(10, 900, 180))},
                         rows=16, cols=24, seed=2)
    compare("elisa quantify, one 384-well plate (180 samples)", lambda: quantify(big, weights="1/y^2"),
            repeats=5)
    many = pd.concat([simulate_plate({f"S{i:02d}": float(c) for i, c in enumerate(rng.uniform(10, 900, 36))},
                                     plate=f"P{k:03d}", seed=k) for k in range(100)], ignore_index=True)
    compare("elisa quantify, 100 plates x 96 wells batched",
            lambda: quantify(many, weights="1/y^2"), lambda: naive(many),
            baseline_name="per-plate curve_fit + inverse/delta loop", repeats=3)
