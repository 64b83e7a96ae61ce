"""``nplab.stats`` exports its functions lazily (issue 19.2) with the same names as before."""

from __future__ import annotations

import importlib
import subprocess
import sys

import nplab.stats


def test_every_public_name_resolves_to_its_submodule_object():
    for name in nplab.stats.__all__:
        module = importlib.import_module(f"nplab.stats.{nplab.stats._EXPORTS[name]}")
        assert getattr(nplab.stats, name) is getattr(module, name), name


def test_star_import_and_dir_list_every_public_name():
    ns: dict = {}
    exec("from nplab.stats import *", ns)
    assert set(nplab.stats.__all__) <= set(ns)
    assert set(nplab.stats.__all__) <= set(dir(nplab.stats))


def test_function_named_like_its_submodule_wins_whatever_loads_first():
    # nplab.stats.endpoints is the function (as with the former eager imports), even when
    # the submodule is imported directly before the name is looked up
    code = (
        "import nplab.stats.endpoints, nplab.stats as s, inspect\n"
        "print(inspect.isfunction(s.endpoints), s.endpoints.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out == ["True", "nplab.stats.endpoints"]


def test_unknown_name_is_an_attribute_error():
    try:
        nplab.stats.no_such_function  # noqa: B018
    except AttributeError as exc:
        assert "no_such_function" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
