"""The engine stays pure: no web framework, no database, no other app package, no clock or environment."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).parents[2] / "app" / "engine"
FORBIDDEN_ROOTS = {"fastapi", "starlette", "sqlalchemy", "jinja2", "alembic", "psycopg", "httpx", "uvicorn", "os"}


def imported_modules(tree: ast.AST) -> set[str]:
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_engine_imports_only_stdlib_pydantic_and_yaml() -> None:
    for path in ENGINE.rglob("*.py"):
        if "tools" in path.parts:  # data-building scripts run offline, not part of the engine
            continue
        modules = imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        bad = {m for m in modules if m.split(".")[0] in FORBIDDEN_ROOTS
               or (m.split(".")[0] == "app" and not m.startswith("app.engine"))}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_engine_reads_no_clock() -> None:
    for path in ENGINE.rglob("*.py"):
        if "tools" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for call in ("date.today(", "datetime.now(", "time.time(", "os.environ"):
            assert call not in text, f"{path.name} calls {call}"
