"""One-off generator of ``trials_reference.csv`` (the INPUT of the R reference script).

Kept for the record; the reference VALUES come from ``tobit_km_reference.R`` (R survival),
not from nplab.  Run from the repository root.
"""

import numpy as np
import pandas as pd

r = np.random.default_rng(4)
rows = []
groups = {"vehicle": 0.0, "drug": 0.65}
animals = [f"A{i:02d}" for i in range(1, 13)]
for i, a in enumerate(animals):
    g = "vehicle" if i < 6 else "drug"
    for paw, base in (("ipsi", np.log(6.5)), ("contra", np.log(11.0))):
        for tp, shift in (
            ("baseline", np.log(10.5) - base),
            ("day14", 0.0),
            ("day14_1h", groups[g]),
        ):
            mu = base + shift + r.normal(0, 0.2)
            for t in range(1, 4):
                lat = float(np.exp(mu + r.normal(0, 0.25)))
                cut = lat >= 20
                rows.append(
                    dict(
                        animal=a,
                        group=g,
                        paw=paw,
                        timepoint=tp,
                        trial=t,
                        latency_s=20.0 if cut else round(lat, 2),
                        cutoff_reached=cut,
                    )
                )
pd.DataFrame(rows).to_csv("tests/hargreaves/reference/trials_reference.csv", index=False)
