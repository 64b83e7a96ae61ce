"""Generate nplab's sample studies deterministically (CCI drug study and a small SNL study).

Run from the repository root::

    python sample_data/make_sample_study.py

Every file under ``sample_data/cci`` and ``sample_data/snl`` is rewritten byte for byte
identically on every run (the patch-clamp recordings the CCI study also analyses are
written by ``sample_data/ephys/make_recordings.py``): fixed seeds, one
``numpy.random.Generator`` stream per assay, rounded values, sorted rows.  The ground
truth used to simulate the data is written beside it (``truth.csv``) and documented in
``sample_data/README.md``.

Simulation model
----------------
*von Frey (rat kit, Chaplan up-down).*  Each animal × paw × time point has a true 50%
threshold T (log10 grams).  A filament of force f (log10 grams x) elicits a withdrawal
with probability Φ((x − log10 T)/σ) (log-normal tolerance distribution, σ = 0.12 log10
units within an animal).  The up-down procedure is simulated on the 8-filament rat kit
(handles 3.61 … 5.18, force = 10^handle / 10^4 g) starting at 4.31 (2.0 g): after a
withdrawal (X) the next weaker filament, after none (O) the next stronger, stopping 4
stimuli after the first change of response (Chaplan et al. 1994).  A run that would
leave the kit before any change stops there (XXXX / OOOOO: out of range); one that would
leave it after the change stops early (flagged ``incomplete`` by the analysis).

*Hargreaves.*  Three trials per paw and time point; latency = exp(μ + ε) with μ the
animal's true log latency and ε ~ N(0, 0.2²); trials at or beyond the 20 s cut-off are
recorded as 20.0 s with ``cutoff_reached = true``.

*Drug effect.*  On the injured (ipsilateral) paw of CCI/SNL animals the post-dose log
threshold (log latency) is the day-14 value plus E × profile(t), with profile(1, 2, 4,
6 h) = (0.7, 1.0, 0.7, 0.35) and E per group in ``GROUPS``.  Contralateral paws and sham
animals are unaffected by the drugs.

*Sex (CCI study).*  Allocation blocks alternate male / female (blocks 1, 3, 5, ... male),
so every group has 5 males and 5 females.  Sex × treatment truth (von Frey only): the
duloxetine effect E on the log10 threshold is 0.40 in males and 0.70 in females (mean 0.55,
the group's E); every other effect is the same in both sexes, and Hargreaves latencies do
not depend on sex.  Females weigh less (N(195, 10) g vs N(235, 12) g).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

HERE = Path(__file__).resolve().parent
SEED = 20260101

#: Rat kit handle numbers (log10 of force in mg × 10); force_g = 10**handle / 1e4.
HANDLES = (3.61, 3.84, 4.08, 4.31, 4.56, 4.74, 4.93, 5.18)
START = 3  # 4.31 = 2.0 g
SIGMA_VF = 0.12  # within-animal tolerance SD, log10 g
SIGMA_HG = 0.20  # trial-to-trial SD, log seconds
CUTOFF_S = 20.0
PROFILE = {1.0: 0.7, 2.0: 1.0, 4.0: 0.7, 6.0: 0.35}

# name, code, model, treatment, dose, control, von Frey effect E (log10 g), Hargreaves E (ln s)
CCI_GROUPS = (
    ("Sham + vehicle", "C", "sham", "vehicle", 0.0, False, 0.0, 0.0),
    ("CCI + vehicle", "A", "CCI", "vehicle", 0.0, True, 0.0, 0.0),
    ("CCI + amitriptyline 3 mg/kg", "E", "CCI", "amitriptyline", 3.0, False, 0.20, 0.15),
    ("CCI + amitriptyline 10 mg/kg", "B", "CCI", "amitriptyline", 10.0, False, 0.45, 0.35),
    ("CCI + duloxetine 30 mg/kg", "D", "CCI", "duloxetine", 30.0, False, 0.55, 0.45),
)
CCI_N = 10
CCI_TIMEPOINTS = (
    ("BL", "baseline", -1.0, None),
    ("D14", "predose", 14.0, None),
    *((f"{h:g}h", "postdose", None, h) for h in PROFILE),
)
#: CCI animals that do not develop allodynia (true day-14 ipsi threshold ≈ baseline).
CCI_NON_RESPONDERS = ("R07", "R33")
#: Sex × treatment truth of the CCI study: von Frey effect E by (group, sex) where it
#: differs from the group's E (the mean over the sexes stays the group's E).
CCI_SEX_EFFECT = {("CCI + duloxetine 30 mg/kg", "male"): 0.40,
                  ("CCI + duloxetine 30 mg/kg", "female"): 0.70}

SNL_GROUPS = (
    ("Sham + vehicle", None, "sham", "vehicle", 0.0, False, 0.0, 0.0),
    ("SNL + vehicle", None, "SNL", "vehicle", 0.0, True, 0.0, 0.0),
    ("SNL + amitriptyline 10 mg/kg", None, "SNL", "amitriptyline", 10.0, False, 0.45, 0.0),
)
SNL_N = 6
SNL_TIMEPOINTS = (
    ("BL", "baseline", -1.0, None),
    ("D7", "predose", 7.0, None),
    ("2h", "postdose", None, 2.0),
)


def updown_series(true_log10_g: float, rng: np.random.Generator) -> str:
    """Simulate one Chaplan up-down session on the rat kit; return the X/O string."""
    log_g = np.asarray(HANDLES) - 4.0
    i, out, change_at = START, [], None
    while True:
        p = norm.cdf((log_g[i] - true_log10_g) / SIGMA_VF)
        withdrew = bool(rng.random() < p)
        out.append("X" if withdrew else "O")
        n = len(out)
        if change_at is None and n > 1 and out[-1] != out[-2]:
            change_at = n - 1
        if change_at is not None and n - 1 - change_at == 4:
            break
        nxt = i - 1 if withdrew else i + 1
        if not 0 <= nxt < len(HANDLES):
            break  # the next filament would leave the kit
        i = nxt
    return "".join(out)


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _allocate(n_groups: int, n: int, rng: np.random.Generator) -> list[int]:
    """Block randomisation: each block of ``n_groups`` animals gets every group once."""
    out: list[int] = []
    for _ in range(n):
        out.extend(int(g) for g in rng.permutation(n_groups))
    return out


def simulate(
    groups: tuple, n: int, timepoints: tuple, *, prefix: str, side: str, seed: int,
    non_responders: tuple[str, ...] = (), hargreaves: bool = True,
    both_sexes: bool = False, sex_effect: dict | None = None,
) -> dict[str, list[list[object]]]:
    """Simulate animals, von Frey sheets, Hargreaves trials and the truth table.

    ``both_sexes``: blocks of the allocation alternate male / female; ``sex_effect``
    maps (group name, sex) to the von Frey effect E of that cell.
    """
    ss = np.random.SeedSequence(seed)
    r_alloc, r_animal, r_vf, r_hg = (np.random.default_rng(s) for s in ss.spawn(4))
    alloc = _allocate(len(groups), n, r_alloc)
    animals, vf, hg, truth = [], [], [], []
    for idx, g in enumerate(alloc):
        name, code, model, _treat, _dose, _ctrl, e_vf, e_hg = groups[g]
        animal = f"{prefix}{idx + 1:02d}"
        cage = idx // 4 + 1
        sex = "female" if both_sexes and (idx // len(groups)) % 2 else "male"
        e_vf = (sex_effect or {}).get((name, sex), e_vf)
        mean_w, sd_w = (195.0, 10.0) if sex == "female" else (235.0, 12.0)
        weight = round(float(r_animal.normal(mean_w, sd_w)), 1)
        cohort = 1 if idx < len(alloc) // 2 else 2  # two surgery/testing cohorts
        animals.append([animal, code or name, model, side, sex, weight, cohort, cage])
        # true log10 thresholds (von Frey) and log latencies (Hargreaves)
        bl_vf = float(r_animal.normal(1.0, 0.08))
        bl_hg = float(r_animal.normal(math.log(12.5), 0.12))
        injured = model != "sham" and animal not in non_responders
        d_vf = float(r_animal.normal(0.25, 0.08)) if injured else bl_vf - 0.03
        d_hg = float(r_animal.normal(math.log(6.5), 0.10)) if injured else bl_hg - 0.02
        for label, kind, _days, hours in timepoints:
            for paw in ("ipsi", "contra"):
                if paw == "contra" or kind == "baseline":
                    t_vf, t_hg = bl_vf, bl_hg
                elif kind == "predose":
                    t_vf, t_hg = d_vf, d_hg
                else:
                    prof = PROFILE[float(hours)]
                    t_vf = d_vf + (e_vf * prof if model != "sham" else 0.0)
                    t_hg = d_hg + (e_hg * prof if model != "sham" else 0.0)
                if kind != "baseline" and (paw == "contra" or kind == "postdose"):
                    t_vf += float(r_animal.normal(0.0, 0.04))
                    t_hg += float(r_animal.normal(0.0, 0.04))
                truth.append(
                    [animal, name, model, sex, paw, label, round(t_vf, 4),
                     round(10**t_vf, 4), round(math.exp(t_hg), 3)]
                )
                vf.append([animal, paw, label, updown_series(t_vf, r_vf)])
                if hargreaves:
                    for trial in (1, 2, 3):
                        lat = round(float(math.exp(t_hg + r_hg.normal(0.0, SIGMA_HG))), 2)
                        cut = lat >= CUTOFF_S  # as recorded (0.01 s resolution)
                        hg.append(
                            [animal, paw, label, trial, CUTOFF_S if cut else lat,
                             "true" if cut else "false"]
                        )
    animals.sort(key=lambda r: r[0])
    return {"animals": animals, "vonfrey": vf, "hargreaves": hg, "truth": truth}


def write_study(folder: Path, sim: dict, groups: tuple, blinded: bool) -> None:
    _write_csv(
        folder / "animals.csv",
        ["animal", "group", "model", "injured_side", "sex", "weight_g", "cohort", "cage"],
        sim["animals"],
    )
    _write_csv(folder / "vonfrey.csv", ["animal", "paw", "timepoint", "responses"], sim["vonfrey"])
    if sim["hargreaves"]:
        _write_csv(
            folder / "hargreaves.csv",
            ["animal", "paw", "timepoint", "trial", "latency_s", "cutoff_reached"],
            sim["hargreaves"],
        )
    _write_csv(
        folder / "truth.csv",
        ["animal", "group", "model", "sex", "paw", "timepoint", "true_log10_threshold_g",
         "true_threshold_g", "true_latency_s"],
        sim["truth"],
    )
    if blinded:
        _write_csv(
            folder / "unblinding_key.csv",
            ["code", "group"],
            sorted([[g[1], g[0]] for g in groups]),
        )


# Other behavioural tests of the CCI study (acetone, hot plate, rotarod): an independent
# random stream (SEED + 17), so the files above keep their bytes.
#: group -> (acetone reversal E, expected score units per application; hot-plate E, ln s;
#: rotarod motor deficit at the profile peak, fraction of latency lost)
CCI_BEHAVIOUR = {
    "Sham + vehicle": (0.0, 0.0, 0.0),
    "CCI + vehicle": (0.0, 0.0, 0.0),
    "CCI + amitriptyline 3 mg/kg": (0.5, 0.10, 0.0),
    "CCI + amitriptyline 10 mg/kg": (1.1, 0.25, 0.5),
    "CCI + duloxetine 30 mg/kg": (1.3, 0.30, 0.0),
}
ROTAROD_CUTOFF_S = 300.0
#: the sedation of amitriptyline 10 mg/kg peaks early and wanes before the analgesia
ROTAROD_PROFILE = {1.0: 1.0, 2.0: 0.8, 4.0: 0.1, 6.0: 0.0}
HOTPLATE_CUTOFF_S = 30.0


def simulate_behaviour(sim: dict, timepoints: tuple, seed: int) -> dict[str, list[list[object]]]:
    """Acetone scores (3 applications per paw, 0-3), hot-plate latency (1 trial) and
    rotarod latency to fall (3 trials, accelerating, 300 s cut-off) per time point."""
    r_ac, r_hp, r_rr, r_an = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    info = {}
    for row in sim["truth"]:
        info.setdefault(row[0], (row[1], row[2]))
    ac, hp, rr, truth = [], [], [], []
    for animal in sorted(info):
        name, model = info[animal]
        e_ac, e_hp, e_rr = CCI_BEHAVIOUR[name]
        injured = model != "sham" and animal not in CCI_NON_RESPONDERS
        bl_rr = float(r_an.normal(math.log(230.0), 0.15))
        bl_hp = float(r_an.normal(math.log(14.0), 0.10))
        for label, kind, _days, hours in timepoints:
            prof = PROFILE[float(hours)] if kind == "postdose" else 0.0
            # acetone: expected score per application (0-3 scale)
            lam = {"ipsi": 0.3, "contra": 0.3}
            if injured and kind != "baseline":
                lam["ipsi"] = max(0.2, 2.0 - e_ac * prof)
            t_hp = bl_hp + ((math.log(10.0 / 14.0) if injured and kind != "baseline" else 0.0)
                            + e_hp * prof)
            rr_prof = ROTAROD_PROFILE[float(hours)] if kind == "postdose" else 0.0
            t_rr = bl_rr + math.log(1.0 - e_rr * rr_prof)
            truth.append([animal, name, model, label, round(lam["ipsi"], 3),
                          round(lam["contra"], 3), round(math.exp(t_hp), 3),
                          round(math.exp(t_rr), 2)])
            for paw in ("ipsi", "contra"):
                for app in (1, 2, 3):
                    ac.append([animal, paw, label, app, int(r_ac.binomial(3, lam[paw] / 3.0))])
            lat = round(float(math.exp(t_hp + r_hp.normal(0.0, 0.15))), 1)
            cut = lat >= HOTPLATE_CUTOFF_S
            hp.append([animal, label, 1, HOTPLATE_CUTOFF_S if cut else lat,
                       "true" if cut else "false"])
            for trial in (1, 2, 3):
                lat = round(float(math.exp(t_rr + r_rr.normal(0.0, 0.25))), 1)
                cut = lat >= ROTAROD_CUTOFF_S
                rr.append([animal, label, trial, ROTAROD_CUTOFF_S if cut else lat,
                           "true" if cut else "false"])
    return {"acetone": ac, "hotplate": hp, "rotarod": rr, "truth": truth}


def write_behaviour(folder: Path, beh: dict) -> None:
    _write_csv(folder / "acetone.csv", ["animal", "paw", "timepoint", "trial", "score"],
               beh["acetone"])
    _write_csv(folder / "hotplate.csv",
               ["animal", "timepoint", "trial", "latency_s", "cutoff_reached"], beh["hotplate"])
    _write_csv(folder / "rotarod.csv",
               ["animal", "timepoint", "trial", "latency_s", "cutoff_reached"], beh["rotarod"])
    _write_csv(folder / "behaviour_truth.csv",
               ["animal", "group", "model", "timepoint", "true_acetone_score_ipsi",
                "true_acetone_score_contra", "true_hotplate_s", "true_rotarod_s"],
               beh["truth"])


def main(argv: list[str] | None = None) -> int:
    cci = simulate(
        CCI_GROUPS, CCI_N, CCI_TIMEPOINTS, prefix="R", side="left", seed=SEED,
        non_responders=CCI_NON_RESPONDERS, both_sexes=True, sex_effect=CCI_SEX_EFFECT,
    )
    write_study(HERE / "cci", cci, CCI_GROUPS, blinded=True)
    write_behaviour(HERE / "cci", simulate_behaviour(cci, CCI_TIMEPOINTS, SEED + 17))
    snl = simulate(
        SNL_GROUPS, SNL_N, SNL_TIMEPOINTS, prefix="S", side="right", seed=SEED + 1,
        hargreaves=False,
    )
    write_study(HERE / "snl", snl, SNL_GROUPS, blinded=False)
    n_cut = sum(r[5] == "true" for r in cci["hargreaves"])
    print(
        f"CCI: {len(cci['animals'])} animals, {len(cci['vonfrey'])} von Frey tests, "
        f"{len(cci['hargreaves'])} Hargreaves trials ({n_cut} at cut-off); "
        f"SNL: {len(snl['animals'])} animals (patch-clamp recordings: "
        "sample_data/ephys/make_recordings.py)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
