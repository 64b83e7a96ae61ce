"""Parameter layout of a (multi-curve) dose–response fit.

A fit estimates a vector ``theta`` of free parameters. Each curve k has the five
family parameters (hill, bottom, top, ic50, asym); each is either fixed (by the model,
e.g. LL.3's bottom = 0, or by the user), shared (one entry of ``theta`` for all curves,
drc's ``pmodels`` with a common parameter) or curve-specific (one entry per curve).
:class:`Layout` maps ``theta`` to the (K, 5) matrix of curve parameters and scatters
the model derivatives into the Jacobian with respect to ``theta``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nplab.doseresponse.models import PARAMETERS, evaluate

__all__ = ["Layout"]


@dataclass
class Layout:
    """Mapping between the free-parameter vector and per-curve parameters.

    Attributes
    ----------
    family
        Model family (``"LL"``, ``"W1"``, ``"W2"``).
    index
        (K, 5) int array: position in ``theta`` of each curve parameter, -1 if fixed.
    fixed_values
        (K, 5) float array of the fixed values (ignored where ``index >= 0``).
    names
        For each entry of ``theta``: (curve position or -1 when shared, parameter name).
    """

    family: str
    index: np.ndarray
    fixed_values: np.ndarray
    names: list[tuple[int, str]]

    @classmethod
    def build(
        cls,
        family: str,
        n_curves: int,
        free: tuple[str, ...],
        fixed: dict[str, float],
        shared: tuple[str, ...],
    ) -> Layout:
        index = -np.ones((n_curves, 5), dtype=int)
        values = np.zeros((n_curves, 5))
        names: list[tuple[int, str]] = []
        if not shared:  # vectorised: curve-major, drc parameter order
            js = [j for j, p in enumerate(PARAMETERS) if p in free and p not in fixed]
            for j, pname in enumerate(PARAMETERS):
                if pname in fixed:
                    values[:, j] = fixed[pname]
                elif pname not in free:
                    values[:, j] = 1.0 if pname == "asym" else 0.0
            if js:
                index[:, js] = np.arange(n_curves * len(js)).reshape(n_curves, len(js))
            names = [(k, PARAMETERS[j]) for k in range(n_curves) for j in js]
            return cls(family, index, values, names)
        for j, pname in enumerate(PARAMETERS):
            if pname in fixed:
                values[:, j] = fixed[pname]
            elif pname not in free:
                values[:, j] = 1.0 if pname == "asym" else 0.0
            elif pname in shared:
                index[:, j] = len(names)
                names.append((-1, pname))
        for k in range(n_curves):
            for j, pname in enumerate(PARAMETERS):
                if pname in free and pname not in fixed and pname not in shared:
                    index[k, j] = len(names)
                    names.append((k, pname))
        return cls(family, index, values, names)

    @property
    def n_free(self) -> int:
        return len(self.names)

    def full(self, theta: np.ndarray) -> np.ndarray:
        """(K, 5) curve parameters from ``theta``."""
        out = self.fixed_values.copy()
        mask = self.index >= 0
        out[mask] = np.asarray(theta, dtype=float)[self.index[mask]]
        return out

    def full_curve(self, theta: np.ndarray, k: int) -> np.ndarray:
        """(5,) parameters of curve ``k``."""
        out = self.fixed_values[k].copy()
        row = self.index[k]
        mask = row >= 0
        out[mask] = np.asarray(theta, dtype=float)[row[mask]]
        return out

    def pack(self, full: np.ndarray) -> np.ndarray:
        """``theta`` from (K, 5) curve parameters (shared entries: mean over curves)."""
        theta = np.zeros(self.n_free)
        count = np.zeros(self.n_free)
        mask = self.index >= 0
        np.add.at(theta, self.index[mask], np.asarray(full, dtype=float)[mask])
        np.add.at(count, self.index[mask], 1.0)
        return theta / np.maximum(count, 1.0)

    def predict(self, theta: np.ndarray, x: np.ndarray, curve_idx: np.ndarray) -> np.ndarray:
        return evaluate(self.family, x, self.full(theta)[curve_idx])

    def jacobian(
        self, theta: np.ndarray, x: np.ndarray, curve_idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Model values (n,) and Jacobian (n, n_free) with respect to ``theta``."""
        values, jfull = evaluate(self.family, x, self.full(theta)[curve_idx], jacobian=True)
        jac = np.zeros((x.size, self.n_free))
        rows = np.arange(x.size)
        for j in range(5):
            cols = self.index[curve_idx, j]
            ok = cols >= 0
            jac[rows[ok], cols[ok]] = jfull[ok, j]
        return values, jac
