"""Reference-gene stability: geNorm M and pairwise V, NormFinder stability.

Both work on log2 expression. With Cq values and 100 % efficiency the log2 relative
quantity of a gene is -Cq (up to a constant that cancels), so Cq are used directly
(sign does not matter for either measure); give ``efficiency`` to scale each gene's
Cq by log2(E).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nplab.errors import InputError
from nplab.qpcr.expression import _check_genes, average_replicates

__all__ = ["GenormResult", "genorm", "normfinder"]


def _matrix(
    table: pd.DataFrame, genes: Sequence[str] | None, efficiency: Mapping[str, float] | None,
    max_cq: float,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Samples × genes matrix of log2 quantities (complete samples only) and groups."""
    src = table.attrs.get("source")
    avg = average_replicates(table, max_cq=max_cq, sd_limit=np.inf)
    present = list(pd.unique(avg["target"]))
    genes = present if genes is None else list(genes)
    _check_genes(genes, present, "genes", src)
    if len(genes) < 3:
        raise InputError(f"{len(genes)} candidate gene(s)", column="genes",
                         expected="at least 3 candidate reference genes")
    sample_keys = [k for k in ("animal", "tissue") if k in avg.columns]
    wide = avg[avg["target"].isin(genes)].pivot_table(index=sample_keys, columns="target", values="cq",
                                                     aggfunc="first")[genes]
    wide = wide.dropna()
    if len(wide) < 3:
        raise InputError("fewer than 3 samples with every candidate gene detected", file=src,
                         column="cq", expected="Cq values for every gene in at least 3 samples")
    scale = np.array([np.log2(efficiency.get(g, 2.0)) if efficiency else 1.0 for g in genes])
    log2q = -wide * scale
    groups = None
    if "group" in avg.columns:
        gmap = avg.drop_duplicates(sample_keys).set_index(sample_keys)["group"]
        groups = gmap.reindex(wide.index)
    return log2q, groups


def _m_values(x: np.ndarray) -> np.ndarray:
    """geNorm M per column: mean over other genes of the SD of the log2 ratios."""
    k = x.shape[1]
    diff = x[:, :, None] - x[:, None, :]
    sd = np.std(diff, axis=0, ddof=1)
    return sd.sum(axis=1) / (k - 1)


@dataclass
class GenormResult:
    """Result of :func:`genorm`.

    Attributes
    ----------
    m : DataFrame
        ``gene, m`` (M over the full candidate set), ``m_stepwise`` (M when the gene
        was excluded, or in the final pair), ``rank`` (1 = most stable; the final two
        genes share rank 1).
    v : DataFrame
        ``n, label`` (``"V2/3"`` ...), ``v``: pairwise variation of the normalisation
        factors of the n and n + 1 most stable genes.
    trace : DataFrame
        ``n_genes, gene, m``: M of every remaining gene at every step of the stepwise
        exclusion (the mean of ``m`` per ``n_genes`` is geNorm's "average expression
        stability", Vandesompele et al. 2002, Fig. 2).
    """

    m: pd.DataFrame
    v: pd.DataFrame
    trace: pd.DataFrame | None = None


def genorm(
    table: pd.DataFrame,
    genes: Sequence[str] | None = None,
    *,
    efficiency: Mapping[str, float] | None = None,
    max_cq: float = 35.0,
) -> GenormResult:
    """geNorm gene-stability measure M and pairwise variation V (Vandesompele 2002).

    M_j is the arithmetic mean, over the other candidate genes k, of the standard
    deviation (n - 1 denominator) across samples of log2(a_j / a_k). The least stable
    gene (largest M) is excluded and M recomputed until two genes remain.
    V_n/n+1 is the SD across samples of log2(NF_n / NF_n+1), NF_n being the geometric
    mean of the n most stable genes' quantities. Samples lacking any candidate gene are
    left out.

    Parameters
    ----------
    table
        One row per well or per sample × gene: ``animal, target, cq`` (optional
        ``tissue``).
    genes
        Candidate reference genes (default: every target in the table).

    References
    ----------
    Vandesompele J, De Preter K, Pattyn F, Poppe B, Van Roy N, De Paepe A, Speleman F
    (2002) Genome Biol 3:research0034.
    """
    log2q, _ = _matrix(table, genes, efficiency, max_cq)
    names = list(log2q.columns)
    x = log2q.to_numpy(float)
    m_full = _m_values(x)
    remaining = list(range(len(names)))
    step_m = {}
    order_excluded = []
    trace = []
    while len(remaining) > 2:
        m = _m_values(x[:, remaining])
        trace += [(len(remaining), names[g], float(mv)) for g, mv in zip(remaining, m, strict=True)]
        worst = int(np.argmax(m))
        g = remaining.pop(worst)
        step_m[g] = float(m[worst])
        order_excluded.append(g)
    final = _m_values(x[:, remaining])
    for g, mv in zip(remaining, final, strict=True):
        step_m[g] = float(mv)
        trace.append((2, names[g], float(mv)))
    ranking = remaining + order_excluded[::-1]  # most stable first
    rank = {g: (1 if g in remaining else ranking.index(g)) for g in range(len(names))}
    mtab = pd.DataFrame({
        "gene": names, "m": m_full, "m_stepwise": [step_m[g] for g in range(len(names))],
        "rank": [rank[g] for g in range(len(names))],
    }).sort_values(["rank", "m_stepwise"]).reset_index(drop=True)
    rows = []
    for n in range(2, len(names)):
        nf_n = x[:, ranking[:n]].mean(axis=1)
        nf_n1 = x[:, ranking[:n + 1]].mean(axis=1)
        rows.append({"n": n, "label": f"V{n}/{n + 1}", "v": float(np.std(nf_n - nf_n1, ddof=1))})
    return GenormResult(m=mtab, v=pd.DataFrame(rows, columns=["n", "label", "v"]),
                        trace=pd.DataFrame(trace, columns=["n_genes", "gene", "m"]))


