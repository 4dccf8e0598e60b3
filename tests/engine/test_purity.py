"""The engine stays pure: no web framework, no database, no other app package, no clock or environment."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).parents[2] / "app" / "engine"
FORBIDDEN_ROOTS = {"fastapi", "starlette", "sqlalchemy", "jinja2", "alembic", "psycopg", "httpx", "uvicorn", "os"}


def imported_modules(tree: ast.AST, package: str) -> set[str]:
    """Every module a file imports, relative imports resolved against its package ("app.engine")."""
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                modules.add(".".join(base + ([node.module] if node.module else [])))
                if not node.module:  # from .. import db: each name is a module
                    modules.update(".".join([*base, alias.name]) for alias in node.names)
            elif node.module:
                modules.add(node.module)
    return modules


def package_of(path: Path) -> str:
    return ".".join(["app", *path.relative_to(ENGINE.parent).parent.parts])


def test_engine_imports_only_stdlib_pydantic_and_yaml() -> None:
    for path in ENGINE.rglob("*.py"):
        if "tools" in path.parts:  # data-building scripts run offline, not part of the engine
            continue
        modules = imported_modules(ast.parse(path.read_text(encoding="utf-8")), package_of(path))
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


def test_the_purity_check_sees_relative_imports_of_web_or_database_code() -> None:
    """The engine imports itself relatively: a relative import of the database must fail the check."""
    for source in ("from ..db.models import Decision", "from .. import db", "from ..main import create_app"):
        modules = imported_modules(ast.parse(source), "app.engine")
        assert any(m.split(".")[0] == "app" and not m.startswith("app.engine") for m in modules), source
    assert imported_modules(ast.parse("from .facts import derive_facts"), "app.engine") == {"app.engine.facts"}
