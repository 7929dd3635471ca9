"""``core`` is the lowest layer: it imports nothing of civicgrid but itself (ARCHITECTURE.md, Arrows)."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_imports_only_core() -> None:
    offending = {
        f"{path.relative_to(CORE)}: {name}"
        for path in CORE.rglob("*.py") if "tests" not in path.parts
        for name in _imports(path) if name.startswith("civicgrid.") and not name.startswith("civicgrid.core")
    }
    assert offending == set()

