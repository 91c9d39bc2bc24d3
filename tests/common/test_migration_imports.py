"""Migrations are history: a revision carries frozen copies of what it needs and never imports live code.

A revision that imports ``services.…`` changes meaning when that code changes (or fails to import once it
moves), so an old database would be upgraded differently from the one the revision was written for. Only
each service's ``env.py`` may import the service (for its metadata, used by autogenerate and checks).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REVISIONS = sorted((ROOT / "migrations").glob("*/versions/*.py"))


def _imported_modules(path: Path) -> list[str]:
    modules: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.append(node.module)
    return modules


def test_there_are_revisions_to_check() -> None:
    assert len(REVISIONS) >= 4


def test_no_migration_revision_imports_a_service() -> None:
    offenders = {
        str(path.relative_to(ROOT)): [m for m in _imported_modules(path) if m.split(".")[0] == "services"]
        for path in REVISIONS
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}
