"""The study runner does not load ``scipy.stats`` (issue 19.3: ~0.3 s of start-up).

Functional, not timed: a fresh interpreter imports modules (or runs the v0 sample study)
and we look at ``sys.modules``.  The t, F, χ² and normal functions the runner needs come
from :mod:`nplab._dist` (``scipy.special`` ufuncs); the genuine ``scipy.stats`` tests
(Tukey's studentized range, rank tests, Welch / one-sample t tests, noncentral t and F)
and ``statsmodels`` (whose import loads ``scipy.stats``) are imported inside the functions
that use them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nplab

SRC = str(Path(nplab.__file__).resolve().parents[1])
V0_STUDY = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "sample_study_v0" / "cci_study.toml"
AVOIDED = ("scipy.stats", "statsmodels")


def _loaded_after(code: str) -> dict:
    probe = (
        "import sys, json\n"
        f"{code}\n"
        f"print(json.dumps({{'avoided': sorted(m for m in {AVOIDED!r} if m in sys.modules), "
        "'nplab': sorted(m for m in sys.modules if m.startswith('nplab'))}))"
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "MPLBACKEND": "Agg"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_any_nplab_module_loads_no_scipy_stats():
    code = (
        "import pkgutil, nplab, nplab.assays\n"
        "for m in pkgutil.walk_packages(nplab.__path__, 'nplab.'):\n"
        "    __import__(m.name)\n"
        "nplab.assays.registry()"
    )
    out = _loaded_after(code)
    assert len(out["nplab"]) > 100  # every module was imported (the runner's among them)
    assert {"nplab.runner", "nplab.vonfrey.dixon", "nplab.stats.posthoc"} <= set(out["nplab"])
    assert out["avoided"] == []


@pytest.mark.slow
def test_running_the_v0_sample_study_loads_no_scipy_stats(tmp_path):
    if not V0_STUDY.is_file():
        pytest.skip("benchmarks/data/sample_study_v0 is not beside the source tree")
    code = (
        "from nplab.runner import run_study\n"
        f"res = run_study({str(V0_STUDY)!r}, {str(tmp_path / 'out')!r}, jobs=1)"
    )  # jobs=1: every step in this process (no reads or figures in child processes)
    out = _loaded_after(code)
    # the run went through the analyses that used scipy.stats before (von Frey Dixon
    # intervals, Hargreaves Tobit CIs, Dunnett / ANOVA p-values, IC50 CIs, K_R / K_I)
    assert {"nplab.vonfrey.dixon", "nplab.hargreaves.censored", "nplab.stats.posthoc",
            "nplab.stats.anova", "nplab.ephys.ic50", "nplab.doseresponse.inference"} <= set(out["nplab"])  # fmt: skip
    assert (tmp_path / "out" / "tables" / "vonfrey_dunnett.csv").is_file()
    assert out["avoided"] == []
