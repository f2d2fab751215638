"""The house has no import cycles: among the project's modules (specs, mockserver, contracts, twin,
fixtures) no module imports, directly or through others, a module that imports it back.

Every import counts, wherever it stands: at module level, inside a function (a lazy import only
hides a cycle, the two modules still need each other) and under `if TYPE_CHECKING:` (an
annotation-only import is still a dependency; a type both sides need belongs in a leaf module).
`from package import name` is an import of the module `package.name` when there is one, else of
`package`. Importing `a.b.c` counts as an import of `a.b.c` only, not of the `__init__` of `a` and
`a.b` that Python runs first: a package re-exporting its own modules is not a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("specs", "mockserver", "contracts", "twin", "fixtures")

# module → imported module → the lines of the imports
Graph = dict[str, dict[str, list[int]]]


def modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module of `packages` under `root`, by dotted name (a package by its `__init__.py`)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules one import statement of module `name` (file `path`) brings in."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        base = package[:len(package) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    targets = set()
    for alias in node.names:
        if f"{source}.{alias.name}" in known:
            targets.add(f"{source}.{alias.name}")
        elif source in known:
            targets.add(source)
    return targets


def import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> Graph:
    """Which project module imports which (every import statement in the file, as the module docstring says)."""
    known = modules(root, packages)
    graph: Graph = {name: {} for name in known}
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _imported(node, name, path, known) - {name}:
                    graph[name].setdefault(target, []).append(node.lineno)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def describe(graph: Graph, cycle: list[str], root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> str:
    """A cycle as its files and the imports that close it (`file:line imports module`)."""
    known = modules(root, packages)
    files = ", ".join(str(known[m].relative_to(root)) if m in known else m for m in cycle)
    lines = [f"  {files}"]
    for module in cycle:
        where = str(known[module].relative_to(root)) if module in known else module
        for target, numbers in sorted(graph[module].items()):
            if target in cycle:
                lines.append(f"    {where}:{','.join(map(str, numbers))} imports {target}")
    return "\n".join(lines)


def test_the_project_has_no_import_cycle() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, f"{len(found)} import cycle(s):\n" + "\n".join(describe(graph, c) for c in found)


def test_the_graph_sees_every_package_of_the_project() -> None:
    graph = import_graph()
    assert {name.split(".")[0] for name in graph} == set(PACKAGES)
    assert "mockserver.world" in graph["mockserver.engine"]
    assert "specs.prose" in graph["specs.emitter"]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_cycle_closed_by_a_function_level_import_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/state.py": "def app():\n    from .web import build\n    return build()\n",
        "pkg/web.py": "from pkg.state import app\n",
    })
    graph = import_graph(root, ("pkg",))
    assert cycles(graph) == [["pkg.state", "pkg.web"]]
    assert "pkg/state.py:2 imports pkg.web" in describe(graph, ["pkg.state", "pkg.web"], root, ("pkg",))


def test_a_cycle_closed_by_a_type_checking_import_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/context.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..world import World\n",
        "pkg/world.py": "from .sub import context\n",
    })
    assert cycles(import_graph(root, ("pkg",))) == [["pkg.sub.context", "pkg.world"]]


def test_one_way_imports_and_a_package_importing_its_modules_are_no_cycle(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pkg/__init__.py": "from .apps import mount\nfrom .fake import Fake\n",
        "pkg/fake.py": "from . import ids\n",
        "pkg/ids.py": "",
        "pkg/apps.py": "from .fake import Fake\nfrom pkg import ids\n",
    })
    graph = import_graph(root, ("pkg",))
    assert graph["pkg.apps"] == {"pkg.fake": [1], "pkg.ids": [2]}
    assert cycles(graph) == []
