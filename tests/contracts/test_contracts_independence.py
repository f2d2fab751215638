"""The judge stays independent of the twin: nothing under contracts/ imports mockserver/."""

from __future__ import annotations

import ast
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_of_the_judge_imports_the_twin() -> None:
    offenders = {
        str(path.relative_to(CONTRACTS.parent)): sorted(name for name in imported_modules(path)
                                                        if name == "mockserver" or name.startswith("mockserver."))
        for path in CONTRACTS.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_an_import_of_the_twin(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from mockserver.world import World\nimport mockserver\n")
    assert imported_modules(module) == {"mockserver.world", "mockserver"}
