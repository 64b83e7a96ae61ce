"""Molecular readouts for the CCI sample study (simulated, documented truth).

Writes ``cci/elisa.csv`` (TNF-α and IL-1β sandwich ELISA of ipsilateral lumbar spinal
cord, 2 plates per analyte, duplicate wells, samples diluted 1:2) and ``cci/qpcr.csv``
(Tnf, Il1b against Gapdh, Actb and Hprt1, triplicate wells) for the animals of
``cci/animals.csv``; the true group values are in ``TRUTH`` below and in README.md.
``cci/western.csv``: p-p65 / p65 (NF-κB activation) densitometry on 3 blots with a
total-protein stain per lane (``WESTERN_TRUTH``, own seed 2027).

Run: ``PYTHONPATH=src python sample_data/make_molecular_data.py [western]`` (``western``:
only the blot table).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nplab.elisa.synth import simulate_plate

HERE = Path(__file__).parent / "cci"
#: True group medians: ELISA in pg/mL; qPCR in log2 expression relative to sham.
TRUTH = {
    "TNF-alpha": {"Sham + vehicle": 40.0, "CCI + vehicle": 120.0, "CCI + amitriptyline 3 mg/kg": 95.0,
                  "CCI + amitriptyline 10 mg/kg": 60.0, "CCI + duloxetine 30 mg/kg": 65.0},
    "IL-1beta": {"Sham + vehicle": 25.0, "CCI + vehicle": 80.0, "CCI + amitriptyline 3 mg/kg": 65.0,
                 "CCI + amitriptyline 10 mg/kg": 40.0, "CCI + duloxetine 30 mg/kg": 42.0},
    "Tnf": {"Sham + vehicle": 0.0, "CCI + vehicle": 2.0, "CCI + amitriptyline 3 mg/kg": 1.5,
            "CCI + amitriptyline 10 mg/kg": 0.8, "CCI + duloxetine 30 mg/kg": 0.9},
    "Il1b": {"Sham + vehicle": 0.0, "CCI + vehicle": 1.6, "CCI + amitriptyline 3 mg/kg": 1.2,
             "CCI + amitriptyline 10 mg/kg": 0.6, "CCI + duloxetine 30 mg/kg": 0.7},
}
CURVES = {"TNF-alpha": (-1.2, 0.0, 3.0, 150.0, 1.0), "IL-1beta": (-1.1, 0.0, 2.6, 120.0, 1.0)}
REFS = {"Gapdh": 18.0, "Actb": 17.0, "Hprt1": 24.0}
BASE = {"Tnf": 28.0, "Il1b": 27.0}
#: True log2 p-p65/p65 ratio relative to sham (NF-κB activation in the spinal cord).
WESTERN_TRUTH = {"Sham + vehicle": 0.0, "CCI + vehicle": 1.2, "CCI + amitriptyline 3 mg/kg": 0.9,
                 "CCI + amitriptyline 10 mg/kg": 0.4, "CCI + duloxetine 30 mg/kg": 0.45}
#: Per-blot exposure (multiplies every band of the blot: the blot effect).
BLOT_EXPOSURE = {"blot1": 1.0, "blot2": 1.8, "blot3": 0.6}


def western(animals: pd.DataFrame, group: dict[str, str]) -> pd.DataFrame:
    """Bands of ``cci/western.csv``: each blot carries animals of every group."""
    rng = np.random.default_rng(2027)
    order = sorted(animals["animal"], key=lambda a: (group[a], a))
    blots = list(BLOT_EXPOSURE)
    rows = []
    lanes = dict.fromkeys(blots, 0)
    for i, a in enumerate(order):
        b = blots[i % len(blots)]
        lanes[b] += 1
        load = float(np.exp(rng.normal(0, 0.15)))  # protein loaded in the lane (relative)
        tp = 1.0e5 * BLOT_EXPOSURE[b] * load * float(np.exp(rng.normal(0, 0.03)))
        p65 = 5000.0 * BLOT_EXPOSURE[b] * load * float(np.exp(rng.normal(0, 0.10)))
        ratio = 2.0 ** (WESTERN_TRUTH[group[a]] + rng.normal(0, 0.25))
        pp65 = 0.4 * p65 * ratio * float(np.exp(rng.normal(0, 0.05)))
        for tgt, sig in (("p-p65", pp65), ("p65", p65)):
            rows.append({"blot": b, "lane": lanes[b], "animal": a, "tissue": "spinal cord", "target": tgt,
                         "signal": round(sig, 1), "total_protein": round(tp, 1)})
    return pd.DataFrame(rows)


def main(only_western: bool = False) -> None:
    rng = np.random.default_rng(2026)
    animals = pd.read_csv(HERE / "animals.csv", dtype={"animal": str})
    key = dict(pd.read_csv(HERE / "unblinding_key.csv").itertuples(index=False, name=None))
    group = {a: key[g] for a, g in zip(animals["animal"], animals["group"], strict=True)}
    western(animals, group).to_csv(HERE / "western.csv", index=False)
    if only_western:
        return
    ids = list(animals["animal"])
    plates = []
    for analyte, curve in CURVES.items():
        for k, chunk in enumerate(np.array_split(np.array(ids), 2)):
            conc = {a: float(TRUTH[analyte][group[a]] * np.exp(rng.normal(0, 0.2))) for a in chunk}
            p = simulate_plate(conc, plate=f"{analyte}-{k + 1}", curve=curve, dilution=2.0, seed=rng)
            plates.append(p.assign(analyte=analyte, tissue="spinal cord"))
    pd.concat(plates, ignore_index=True).to_csv(HERE / "elisa.csv", index=False)
    rows = []
    for a in ids:
        offset = rng.normal(0, 0.5)
        for tgt, base in list(REFS.items()) + list(BASE.items()):
            mu = base + offset + (rng.normal(0, 0.1) if tgt in REFS else rng.normal(0, 0.35)
                                  - TRUTH[tgt][group[a]])
            for r in range(3):
                rows.append({"animal": a, "tissue": "spinal cord", "target": tgt, "replicate": r + 1,
                             "cq": round(float(mu + rng.normal(0, 0.1)), 2)})
    pd.DataFrame(rows).to_csv(HERE / "qpcr.csv", index=False)


if __name__ == "__main__":
    import sys

    main(only_western=sys.argv[1:] == ["western"])
