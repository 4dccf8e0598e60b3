"""Events fixtures: an app of its own on a copy of rules/ (so a test may change a rule and reload), and
profiles whose status under 苏贸贷 a looser rule changes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, make_settings
from tests.helpers import SUMAO_LOOSER

# Jiangsu manufacturers: a large exporter (ineligible for 苏贸贷 until large firms are let in), a small
# exporter (eligible either way) and a large firm that does not trade abroad (ineligible either way).
LARGE_EXPORTER = {"name": "大型出口企业", "region_code": "320506", "industry_code": "C3911", "entity_type": "enterprise",
                  "employees": 2000, "annual_revenue": 5e9, "export_revenue": 1e9, "import_value": 0}
SMALL_EXPORTER = {**LARGE_EXPORTER, "name": "小型出口企业", "employees": 50, "annual_revenue": 2e7, "export_revenue": 5e6}
LARGE_DOMESTIC = {**LARGE_EXPORTER, "name": "大型内销企业", "export_revenue": 0, "activities": []}


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", directory)
    return directory


def loosen_sumao(rules: Path) -> None:
    path = rules / "js-sumao-loan.yaml"
    text = path.read_text(encoding="utf-8")
    assert SUMAO_LOOSER[0] in text
    path.write_text(text.replace(*SUMAO_LOOSER), encoding="utf-8")


@pytest.fixture
def start(database_url: str, rules: Path) -> Iterator[Callable[..., TestClient]]:
    """start(**settings) → a running app of its own on the session's database and the rules copy."""
    from app.main import create_app

    running: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(make_settings(database_url, rules_dir=rules, **overrides)))
        client.__enter__()
        running.append(client)
        return client

    yield make
    for client in running:
        client.__exit__(None, None, None)


def key(client: TestClient, *scopes: str) -> dict[str, str]:
    from app.clients.service import create_client

    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        _, secret = create_client(session, name="events partner", scopes=list(scopes))
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def store(client: TestClient, headers: dict[str, str], profile: dict[str, Any]) -> str:
    response = client.post("/v1/companies", json={"profile": profile}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def read_all(client: TestClient, headers: dict[str, str], after: int = 0) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 2}, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        after = body["next_after"]
        if not body["has_more"]:
            return items
