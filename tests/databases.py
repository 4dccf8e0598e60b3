"""A throwaway database, migrated by Alembic, as the tests and the benchmarks use one: an SQLite file
in a directory, or a uniquely named PostgreSQL database on a server, dropped at the end so other users
of that server are not disturbed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def scratch_database(directory: Path, postgres_url: str | None = None, *, prefix: str = "huiqi_test") -> Iterator[str]:
    """A new empty database: an SQLite file in `directory`, or, with `postgres_url` (a server), a
    PostgreSQL database of its own there, dropped afterwards. Yields its URL."""
    if not postgres_url:
        yield f"sqlite:///{directory / f'huiqi-{uuid.uuid4().hex[:8]}.db'}"
        return
    server = make_url(postgres_url)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def alembic_config(url: str) -> Config:
    """The project's Alembic configuration, pointed at `url`."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def migrate(url: str) -> None:
    """`alembic upgrade head` on `url`."""
    command.upgrade(alembic_config(url), "head")
