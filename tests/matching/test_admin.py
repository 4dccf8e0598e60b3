"""POST /v1/admin/reload: a broken rule file is refused (file and line named) and the running rule set
keeps serving; a good change is swapped in and its new rule versions are recorded."""

from __future__ import annotations

import gc
import shutil
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.clients.service import create_client
from app.db.models import RuleVersion
from app.engine import load_ruleset
from tests.conftest import ROOT, make_settings
from tests.helpers import assert_problem

PROFILE = {"region_code": "320506", "industry_code": "C3911", "employees": 80,
           "annual_revenue": 30000000, "export_revenue": 9000000, "activities": [], "entity_type": "enterprise"}


@pytest.fixture
def rules(tmp_path):  # type: ignore[no-untyped-def]
    directory = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", directory)
    return directory


@pytest.fixture
def running(database_url, rules) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from app.main import create_app

    app = create_app(make_settings(database_url, rules_dir=rules))
    with TestClient(app) as client:
        with app.state.session_factory() as session:
            _, key = create_client(session, name="operator", scopes=["admin"])
            session.commit()
        yield client, {"Authorization": f"Bearer {key}"}


def a_rule_file(rules) -> Any:  # type: ignore[no-untyped-def]
    return min(rules.glob("*.yaml"))


def test_reload_needs_the_admin_scope(running) -> None:
    client, _ = running
    assert_problem(client.post("/v1/admin/reload"), 401)


def test_a_broken_rule_file_is_refused_and_the_old_set_keeps_serving(running, rules) -> None:
    client, admin = running
    before = client.get("/readyz").json()["ruleset_version"]
    path = a_rule_file(rules)
    path.write_text(path.read_text(encoding="utf-8") + "\nmystery_key: 1\n", encoding="utf-8")
    response = client.post("/v1/admin/reload", headers=admin)
    assert_problem(response, 422, "/problems/ruleset-rejected")
    problem = response.json()
    assert any(p["file"].endswith(path.name) and p["line"] and "mystery_key" in p["reason"]
               for p in problem["problems"]), problem
    assert path.name in problem["detail"]
    assert problem["ruleset_version"] == before
    # Still serving the old set.
    answer = client.post("/v1/match", json={"profile": PROFILE, "as_of": "2024-06-30"})
    assert answer.status_code == 200
    assert answer.json()["ruleset"]["version"] == before
    assert answer.headers["huiqi-ruleset-version"] == before


def test_a_good_reload_swaps_the_set_and_records_new_versions(running, rules) -> None:
    client, admin = running
    before = client.get("/readyz").json()["ruleset_version"]
    unchanged = client.post("/v1/admin/reload", headers=admin).json()
    assert unchanged == {"ruleset_version": before, "previous_version": before, "changed": False,
                         "rules": unchanged["rules"], "new_rule_versions": 0}
    path = a_rule_file(rules)
    path.write_text(path.read_text(encoding="utf-8") + "\n# reviewed again\n", encoding="utf-8")
    report = client.post("/v1/admin/reload", headers=admin).json()
    assert report["changed"] and report["previous_version"] == before and report["new_rule_versions"] == 1
    assert client.get("/readyz").json()["ruleset_version"] == report["ruleset_version"]
    answer = client.post("/v1/match", json={"profile": PROFILE, "as_of": "2024-06-30"}).json()
    assert answer["ruleset"]["version"] == report["ruleset_version"]
    rule_id = path.stem
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        texts = session.scalars(select(RuleVersion.content).where(RuleVersion.rule_id == rule_id)).all()
    assert any(text.endswith("# reviewed again\n") for text in texts)


def test_a_reload_to_rules_other_than_the_pinned_version_is_refused(database_url, rules) -> None:
    from app.main import create_app

    version = load_ruleset(rules).version  # what is on disk now
    app = create_app(make_settings(database_url, rules_dir=rules, expected_ruleset_version=version))
    with TestClient(app) as client:
        with app.state.session_factory() as session:
            _, key = create_client(session, name="operator", scopes=["admin"])
            session.commit()
        path = a_rule_file(rules)
        path.write_text(path.read_text(encoding="utf-8") + "\n# an unreleased edit\n", encoding="utf-8")
        body = assert_problem(client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {key}"}), 422,
                              "/problems/ruleset-rejected")
        assert body["expected_version"] == version and "is kept" in body["detail"]
        assert client.get("/readyz").json()["ruleset_version"] == version


def test_a_replaced_rule_set_is_freed(running, rules) -> None:
    client, admin = running
    replaced = weakref.ref(client.app.state.rules.current)  # type: ignore[attr-defined]
    path = a_rule_file(rules)
    path.write_text(path.read_text(encoding="utf-8") + "\n# reviewed once more\n", encoding="utf-8")
    assert client.post("/v1/admin/reload", headers=admin).json()["changed"]
    # The start-up objects are frozen out of the collector (app/heap.py): a reload must not leave the
    # old set there for good.
    gc.collect()
    assert replaced() is None
