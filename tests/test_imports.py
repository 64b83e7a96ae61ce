"""The import graph of ``nplab`` has no circle (layers read one way).

Every ``import``/``from ... import`` statement that runs, in every module under
``src/nplab``, is read with :mod:`ast`: at module level and deferred inside functions
alike (the fitting <-> inference circle of issue 12 closed through a deferred import), but
not the ``if TYPE_CHECKING:`` imports that exist only for type hints. The graph of
nplab modules must be acyclic.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_files(src: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``src``."""
    out = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _targets(node: ast.AST, module: str, is_package: bool, known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative import
        pkg = module.split(".") if is_package else module.split(".")[:-1]
        pkg = pkg[: len(pkg) - (node.level - 1)]
        base = ".".join([*pkg, *([node.module] if node.module else [])])
    # ``from pkg import sub`` imports the submodule ``pkg.sub``; otherwise a name of ``pkg``
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if _is_type_checking(node):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def import_graph(src: Path) -> dict[str, set[str]]:
    """Edges module -> modules of the same tree it imports when it runs."""
    files = module_files(src)
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _runtime_nodes(tree):
            for target in _targets(node, module, path.name == "__init__.py", files):
                if target in files and target != module:
                    graph[module].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        path.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return [*path[path.index(v):], v]
            if v not in state and (found := visit(v)):
                return found
        path.pop()
        state[u] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_nplab_import_graph_has_no_cycle():
    graph = import_graph(SRC)
    assert "nplab.doseresponse.fitting" in graph and len(graph) > 50
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_doseresponse_layers_read_one_way():
    graph = import_graph(SRC)
    assert "nplab.doseresponse.result" in graph["nplab.doseresponse.inference"]
    assert "nplab.doseresponse.inference" in graph["nplab.doseresponse.fitting"]
    assert "nplab.doseresponse.fitting" not in graph["nplab.doseresponse.inference"]


def test_cycle_finder_reports_a_deferred_circle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import g\n\ndef f():\n    return g()\n")
    (pkg / "b.py").write_text("def g():\n    from . import a\n    return a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nimport pkg.a\n"
        "if TYPE_CHECKING:\n    from pkg.d import D\nelse:\n    import pkg.b\n"
    )
    (pkg / "d.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    import pkg.c\n")
    graph = import_graph(tmp_path)
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"},
                     "pkg.c": {"pkg.a", "pkg.b"}, "pkg.d": set()}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    (pkg / "b.py").write_text("def g():\n    return 1\n")
    assert find_cycle(import_graph(tmp_path)) is None
