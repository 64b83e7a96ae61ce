"""Von Frey filament kits: forces in grams, handle (evaluator) numbers where defined.

A handle/evaluator number is log10(force in mg x 10) = log10(force in g x 10^4)
(Chaplan et al. 1994); for commercial kits it is the *nominal* size printed on the
handle, which is not exactly log10 of the nominal target force (e.g. 4.08 -> 1.202 g
against a target of 1.0 g).  The protocol's ``xf_source`` chooses which of the two
log scales the threshold is computed on: ``handle`` (Chaplan) or ``grams``
(log10(g x 10^4) of the kit's forces, nominal or calibrated).

Kits shipped
------------
``chaplan-rat``
    The 8 Semmes-Weinstein filaments of Chaplan et al. (1994): handles 3.61, 3.84,
    4.08, 4.31, 4.56, 4.74, 4.93, 5.18; nominal forces 0.4, 0.6, 1, 2, 4, 6, 8, 15 g.
``mouse-9``
    A common 9-filament mouse set, 0.008-2 g (handles 1.65-4.31), as used in the
    examples of the R package up.down.ld50 (Christensen et al. 2020).
``touch-test-20``
    The 20-piece Touch-Test / Semmes-Weinstein sensory evaluator kit, 1.65-6.65
    (0.008-300 g); North Coast Medical Touch-Test Sensory Evaluator instructions
    (2011), as tabulated in PMC7873561 Table 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nplab.errors import ProtocolError

__all__ = ["KITS", "Kit", "kit_from_params"]

_TOUCH_TEST_20 = (
    (1.65, 0.008),
    (2.36, 0.02),
    (2.44, 0.04),
    (2.83, 0.07),
    (3.22, 0.16),
    (3.61, 0.4),
    (3.84, 0.6),
    (4.08, 1.0),
    (4.17, 1.4),
    (4.31, 2.0),
    (4.56, 4.0),
    (4.74, 6.0),
    (4.93, 8.0),
    (5.07, 10.0),
    (5.18, 15.0),
    (5.46, 26.0),
    (5.88, 60.0),
    (6.10, 100.0),
    (6.45, 180.0),
    (6.65, 300.0),
)


@dataclass(frozen=True)
class Kit:
    """A filament kit, weakest first.

    Attributes
    ----------
    name
        Kit name (recorded in every output row).
    grams
        Force of each filament in grams (nominal or calibrated), strictly increasing.
    handles
        Handle/evaluator numbers, or ``None`` if the kit has none.
    """

    name: str
    grams: tuple[float, ...]
    handles: tuple[float, ...] | None = None

    def __len__(self) -> int:
        return len(self.grams)

    def log_values(self, xf_source: str, *, file: str | None = None) -> np.ndarray:
        """Log scale of the kit: handle numbers, or log10(grams x 10^4).

        ``file`` (the protocol's path) is named in the error for a kit without handles.
        """
        if xf_source == "handle":
            if self.handles is None:
                raise ProtocolError(
                    f"kit '{self.name}' has no handle numbers",
                    file=file,
                    column="xf_source",
                    expected="xf_source = 'grams' or a kit with handles",
                )
            return np.asarray(self.handles, dtype=float)
        return np.log10(np.asarray(self.grams, dtype=float) * 1e4)

    def index_of(self, value: float, unit: str) -> int | None:
        """0-based index of the filament recorded as ``value`` (grams or handle), or None."""
        ref = self.grams if unit == "grams" else self.handles
        if ref is None:
            return None
        hits = np.flatnonzero(np.isclose(np.asarray(ref), float(value), rtol=1e-9, atol=1e-9))
        return int(hits[0]) if hits.size else None

    def labels(self, unit: str) -> str:
        ref = self.grams if unit == "grams" else self.handles
        return ", ".join(f"{v:g}" for v in (ref or ()))


KITS: dict[str, Kit] = {
    "chaplan-rat": Kit(
        "chaplan-rat",
        (0.4, 0.6, 1.0, 2.0, 4.0, 6.0, 8.0, 15.0),
        (3.61, 3.84, 4.08, 4.31, 4.56, 4.74, 4.93, 5.18),
    ),
    "mouse-9": Kit(
        "mouse-9",
        (0.008, 0.02, 0.04, 0.07, 0.16, 0.4, 0.6, 1.0, 2.0),
        (1.65, 2.36, 2.44, 2.83, 3.22, 3.61, 3.84, 4.08, 4.31),
    ),
    "touch-test-20": Kit(
        "touch-test-20",
        tuple(g for _, g in _TOUCH_TEST_20),
        tuple(h for h, _ in _TOUCH_TEST_20),
    ),
}


def kit_from_params(params: dict, *, file: str | None = None) -> Kit:
    """The kit a protocol names (``kit``), or its custom ``filaments_g``/``handles``."""
    name = params["kit"]
    grams, handles = params.get("filaments_g"), params.get("handles")
    if name != "custom":
        if grams is not None or handles is not None:
            raise ProtocolError(
                f"filaments_g/handles given with the shipped kit '{name}'",
                file=file,
                column="filaments_g",
                expected="kit = 'custom' to define your own filaments",
            )
        return KITS[name]
    if not grams or len(grams) < 2:
        raise ProtocolError(
            "a custom kit needs its forces", file=file, column="filaments_g",
            expected="a list of at least 2 forces in grams, weakest first",
        )
    g = np.asarray(grams, dtype=float)
    if np.any(g <= 0) or np.any(np.diff(g) <= 0):
        raise ProtocolError(
            "forces must be positive and strictly increasing", file=file, column="filaments_g",
            expected="weakest first, no repeats",
        )
    if handles is not None:
        h = np.asarray(handles, dtype=float)
        if len(h) != len(g) or np.any(np.diff(h) <= 0):
            raise ProtocolError(
                "handles must match filaments_g one to one and increase", file=file,
                column="handles", expected=f"{len(g)} increasing handle numbers",
            )
    return Kit("custom", tuple(map(float, g)), None if handles is None else tuple(handles))