def normfinder(
    table: pd.DataFrame,
    genes: Sequence[str] | None = None,
    *,
    group: str = "group",
    efficiency: Mapping[str, float] | None = None,
    max_cq: float = 35.0,
) -> pd.DataFrame:
    """NormFinder stability value per gene (Andersen, Jensen & Ørntoft 2004).

    Model: log2 expression y_igj = alpha_ig + beta_gj + eps_igj (gene i, group g,
    sample j) with gene- and group-specific variance sigma^2_ig. Per group, the
    residuals r_igj = y_igj - ybar_ig. - ybar_.gj + ybar_.g. give
    s^2_ig = (sum_j r^2_igj / (n_g - 1) - sum_i sum_j r^2_igj / ((n_g - 1) k (k - 1)))
    / (1 - 2 / k); a negative s^2_ig is replaced by a quarter of the smallest variance
    of its differences to another gene. The intergroup differences d_ig (gene × group
    means, doubly centred) are shrunk towards 0 with
    gamma^2 = sum d^2 / ((G - 1)(k - 1)) - sum (s^2_ig / n_g) / (k G) (>= 0); the
    stability value is the mean over groups of |d*_ig| + sqrt(v*_ig) with
    d* = d gamma^2 / (gamma^2 + s^2/n), v* = s^2/n + gamma^2 (s^2/n) / (gamma^2 + s^2/n).
    With a single group the stability value is sqrt(s^2_i) (intragroup variation only).

    Returns
    -------
    DataFrame
        ``gene, stability, intragroup_sd, intergroup_difference`` (max |d| times 2),
        sorted most stable first.

    References
    ----------
    Andersen CL, Jensen JL, Ørntoft TF (2004) Cancer Res 64:5245-5250 (and the authors'
    NormFinder R code, version 5).
    """
    log2q, groups = _matrix(table, genes, efficiency, max_cq)
    names = list(log2q.columns)
    y = log2q.to_numpy(float).T  # genes × samples
    k = y.shape[0]
    labels = (np.zeros(y.shape[1], dtype=int) if groups is None
              else pd.factorize(groups.reindex(log2q.index).to_numpy())[0])
    levels = np.unique(labels)
    G = levels.size
    n_g = np.array([(labels == g).sum() for g in levels])
    if np.any(n_g < 2):
        raise InputError("a group has fewer than 2 complete samples", column=group,
                         expected="at least 2 samples per group")
    s2 = np.empty((k, G))
    means = np.empty((k, G))
    for gi, g in enumerate(levels):
        z = y[:, labels == g]
        means[:, gi] = z.mean(axis=1)
        r = z - z.mean(axis=1, keepdims=True) - z.mean(axis=0, keepdims=True) + z.mean()
        a = (r**2).sum(axis=1) / (n_g[gi] - 1)
        s2[:, gi] = (a - a.sum() / (k * (k - 1))) / (1 - 2 / k)
        neg = s2[:, gi] < 0
        if neg.any():
            dv = np.var(z[:, None, :] - z[None, :, :], axis=2, ddof=1)
            np.fill_diagonal(dv, np.inf)
            s2[neg, gi] = dv.min(axis=1)[neg] / 4.0
    pooled = ((n_g - 1) * s2).sum(axis=1) / (n_g.sum() - G)
    if G == 1:
        stab = np.sqrt(s2[:, 0])
        dif = np.zeros((k, 1))
    else:
        dif = means - means.mean(axis=1, keepdims=True) - means.mean(axis=0, keepdims=True) + means.mean()
        vd = s2 / n_g[None, :]
        gamma = max(float((dif**2).sum() / ((G - 1) * (k - 1)) - vd.sum() / (k * G)), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            dnew = np.where(gamma + vd > 0, dif * gamma / (gamma + vd), 0.0)
            vnew = vd + np.where(gamma + vd > 0, gamma * vd / (gamma + vd), 0.0)
        stab = (np.abs(dnew) + np.sqrt(vnew)).mean(axis=1)
    out = pd.DataFrame({"gene": names, "stability": stab, "intragroup_sd": np.sqrt(pooled),
                        "intergroup_difference": 2 * np.abs(dif).max(axis=1)})
    return out.sort_values("stability").reset_index(drop=True)
