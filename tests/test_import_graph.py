"""The package's import graph has no cycle, counting imports inside functions too.

Every module of ``vocoder`` is parsed with ``ast`` (nothing is imported), and
every import of a package module becomes an edge, wherever it stands: at the
top, inside a function or method, under ``if TYPE_CHECKING``. ``from vocoder.a
import b`` is an edge to ``vocoder.a.b`` when that is a module, else to
``vocoder.a``; importing a package is an edge to its ``__init__``. Layers only
work if imports go down, and a cycle hidden in a function is still a cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "vocoder"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = "in a function" if self.in_function else "at top level"
        return f"{self.source} -> {self.target} (line {self.line}, {where})"


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → file, for every .py file of the package (a package is its __init__)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _absolute(base: str | None, level: int, name: str, modules: dict[str, Path]) -> str | None:
    """The absolute module an ``ImportFrom`` names (relative levels resolved), or None if outside."""
    if level == 0:
        return base
    package = name if _is_package(name, modules) else name.rpartition(".")[0]
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None
    anchor = ".".join(parts[: len(parts) - (level - 1)])
    return f"{anchor}.{base}" if base else anchor


def _inside(name: str | None) -> bool:
    return name is not None and (name == PACKAGE or name.startswith(PACKAGE + "."))


def _targets(node: ast.Import | ast.ImportFrom, name: str, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if _inside(alias.name)]
    base = _absolute(node.module, node.level, name, modules)
    if not _inside(base):
        return []
    found = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        found.append(sub if sub in modules else base)
    return found


def module_imports(name: str, modules: dict[str, Path]) -> list[Edge]:
    """Every package-internal import of one module, with its line and whether a function holds it."""
    tree = ast.parse(modules[name].read_text(encoding="utf-8"), filename=str(modules[name]))
    edges: list[Edge] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target in _targets(node, name, modules):
                edges.append(Edge(name, target, node.lineno, in_function))
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return edges


def import_graph(root: Path = ROOT) -> list[Edge]:
    modules = module_files(root)
    return [edge for name in modules for edge in module_imports(name, modules)]


def cycles(edges: list[Edge]) -> list[list[Edge]]:
    """The shortest cycle through each module that lies on one (each cycle once), component by component."""
    graph: dict[str, list[Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, []).append(edge)
        graph.setdefault(edge.target, [])
    found: list[list[Edge]] = []
    seen: set[frozenset[tuple[str, str]]] = set()
    for component in sorted(sorted(c) for c in _components(graph)):
        members = set(component)
        for start in component:
            path = _cycle_from(start, members, graph)
            key = frozenset((e.source, e.target) for e in path)
            if path and key not in seen:
                seen.add(key)
                found.append(path)
    return found


def _components(graph: dict[str, list[Edge]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for edge in children:
                child = edge.target
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                    if len(component) > 1 or any(e.target == node for e in graph[node]):
                        result.append(component)
    return result


def _cycle_from(start: str, members: set[str], graph: dict[str, list[Edge]]) -> list[Edge]:
    """The shortest cycle through ``start`` inside one component (breadth first)."""
    previous: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in sorted(graph[node], key=lambda e: (e.target, e.line)):
                if edge.target not in members:
                    continue
                if edge.target == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, previous[path[0].source])
                    return path
                if edge.target not in previous:
                    previous[edge.target] = edge
                    following.append(edge.target)
        frontier = following
    return []


def describe(found: list[list[Edge]]) -> str:
    return "\n\n".join("cycle:\n  " + "\n  ".join(str(edge) for edge in path) for path in found)


def test_the_walk_sees_imports_of_every_kind(tmp_path):
    package = tmp_path / PACKAGE
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from vocoder.sub import leaf\n")
    (package / "sub" / "leaf.py").write_text("from . import sibling\nfrom .. import top\n")
    (package / "sub" / "sibling.py").write_text("def f():\n    from vocoder.sub.leaf import thing\n")
    (package / "top.py").write_text("import os\n\nclass A:\n    def m(self):\n        import vocoder.sub\n")
    edges = {(e.source, e.target, e.in_function) for e in import_graph(package)}
    assert edges == {
        ("vocoder.sub", "vocoder.sub.leaf", False),
        ("vocoder.sub.leaf", "vocoder.sub.sibling", False),
        ("vocoder.sub.leaf", "vocoder.top", False),
        ("vocoder.sub.sibling", "vocoder.sub.leaf", True),
        ("vocoder.top", "vocoder.sub", True),
    }
    found = cycles(import_graph(package))
    assert [[e.source for e in path] for path in found] == [
        ["vocoder.sub", "vocoder.sub.leaf", "vocoder.top"],
        ["vocoder.sub.leaf", "vocoder.sub.sibling"],
    ]
    assert "in a function" in describe(found)


def test_the_package_has_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles in the vocoder package:\n" + describe(found)
