"""The assay interface: what every room of the study runner implements.

An *assay* is one kind of data a study file can name in ``[data]`` (von Frey sheets,
Hargreaves trials, patch-clamp recordings, ...).  The runner (:mod:`nplab.runner`)
knows no assay by name: it walks the assays the study file names and renders what
they hand back.  Adding an assay means adding one module to :mod:`nplab.assays` (plus
its protocols) that defines a subclass of :class:`Assay` decorated with
:func:`nplab.assays.register`; see ``docs/architecture.md`` for a worked example.

An assay declares

* ``name``: its key in the study file (``[data].<name>``, ``[protocols].<name>``, an
  optional ``[<name>]`` options table, ``outcomes.primary = "<name>"``);
* ``data_doc``, ``protocol_kind`` / ``default_protocol`` and ``options``: the study-file
  keys it reads, validated (with errors naming the file and the key) by
  :func:`nplab.study.load_study` from these declarations;
* ``per_animal``: whether :meth:`Assay.measure` returns one row per animal × paw ×
  time point (such assays can carry ``[[exclusions]]`` rules, whose criteria are the
  assay's ``exclusion_criteria`` and are checked by :meth:`Assay.exclusion_reasons`).

A run calls, for every assay the study names (primary outcome first, then the
study file's ``[data]`` order):

1. :meth:`Assay.read` — the file-I/O edge: read the tables the study file names
   (errors name file, row and column); returns DataFrames;
2. :meth:`Assay.measure` — pure: raw tables → the assay's measurement table;
3. after the exclusion rules of all assays are applied, :meth:`Assay.analyse` —
   pure: measurements → an :class:`AssayReport` (tables, figures, a report section,
   methods text, summary lines, statistics facts, exclusions).

Figures are handed back unsaved (``Section.plot``); the runner saves them
reproducibly and embeds them.  Nothing an assay does touches the output folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from nplab.protocols import Param, Protocol
from nplab.report import Section

if TYPE_CHECKING:
    from nplab.study import Study

__all__ = ["Assay", "AssayContext", "AssayReport"]

#: Paws in report order.
PAWS = ("ipsi", "contra")


@dataclass
class AssayReport:
    """What an assay hands back to the runner.

    Attributes
    ----------
    section
        The assay's report section (paragraphs, tables, figures via ``Section.plot``).
    tables
        Tables written as ``tables/<name>.csv`` (insertion order; names are unique in a run).
    methods
        Sentences for the statistical-methods record (ARRIVE item 7).
    summary
        Lines for the report's summary box.
    facts
        Statistics facts for the ARRIVE checklist (e.g. ``{"has_effect_ci": True}``).
    exclusions
        Items this assay left out (``unit, reason`` rows, e.g. failed cells); shown in
        its section, not applied to other assays.
    """

    section: Section
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    exclusions: pd.DataFrame | None = None


@dataclass
class AssayContext:
    """What an assay sees of the run (read-only by convention).

    Attributes
    ----------
    study
        The validated study.
    animals
        The animals table of this run (one cohort with ``--cohort``).
    key
        The unblinding key (code → group) or ``None``.
    other_animals
        Animals of other cohorts (their rows are dropped from shared sheets).
    batch
        Batch options of the run: ``executor``, ``scheduler``, ``jobs``, ``progress``.
    excluded
        The exclusions table (``animal, group, model, rule, reason``), set before
        :meth:`Assay.analyse` runs.
    protocols
        Protocols loaded by the assays (``name`` → :class:`Protocol`); recorded in the
        manifest.
    inputs
        Input files beyond the study's tables (e.g. recordings); hashed in the manifest.
    """

    study: Study
    animals: pd.DataFrame
    key: dict[str, str] | None
    other_animals: frozenset[str] = frozenset()
    batch: dict[str, Any] = field(default_factory=dict)
    excluded: pd.DataFrame | None = None
    protocols: dict[str, Protocol] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)

    def group_name(self, label: str) -> str:
        """The group name of a (possibly coded) group label."""
        return self.key.get(label, label) if self.key else label

    @property
    def control(self) -> str | None:
        """Control group label *in the data's coding* (None while blind without a key)."""
        ctrl = self.study.control_group
        if ctrl is None:
            return None
        if not self.study.blinded:
            return ctrl
        if self.key is None:
            return None
        codes = [c for c, g in self.key.items() if g == ctrl]
        return codes[0] if codes else None

    def group_order(self) -> list[str]:
        """Group labels in the data's coding, in the study file's group order."""
        names = list(self.study.groups["name"])
        if self.study.blinded:
            if self.key is None:
                return sorted(set(self.animals["group"]))
            inv = {g: c for c, g in self.key.items()}
            return [inv[g] for g in names if g in inv]
        return names

    def excluded_animals(self) -> set[str]:
        return set(self.excluded["animal"]) if self.excluded is not None else set()

    def order_table(self, df: pd.DataFrame, extra: Iterable[str] = ()) -> pd.DataFrame:
        """Rows by group (study order), animal, paw (ipsi first), time point (study order)."""
        out = df.copy()
        keys: list[str] = []
        if "group" in out.columns:
            order = self.group_order()
            rank = {g: i for i, g in enumerate(order)}
            rank.update({self.group_name(g): i for i, g in enumerate(order)})
            out["_g"] = out["group"].map(lambda g: rank.get(g, len(rank)))
            keys.append("_g")
        if "animal" in out.columns:
            keys.append("animal")
        if "paw" in out.columns:
            out["_p"] = out["paw"].map({"ipsi": 0, "contra": 1})
            keys.append("_p")
        if "timepoint" in out.columns:
            tps = self.study.timepoints
            rank_t = dict(zip(tps["label"], tps["order"], strict=True))
            out["_t"] = out["timepoint"].map(rank_t)
            keys.append("_t")
        keys.extend(extra)
        out = out.sort_values(keys, kind="mergesort") if keys else out
        return out.drop(columns=[c for c in ("_g", "_p", "_t") if c in out.columns]
                        ).reset_index(drop=True)


