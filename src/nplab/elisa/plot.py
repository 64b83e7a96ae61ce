"""Figure of ELISA standard curves: standards, fitted curve, unknowns, LLOQ–ULOQ band."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_curve"]


def plot_curve(result: Any, path: Any = None, plate: Any = None, unit: str = "concentration") -> Any:
    """Draw the standard curve of each plate (or one ``plate``).

    Standards (back-fitted levels as filled circles, anchors as open circles), the fitted
    curve, the LLOQ–ULOQ range shaded, and each unknown at its back-calculated
    (well) concentration; unknowns outside the range are drawn at the edge as
    triangles. Returns the path when saved, else the figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nplab.figures import figure_style, save_figure

    plates = list(result.plates["plate"]) if plate is None else [plate]
    ncol = min(3, len(plates))
    nrow = int(np.ceil(len(plates) / ncol))
    with figure_style():
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
    for ax, p in zip(axes.ravel(), plates, strict=False):
        st = result.standards[result.standards["plate"] == p]
        pos = st["nominal"] > 0
        xmin = st.loc[pos, "nominal"].min() / 3
        xmax = st["nominal"].max() * 2
        grid = np.geomspace(xmin, xmax, 200)
        ax.plot(grid, result.predict(p, grid), color="k", lw=1)
        anc = st["anchor"].astype(bool)
        ax.plot(st.loc[pos & ~anc, "nominal"], st.loc[pos & ~anc, "corrected"], "o", color="C0",
                label="standards")
        if (pos & anc).any():
            ax.plot(st.loc[pos & anc, "nominal"], st.loc[pos & anc, "corrected"], "o", mfc="none",
                    color="C0", label="anchors")
        row = result.plates.set_index("plate").loc[p]
        if np.isfinite(row["lloq"]):
            ax.axvspan(row["lloq"], row["uloq"], color="C2", alpha=0.12, label="LLOQ–ULOQ")
        sm = result.samples[result.samples["plate"] == p]
        inside = np.isfinite(sm["well_concentration"])
        ax.plot(sm.loc[inside, "well_concentration"], sm.loc[inside, "corrected"], "s", ms=4,
                color="C3", label="unknowns")
        out = ~inside
        if out.any():
            edge = np.where(sm.loc[out, "corrected"] > np.median(st["corrected"]), xmax, xmin)
            ax.plot(edge, sm.loc[out, "corrected"], "^", ms=4, color="C3", mfc="none",
                    label="outside curve")
        ax.set_xscale("log")
        ax.set_xlabel(unit)
        ax.set_ylabel("signal − blank")
        ok = "accepted" if row["accepted"] else "NOT accepted"
        ax.set_title(f"plate {p} ({result.model}, {ok})", fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    for ax in axes.ravel()[len(plates):]:
        ax.set_visible(False)
    fig.tight_layout()
    if path is None:
        return fig
    saved = save_figure(fig, path)
    plt.close(fig)
    return saved
