"""The study runner's rooms: a registry of assays.

Every module of this package that defines an :class:`~nplab.assays.base.Assay`
subclass decorated with :func:`register` is an assay the study runner can visit;
modules are discovered at first use (:func:`registry`), so adding an assay means adding
one module (plus its protocols) — neither the runner nor the study-file loader names
any assay.  Private modules (``_name.py``) hold shared fittings and are not assays
themselves.  Third-party packages can add assays through the ``nplab.assays`` entry
point group (each entry point names a module that registers its assays on import).

See ``docs/architecture.md`` for the interface and a worked example.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points

from nplab.assays.base import Assay, AssayContext, AssayReport

__all__ = ["Assay", "AssayContext", "AssayReport", "get", "register", "registry"]

_REGISTRY: dict[str, type[Assay]] = {}
_DISCOVERED = False


def register(cls: type[Assay]) -> type[Assay]:
    """Class decorator: make ``cls`` an assay of the study runner under ``cls.name``."""
    if not cls.name or not cls.name.isidentifier():
        raise ValueError(f"assay {cls.__name__} needs a name that is an identifier")
    if cls.name == "animals":
        raise ValueError("'animals' is the study's animals table, not an assay name")
    other = _REGISTRY.get(cls.name)
    if other is not None and other is not cls and other.__qualname__ != cls.__qualname__:
        raise ValueError(f"two assays named {cls.name!r}: {other.__module__} and "
                         f"{cls.__module__}")
    _REGISTRY[cls.name] = cls
    return cls


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not mod.name.startswith("_") and mod.name != "base":
            importlib.import_module(f"{__name__}.{mod.name}")
    for ep in sorted(entry_points(group="nplab.assays"), key=lambda e: e.name):
        importlib.import_module(ep.value.split(":")[0])


def registry() -> dict[str, type[Assay]]:
    """Every registered assay by name (sorted by name)."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Assay:
    """A new instance of the assay called ``name`` (KeyError if there is none)."""
    return registry()[name]()
