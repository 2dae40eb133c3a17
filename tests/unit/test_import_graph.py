"""No import cycle between Versa's modules, counting every import statement wherever it stands.

Function-level imports and imports under `TYPE_CHECKING` hide a cycle from the interpreter but not from
a reader: each is an edge here. The graph is read from the source (the AST of every module under
`shared/versa`), so nothing is imported to check it. import-linter's contracts (`make check`) guard the
direction of the layers; this test guards against loops inside and across them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"


def module_name(path: Path, root: Path) -> str:
    """`shared/versa/pack/model.py` -> `versa.pack.model`; a package's `__init__` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module an ImportFrom names, with relative imports resolved against `module`."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(source: str, module: str, known: Iterable[str], *, is_package: bool = False) -> set[str]:
    """The known modules `source` imports, anywhere in it (module level, functions, TYPE_CHECKING).

    `from a.b import c` is an edge to `a.b.c` when that is a module, else to `a.b`."""
    names = set(known)
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in names}
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node, module, is_package)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in names:
                    found.add(sub)
                elif target in names:
                    found.add(target)
    found.discard(module)
    return found


def import_graph(root: Path, package: str = "versa") -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports, for every module under `root/package`."""
    paths = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    return {
        name: imports_of(path.read_text(encoding="utf-8"), name, paths, is_package=path.name == "__init__.py")
        for name, path in paths.items()
    }


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted: an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a deep graph never meets the recursion limit.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


# ------------------------------------------------------------------------------------------- tests


def test_the_checker_sees_a_cycle_hidden_in_a_function() -> None:
    # GIVEN three modules whose loop closes only through imports inside a function and TYPE_CHECKING
    known = {"app.a", "app.b", "app.c", "app.d"}
    graph = {
        "app.a": imports_of("from app.b import thing\n", "app.a", known),
        "app.b": imports_of("def f():\n    from app import c\n", "app.b", known),
        "app.c": imports_of(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import X\n", "app.c", known
        ),
        "app.d": imports_of("import app.a\n", "app.d", known),
    }

    # WHEN cycles are looked for
    found = cycles(graph)

    # THEN the hidden loop a -> b -> c -> a is reported, and d (which only leans on it) is not in it
    assert found == [["app.a", "app.b", "app.c"]]


def test_the_checker_passes_a_graph_without_loops() -> None:
    # GIVEN modules that import downward only / WHEN checked / THEN nothing is reported
    assert cycles({"x.top": {"x.mid", "x.low"}, "x.mid": {"x.low"}, "x.low": set()}) == []


def test_the_graph_is_read_from_every_module() -> None:
    # GIVEN Versa's source / WHEN its graph is read
    graph = import_graph(SHARED)

    # THEN it holds every module, with edges that are known to exist (a function-level one included)
    assert len(graph) == len(list((SHARED / "versa").rglob("*.py")))
    assert "versa.decide.rules" in graph["versa.web.service"]
    assert "versa.authoring.lint" in graph["versa.cli.main"]  # imported inside a command function


def test_versa_has_no_import_cycle() -> None:
    # GIVEN every import statement of every module under shared/versa
    graph = import_graph(SHARED)

    # WHEN strongly connected groups of modules are looked for
    found = cycles(graph)

    # THEN there is none: dependencies form a tree-like order a reader can follow one way
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(group) for group in found)
