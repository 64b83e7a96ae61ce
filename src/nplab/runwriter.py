"""Writing a run's tables and figures into its staging folder.

:class:`RunWriter` is the study runner's file edge: tables as CSV (and rounded
copies), figures as PNG and SVG (:func:`save_figure`), saved in a child process while
the runner goes on (:class:`nplab.background.Background`) and embedded in their report
sections once written.  Same figures, same bytes, whether saved in a child or here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from nplab import figures
from nplab.background import Background
from nplab.report import Figure, Section
from nplab.tables import round_table, write_table

__all__ = ["RunWriter", "save_figure"]


class RunWriter:
    """Write tables and figures into the staging folder, remembering what was written.

    With ``round_digits`` (the study file's ``[output] round``) each table also gets a
    copy rounded to that many significant digits in ``tables/rounded/``.
    """

    def __init__(
        self, stage: Path, round_digits: int | None = None, background: Background | None = None
    ) -> None:
        self.stage = stage
        self.round_digits = round_digits
        self.files: list[Path] = []
        self.tables: dict[str, pd.DataFrame] = {}
        self.background = background or Background(enabled=False)
        self._saving: list[tuple[Section, int, str, str, Any]] = []

    def table(self, name: str, df: pd.DataFrame) -> None:
        path = self.stage / "tables" / f"{name}.csv"
        write_table(df.reset_index(drop=True), path)
        self.files.append(path)
        self.tables[name] = df
        if self.round_digits is not None:
            rounded = self.stage / "tables" / "rounded" / f"{name}.csv"
            self.files.append(
                write_table(round_table(df.reset_index(drop=True), self.round_digits), rounded)
            )

    def section(self, sec: Section) -> Section:
        """Start saving the section's unsaved figures (``plot`` blocks), in the
        background where possible; :meth:`finish` embeds them."""
        plots = [(i, b) for i, b in enumerate(sec.blocks) if b[0] == "plot"]
        if not plots:
            return sec
        folder = self.stage / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        for i, (_, fig, name, caption) in plots:
            self.files.extend([folder / f"{name}.png", folder / f"{name}.svg"])
            self._saving.append((sec, i, name, caption, fig))
        figs = [(b[1], b[2]) for _, b in plots]
        self.background.submit(lambda: [_save(fig, folder, name) for fig, name in figs])
        return sec

    def finish(self) -> None:
        """Wait for the figures being saved and embed them in their sections."""
        import matplotlib.pyplot as plt

        self.background.wait()
        for sec, i, name, caption, fig in self._saving:
            svg = (self.stage / "figures" / f"{name}.svg").read_bytes()
            sec.blocks[i] = ("figure", Figure(name=f"figures/{name}", caption=caption, svg=svg))
            plt.close(fig)
        self._saving = []


def _save(fig: Any, folder: Path, name: str) -> tuple[Path, Path]:
    png = figures.save_figure(fig, folder / f"{name}.png", dpi=110)
    svg = figures.save_figure(fig, folder / f"{name}.svg")
    return png, svg


def save_figure(fig: Any, folder: Path, name: str) -> tuple[Path, Path]:
    """Save a matplotlib figure as ``name.png`` and ``name.svg`` reproducibly; close it.

    Uses :func:`nplab.figures.save_figure` (no date/software metadata, fixed SVG ids),
    so identical figures give identical bytes.
    """
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    out = _save(fig, folder, name)
    plt.close(fig)
    return out
