"""Record the Tobit fits of nplab's dense trust-region fit (before issue 18 item 9).

The O(animals) fit that replaced it must give the same numbers (tests: 1e-8); this
script records what the earlier implementation gave, so the tests need no git history.

Fits: every paw x timepoint of ``trials_reference.csv`` and of the CCI sample study
(``sample_data/cci/hargreaves.csv``), and three simulated sets with heavy censoring
(numpy seed 18; 40 animals x 3 trials, ~40 % of trials at the cut-off, one animal with
all trials censored, two animals with a single trial).

Run from the repository root:
``python tests/hargreaves/reference/make_tobit_dense_reference.py [COMMIT]``
(default commit 2d784b9, the last one with the dense fit); writes
``tobit_dense_reference.csv`` beside this script.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def dense_module(commit: str) -> types.ModuleType:
    src = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{commit}:src/nplab/hargreaves/censored.py"],
        capture_output=True, text=True, check=True).stdout
    mod = types.ModuleType("censored_dense")
    sys.modules[mod.__name__] = mod  # dataclasses look their module up
    exec(compile(src, f"censored.py@{commit}", "exec"), mod.__dict__)
    return mod


def datasets() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    out = []
    for name, path, flag in (("reference", HERE / "trials_reference.csv", "cutoff_reached"),
                             ("cci", REPO / "sample_data" / "cci" / "hargreaves.csv",
                              "cutoff_reached")):
        df = pd.read_csv(path)
        df = df[df["latency_s"].notna()]
        for (paw, tp), sub in df.groupby(["paw", "timepoint"], sort=True):
            codes, _ = pd.factorize(sub["animal"])
            cens = sub[flag].astype(str).str.lower().isin({"true", "1"}).to_numpy()
            out.append((f"{name}:{paw}:{tp}", np.log(sub["latency_s"].to_numpy(float)),
                        cens, codes))
    rng = np.random.default_rng(18)
    for r in range(3):
        k, m = 40, 3
        mu = rng.normal(np.log(18.0), 0.15, size=k)
        y = mu[:, None] + rng.normal(0, 0.3, size=(k, m))
        c = np.log(20.0)
        y[0] = c + 0.5  # all censored
        cens = y >= c
        y = np.minimum(y, c)
        g = np.repeat(np.arange(k), m)
        keep = np.ones(k * m, bool)
        keep[[3 * 5 + 1, 3 * 5 + 2, 3 * 9 + 1, 3 * 9 + 2]] = False  # animals 5, 9: one trial
        out.append((f"simulated:{r}", y.ravel()[keep], cens.ravel()[keep], g[keep]))
    return out


def main(commit: str = "2d784b9") -> None:
    mod = dense_module(commit)
    rows = []
    for name, y, cens, g in datasets():
        fit = mod.tobit_fit(y, cens, g)
        for i in range(fit.mu.size):
            rows.append({"set": name, "group": i, "mu": fit.mu[i], "se": fit.se[i],
                         "se_adj": fit.se_adj[i], "df": fit.df, "sigma": fit.sigma,
                         "se_log_sigma": fit.se_log_sigma, "loglik": fit.loglik,
                         "estimable": bool(fit.estimable[i]), "converged": fit.converged})
    pd.DataFrame(rows).to_csv(HERE / "tobit_dense_reference.csv", index=False,
                              float_format="%.17g")


if __name__ == "__main__":
    main(*sys.argv[1:])
