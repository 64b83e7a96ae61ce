"""The molecular rooms of the study runner: ELISA cytokine concentrations and qPCR
relative expression, per group (and tissue), animal = unit.

``[data].elisa`` names a tidy ELISA well table (:func:`nplab.elisa.quantify`'s columns
plus ``plate``; optional ``analyte`` and ``tissue``); sample names are animal IDs.
``[data].qpcr`` names a Cq table (tidy, CFX or QuantStudio; :func:`nplab.qpcr.read_cq`).
An optional ``[qpcr]`` table gives amplification efficiencies (``efficiency = {Tnf = 1.95,
...}``, E or percent) or a dilution-series file (``dilution = "cci/dilution.csv"``: target,
quantity, cq; E = 10^(-1/slope)); the room then adds the efficiency-corrected NRQ
(Pfaffl 2001; Hellemans et al. 2007) and a Dunnett test on log2 NRQ.
Groups come from the study's animals table; statistics are Dunnett tests against the
study's control group on log10 concentration (ELISA) and on ΔCt (qPCR).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nplab.assays import register
from nplab.assays.base import Assay, AssayContext, AssayReport
from nplab.errors import InputError
from nplab.protocols import Param
from nplab.report import Section

__all__ = ["Elisa", "Qpcr", "dot_plot"]


def dot_plot(df: pd.DataFrame, value: str, panel: list[str], order: list[str], ylabel: str,
             names: dict[str, str], log: bool = False) -> Any:
    """Per-animal dots with group mean ± SEM, one panel per ``panel`` combination."""
    import matplotlib.pyplot as plt

    from nplab.figures import figure_style

    keys = list(dict.fromkeys(map(tuple, df[panel].to_numpy().tolist())))
    with figure_style():
        fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        sub = df[(df[panel] == pd.Series(key, index=panel)).all(axis=1)]
        for i, g in enumerate(order):
            v = sub.loc[sub["group"] == g, value].dropna().to_numpy(float)
            if v.size == 0:
                continue
            x = i + np.linspace(-0.15, 0.15, v.size)
            ax.plot(x, v, "o", ms=3.5, color=f"C{i}", alpha=0.7)
            m = v.mean()
            sem = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0
            ax.errorbar(i, m, yerr=sem, fmt="_", color="k", ms=18, capsize=4, lw=1.2)
        # vertical labels: 45° labels of long group names overlap their neighbours
        ax.set_xticks(range(len(order)), [names.get(g, g) for g in order], rotation=90,
                      ha="center", fontsize=7)
        if log:
            from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

            ax.set_yscale("log")
            # major ticks at 1, 2, 5 x 10^k labelled plainly; no minor labels (they collide)
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(" · ".join(map(str, key)), fontsize=9)
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def _groups(ctx: AssayContext, df: pd.DataFrame, col: str, path: Any) -> pd.DataFrame:
    an = ctx.animals[["animal", "group"]].astype({"animal": str})
    out = df.merge(an, left_on=col, right_on="animal", how="left", suffixes=("", "_animals"))
    missing = out["group"].isna() & ~out[col].isin(ctx.other_animals)
    if missing.any():
        raise InputError(f"sample {out.loc[missing, col].iloc[0]!r} is not an animal of the study", file=path,
                         column=col, expected="sample names that are animal IDs of the animals table")
    out = out[out["group"].notna()]
    return out[~out["animal"].isin(ctx.excluded_animals())]


def _dunnett_table(ctx: AssayContext, df: pd.DataFrame, value: str, strata: list[str]) -> pd.DataFrame | None:
    from nplab.stats import dunnett

    control = ctx.control
    if control is None:
        return None
    rows = []
    for key, sub in df.groupby(strata, sort=False):
        sub = sub[np.isfinite(sub[value].to_numpy(float))]
        if control not in set(sub["group"]) or sub["group"].nunique() < 2:
            continue
        res = dunnett(sub, value, "group", control)
        for c, v in zip(strata, key if isinstance(key, tuple) else (key,), strict=True):
            res.insert(0, c, v)
        rows.append(res)
    return pd.concat(rows, ignore_index=True) if rows else None


@register
class Elisa(Assay):
    """Cytokine concentrations (TNF-α, IL-1β, IL-6 ...) from ELISA plates."""

    name = "elisa"
    title = "ELISA: cytokine concentrations"
    data_doc = "ELISA well table (plate, well, kind, sample, nominal, dilution, signal[, analyte, tissue])"
    protocol_kind = "elisa"
    default_protocol = "elisa-sandwich"
    table_name = "elisa_samples"

    def read(self, ctx: AssayContext) -> Any:
        from nplab.tables import read_table

        return read_table(ctx.study.data[self.name], required=["plate", "well", "kind", "signal"])

    def measure(self, ctx: AssayContext, raw: Any) -> Any:
        from nplab.elisa import quantify_with_protocol

        proto = self.protocol(ctx)
        raw = raw.copy()
        for c in ("analyte", "tissue"):
            if c not in raw.columns:
                raw[c] = ""
        out = []
        for (analyte, tissue), sub in raw.groupby(["analyte", "tissue"], sort=False):
            sub.attrs["source"] = raw.attrs.get("source")
            res = quantify_with_protocol(sub.drop(columns=["analyte", "tissue"]), proto)
            out.append((analyte, tissue, res))
        return out

    def analyse(self, ctx: AssayContext, measured: Any) -> AssayReport:
        rep = AssayReport(section=Section(self.title, self.name))
        sec, proto = rep.section, ctx.protocols[self.name]
        unit = proto.params["unit"]
        samples, plates = [], []
        for analyte, tissue, res in measured:
            s = res.samples[res.samples["kind"] == "sample"].assign(analyte=analyte, tissue=tissue)
            samples.append(s)
            plates.append(res.plates.assign(analyte=analyte, tissue=tissue))
        s = pd.concat(samples, ignore_index=True)
        p = pd.concat(plates, ignore_index=True)
        path = ctx.study.data[self.name]
        s = _groups(ctx, s, "sample", path)
        rep.tables["elisa_samples"] = s
        rep.tables["elisa_plates"] = p
        sec.p(f"{len(p)} plate(s), {s['animal'].nunique()} animals. Standard curves {proto.params['model']} "
              f"(weights {proto.params['weights']}) per plate; ICH M10 acceptance; concentrations in {unit} "
              f"(protocol {proto.label}).")
        bad = p[~p["accepted"]]
        if len(bad):
            sec.p("Plates NOT accepted: " + "; ".join(f"{r.plate}: {r.reason}" for r in bad.itertuples()) + ".")
        nok = s[s["status"] != "ok"]
        if len(nok):
            sec.p(f"{len(nok)} sample(s) without a concentration (below LLOQ / above ULOQ / outside the "
                  "curve; not extrapolated): " + ", ".join(f"{r.sample} {r.analyte} ({r.status})"
                                                             for r in nok.itertuples()) + ".")
        s = s.assign(log10_conc=np.log10(s["concentration"]))
        strata = [c for c in ("tissue", "analyte") if s[c].astype(str).ne("").any()] or ["analyte"]
        desc = (s.groupby([*strata, "group"], sort=False)["concentration"]
                .agg(n="count", mean="mean", sem=lambda v: v.std(ddof=1) / np.sqrt(v.count()))
                .reset_index())
        desc["group"] = desc["group"].map(ctx.group_name)
        rep.tables["elisa_summary"] = desc
        sec.table(desc, f"Concentration ({unit}) per group: mean ± SEM (animal = unit)")
        st = _dunnett_table(ctx, s, "log10_conc", strata)
        if st is not None:
            st["ratio"] = 10 ** st["diff"]
            st["group"] = st["group"].map(ctx.group_name)
            rep.tables["elisa_dunnett"] = st
            sec.table(st, f"Dunnett vs {ctx.group_name(ctx.control)} on log10 concentration "
                          "(ratio = 10^diff)")
            rep.facts["has_effect_ci"] = True
        order = ctx.group_order()
        sec.plot(dot_plot(s, "concentration", strata, order, f"concentration ({unit})",
                          {g: ctx.group_name(g) for g in order}),
                 "elisa_dotplot", "Concentration per animal (dots) with group mean ± SEM.")
        rep.methods.append("ELISA: blank-corrected 4PL standard curves per plate (nplab.elisa, drc LL.4), "
                           "ICH M10 acceptance, back-calculated concentrations × dilution; Dunnett on "
                           "log10 concentration, animal = unit.")
        return rep


@register
class Qpcr(Assay):
    """Relative mRNA expression (Tnf, Il1b, Il6, Aif1, Gfap ...) by RT-qPCR."""

    name = "qpcr"
    title = "RT-qPCR: relative expression"
    data_doc = "Cq table (animal, target, cq[, tissue]; or a CFX / QuantStudio export)"
    protocol_kind = "qpcr"
    default_protocol = "qpcr-ddct"
    table_name = "qpcr_expression"
    options: ClassVar[dict[str, Param]] = {
        "efficiency": Param("dict", default={}, doc="amplification factor E (or percent) per target"),
        "dilution": Param("str", default=None, doc="dilution-series table (target, quantity, cq), "
                                                   "relative to the study file"),
    }

    def check_options(self, options: dict[str, Any], file: Any) -> None:
        eff = (options or {}).get("efficiency") or {}
        if eff and (options or {}).get("dilution"):
            raise InputError("both qpcr.efficiency and qpcr.dilution given", file=file, column="qpcr.dilution",
                             expected="efficiencies from one source: a table of E or a dilution series")
        for tgt, e in eff.items():
            if isinstance(e, bool) or not isinstance(e, int | float) or not (1 < e <= 2.2 or 10 < e <= 120):
                raise InputError(f"{e!r} is not an amplification efficiency", file=file,
                                 column=f"qpcr.efficiency.{tgt}",
                                 expected="an amplification factor 1 < E <= 2.2 or a percentage 10-120")
        dil = (options or {}).get("dilution")
        if dil and not (Path(file).parent / dil).is_file():
            raise InputError("dilution-series file not found", file=file, column="qpcr.dilution",
                             expected=f"a file at {Path(file).parent / dil}")

    def _efficiency(self, ctx: AssayContext, params: dict[str, Any]) -> tuple[Any, Any]:
        """(efficiencies for relative_expression, the dilution fit table or None)."""
        from nplab.qpcr import efficiency
        from nplab.tables import read_table

        opts = ctx.study.options.get(self.name) or {}
        if opts.get("dilution"):
            tab = read_table(ctx.study.root / opts["dilution"], required=["target", "quantity", "cq"])
            fit = efficiency(tab, low=params["efficiency_low_pct"], high=params["efficiency_high_pct"])
            return fit, fit
        return (dict(opts["efficiency"]) if opts.get("efficiency") else None), None

    def read(self, ctx: AssayContext) -> Any:
        from nplab.qpcr import read_cq

        return read_cq(ctx.study.data[self.name])

    def measure(self, ctx: AssayContext, raw: Any) -> Any:
        from nplab.qpcr import relative_expression

        proto = self.protocol(ctx)
        p = proto.params
        data = _groups(ctx, raw.drop(columns=[c for c in ("group",) if c in raw.columns]), "animal",
                       ctx.study.data[self.name])
        control = ctx.control
        blind = control is None  # blinded without the key: ΔCt only, no ΔΔCt against a control
        eff, _ = self._efficiency(ctx, p)
        res = relative_expression(data, p["reference_genes"], data["group"].iloc[0] if blind else control,
                                  eff, max_cq=p["max_cq"], sd_limit=p["replicate_sd_limit"])
        if blind:
            res[[c for c in ("delta_delta_ct", "fold_change", "nrq") if c in res.columns]] = np.nan
        return res

    def analyse(self, ctx: AssayContext, measured: Any) -> AssayReport:
        from nplab.qpcr import group_statistics

        rep = AssayReport(section=Section(self.title, self.name))
        sec, proto = rep.section, ctx.protocols[self.name]
        res = measured
        rep.tables["qpcr_expression"] = res
        _, fit = self._efficiency(ctx, proto.params)
        if fit is not None:
            rep.tables["qpcr_efficiency"] = fit
            sec.table(fit, "Amplification efficiency per target from the dilution series "
                           "(E = 10^(−1/slope); flag outside the protocol's range)")
        refs = ", ".join(proto.params["reference_genes"])
        sec.p(f"{res['animal'].nunique()} animals, targets {', '.join(dict.fromkeys(res['target']))}; "
              f"ΔCt against the mean Cq of {refs}; fold change 2^−ΔΔCt vs the control group "
              f"(protocol {proto.label}).")
        flagged = res[res["flag"] != ""]
        if len(flagged):
            sec.p(f"{len(flagged)} animal × target values flagged (not detected / replicate SD): "
                  + ", ".join(f"{r.animal} {r.target} ({r.flag})" for r in flagged.head(20).itertuples()) + ".")
        strata = [c for c in ("tissue", "target") if c in res.columns]
        blind = ctx.control is None
        value = "delta_ct" if blind else "fold_change"
        desc = (res.groupby([*strata, "group"], sort=False)[value]
                .agg(n="count", mean="mean", sem=lambda v: v.std(ddof=1) / np.sqrt(v.count())).reset_index())
        desc["group"] = desc["group"].map(ctx.group_name)
        rep.tables["qpcr_summary"] = desc
        if blind:
            sec.p("Blinded without the unblinding key: ΔCt per coded group only (no control, no ΔΔCt).")
            sec.table(desc, "ΔCt (cycles) per coded group: mean ± SEM (animal = unit)")
            return rep
        sec.table(desc, "Fold change (2^−ΔΔCt) per group: mean ± SEM (animal = unit)")
        st = group_statistics(res, ctx.control)
        st["group"] = st["group"].map(ctx.group_name)
        rep.tables["qpcr_dunnett"] = st
        sec.table(st, "Dunnett vs control on ΔCt (diff in cycles; ratio = 2^−diff = fold change)")
        rep.facts["has_effect_ci"] = True
        if "nrq" in res.columns:
            nrq = res.assign(log2_nrq=np.log2(res["nrq"]))
            rep.tables["qpcr_expression"] = nrq
            sn = group_statistics(nrq, ctx.control, value="log2_nrq", sign=1.0)
            sn["group"] = sn["group"].map(ctx.group_name)
            rep.tables["qpcr_dunnett_nrq"] = sn
            sec.table(sn, "Efficiency-corrected: Dunnett vs control on log2 NRQ (Pfaffl 2001; Hellemans et "
                          "al. 2007; ratio = 2^diff)")
        order = ctx.group_order()
        sec.plot(dot_plot(res, "fold_change", strata, order, "fold change (2^−ΔΔCt)",
                          {g: ctx.group_name(g) for g in order}, log=True),
                 "qpcr_dotplot", "Fold change per animal (dots, log axis) with group mean ± SEM.")
        rep.methods.append("RT-qPCR: technical replicates averaged, ΔΔCt (Livak & Schmittgen 2001) with "
                           "multiple reference genes (nplab.qpcr); Dunnett on ΔCt, animal = unit.")
        return rep
