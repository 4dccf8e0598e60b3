"""Shared fixtures: a database built by `alembic upgrade head`, and the real app on the real rules/.

The suite runs on an SQLite file by default and on PostgreSQL when TEST_DATABASE_URL names one; each
PostgreSQL session creates its own uniquely named database and drops it at the end, so other users of
the server (and of its `test` database) are not disturbed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings
from sqlalchemy import delete

from tests import databases
from tests.databases import migrate

ROOT = databases.ROOT
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")

# `make mutation` runs the fast tests once per mutant with `--hypothesis-profile=mutation`: the same
# examples on every run, so a mutant is killed or survives alike each time, and fewer of them
# (tests.helpers.examples).
settings.register_profile("mutation", derandomize=True, database=None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip)


def scratch_database(directory: Path) -> AbstractContextManager[str]:
    """A new empty database of the kind this run tests: SQLite, or PostgreSQL on TEST_DATABASE_URL's server."""
    return databases.scratch_database(directory, TEST_DATABASE_URL if ON_POSTGRES else None)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(tmp_path_factory.mktemp("db")) as url:
        migrate(url)
        yield url


def make_settings(database_url: str, **overrides: Any):  # type: ignore[no-untyped-def]
    from app.settings import Settings

    values: dict[str, Any] = {"database_url": database_url, "rules_dir": ROOT / "rules",
                              "seeds_file": ROOT / "seeds" / "companies.yaml", "rate_limit": 0}
    return Settings(**{**values, **overrides})


@pytest.fixture(scope="session")
def app(database_url: str) -> FastAPI:
    from app.main import create_app

    return create_app(make_settings(database_url))


@pytest.fixture(scope="session")
def _running(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(_running: TestClient, app: FastAPI) -> Iterator[TestClient]:
    """The app, started once per session; every test leaves the database's data tables empty."""
    yield _running
    from app.db.models import ApiClient, Company, Decision

    with app.state.session_factory() as session:
        for model in (Decision, Company, ApiClient):
            session.execute(delete(model))
        session.commit()


@pytest.fixture
def api_key(app: FastAPI, client: TestClient):  # type: ignore[no-untyped-def]
    """api_key(*scopes) → headers carrying a fresh key with those scopes."""
    from app.clients.service import create_client

    def make(*scopes: str, name: str = "test partner") -> dict[str, str]:
        with app.state.session_factory() as session:
            _, key = create_client(session, name=name, scopes=list(scopes))
            session.commit()
        return {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture(scope="session")
def seeds() -> dict[str, dict[str, Any]]:
    """The demo companies by key, as profiles (without `key`)."""
    data = yaml.safe_load((ROOT / "seeds" / "companies.yaml").read_text(encoding="utf-8"))
    return {entry["key"]: {k: v for k, v in entry.items() if k != "key"} for entry in data["companies"]}