class Assay:
    """Base class of the study runner's assays (see the module docstring).

    Subclasses set the class attributes and implement :meth:`read`, :meth:`measure`
    and :meth:`analyse`; ``per_animal`` assays may implement :meth:`exclusion_reasons`.
    """

    #: Key in the study file (``[data].<name>``); also the report anchor.
    name: ClassVar[str] = ""
    #: Report section title.
    title: ClassVar[str] = ""
    #: Documentation of the ``[data].<name>`` entry.
    data_doc: ClassVar[str] = ""
    #: Protocol kind (:func:`nplab.protocols.load_protocol`); ``None``: no
    #: ``[protocols].<name>`` key.
    protocol_kind: ClassVar[str | None] = None
    #: Default of ``[protocols].<name>``.
    default_protocol: ClassVar[str | None] = None
    #: Fields of the assay's own options table ``[<name>]`` (empty: no such table).
    options: ClassVar[dict[str, Param]] = {}
    #: ``measure`` returns one row per animal × paw × time point (``animal, group,
    #: model, paw, timepoint, ...``): exclusion rules and endpoints apply.
    per_animal: ClassVar[bool] = False
    #: Criteria an ``[[exclusions]]`` rule of this assay may use (``name`` → Param).
    exclusion_criteria: ClassVar[dict[str, Param]] = {}
    #: File-name stem of the measurement table (``tables/<stem>.csv``).
    table_name: ClassVar[str] = ""

    # ---- study-file declarations -------------------------------------------------

    def check_rule(self, rule: dict[str, Any], file: Path, where: str) -> None:
        """Validate one ``[[exclusions]]`` rule for this assay (default: accept)."""

    def check_options(self, options: dict[str, Any], file: Path) -> None:
        """Validate the assay's ``[<name>]`` options beyond their schema (default: accept)."""

    def protocol(self, ctx: AssayContext) -> Protocol:
        """Load this assay's protocol named by the study file and record it in ``ctx``."""
        from nplab.protocols import load_protocol

        proto = load_protocol(ctx.study.protocols[self.name], kind=self.protocol_kind)
        ctx.protocols[self.name] = proto
        return proto

    # ---- the run --------------------------------------------------------------------

    def read(self, ctx: AssayContext) -> Any:
        """File-I/O edge: read what the study names for this assay (tables; for
        recordings, the batch reader's per-sweep measurements)."""
        raise NotImplementedError

    def measure(self, ctx: AssayContext, raw: Any) -> Any:
        """Raw tables → this assay's measurements (pure).  ``per_animal`` assays return
        one DataFrame row per animal × paw × time point."""
        raise NotImplementedError

    def exclusion_reasons(
        self, rule: dict[str, Any], row: pd.Series, baseline: pd.Series | None
    ) -> list[str]:
        """Reasons why ``rule`` excludes an animal (its ``row`` at the rule's time
        point and paw; ``baseline`` its baseline row, if any); empty: kept."""
        return []

    def analyse(self, ctx: AssayContext, measured: Any) -> AssayReport:
        """Measurements → report, tables, statistics (pure)."""
        raise NotImplementedError


AssayFactory = Callable[[], Assay]
