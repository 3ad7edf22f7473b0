"""No import circles in the application: every module's imports, read with ast, make a graph without cycles.

Imports at module level and inside functions both count (a function-level import only delays a circle until
the function runs). Imports under ``if TYPE_CHECKING:`` do not run, so they do not count. ``from a import b``
is an edge to the module ``a.b`` when there is one, else to ``a``; the implicit import of a module's parent
packages is not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app" / "flushscope"


def _modules(package: Path) -> dict[str, Path]:
    """Every module of ``package`` (a folder), by its dotted name."""
    found: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, name: str, is_package: bool) -> list[str]:
    """The dotted names ``tree`` (module ``name``) imports, leaving out what only type checkers read."""
    names: list[str] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, base] if base else here)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return names


def import_graph(package: Path) -> dict[str, set[str]]:
    """For each module of ``package``, the modules of the same package it imports."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for target in _imported(tree, name, path.name == "__init__.py"):
            # ``from a import b``: the module a.b if there is one, else a (b is a name in it).
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle_in(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One circle through the first module of ``component``, as the path of imports that closes it."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"no circle through {start}")  # a component always has one


def import_cycles(package: Path) -> list[str]:
    """Each circle of imports in ``package``, written as ``a -> b -> a`` (one per tangle of modules)."""
    graph = import_graph(package)
    return [" -> ".join(_cycle_in(graph, component)) for component in _components(graph)]


def test_the_application_has_no_import_cycles() -> None:
    assert import_cycles(APP) == []


def test_a_cycle_is_found_and_named_and_type_checking_imports_are_left_out(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    # Inside a function, and relative: still an import that runs.
    (package / "sub" / "b.py").write_text("def f():\n    from .. import c\n    return c\n")
    (package / "c.py").write_text("import pkg.a\n")
    # Only for type checkers: no circle g <-> h.
    (package / "g.py").write_text("import pkg.h\n")
    (package / "h.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import g\n"
    )
    (package / "e.py").write_text(
        "import typing\nif typing.TYPE_CHECKING:\n    import pkg.f\nelse:\n    import pkg.f\n"
    )
    (package / "f.py").write_text("from pkg.e import something\n")
    assert import_graph(package)["pkg.sub.b"] == {"pkg.c"}
    assert import_cycles(package) == ["pkg.a -> pkg.sub.b -> pkg.c -> pkg.a", "pkg.e -> pkg.f -> pkg.e"]
