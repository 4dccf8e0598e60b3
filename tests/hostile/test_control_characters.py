"""Control characters are refused with a 422 naming the field in every text input (profiles, query
filters, console forms, sign-in), and no path answers 200 with a decision that was not stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import DataError

from app.db.models import Decision
from tests.helpers import assert_problem
from tests.hostile.conftest import form_token

NAMES = {"NUL": "\\u0000", "escape": "\\u001b", "DEL": "\\u007f", "line break": "a\\nb",
         "lone surrogate": "\\ud800"}


def decisions(app: FastAPI) -> int:
    with app.state.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Decision)) or 0


def profile_json(name: str) -> bytes:
    return ('{"profile": {"region_code": "440305", "name": "Acme' + name + '"}}').encode()


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_match_refuses_a_control_character_and_logs_nothing(client: TestClient, app: FastAPI, name: str) -> None:
    before = decisions(app)
    response = client.post("/v1/match", content=profile_json(name), headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "/problems/validation")
    assert ["body", "profile", "name"] in [error["loc"] for error in body["errors"]]
    assert decisions(app) == before


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_storing_a_company_refuses_a_control_character(client: TestClient, api_key: Any, name: str) -> None:
    response = client.post("/v1/companies", content=profile_json(name),
                           headers={"Content-Type": "application/json", **api_key("companies:write")})
    body = assert_problem(response, 422, "/problems/validation")
    assert ["body", "profile", "name"] in [error["loc"] for error in body["errors"]]


@pytest.mark.parametrize("parameter", ["activity", "benefit_kind", "region"])
def test_query_filters_refuse_a_control_character(client: TestClient, parameter: str) -> None:
    body = assert_problem(client.get("/v1/policies", params={parameter: "loan\x00"}), 422)
    assert ["query", parameter] in [error["loc"] for error in body["errors"]]


def test_the_form_refuses_a_control_character_beside_the_name(client: TestClient, app: FastAPI) -> None:
    before = decisions(app)
    response = client.post("/answer", data={"province": "440000", "city": "440300", "county": "440305",
                                            "name": "Acme\x00"})
    assert response.status_code == 422
    assert 'field--error" id="field-name"' in response.text
    assert decisions(app) == before


def test_sign_in_refuses_a_control_character(client: TestClient, official: str) -> None:
    page = client.get("/console/sign-in")
    response = client.post("/console/sign-in", data={"username": official + "\x00", "password": "x" * 12,
                                                     "csrf_token": form_token(page.text)})
    body = assert_problem(response, 422)
    assert ["body", "username"] in [error["loc"] for error in body["errors"]]


@pytest.mark.parametrize("parameter", ["company", "credit_code", "policy", "date_from"])
def test_console_searches_refuse_a_control_character(client: TestClient, signed_in: str, parameter: str) -> None:
    body = assert_problem(client.get("/console/decisions", params={parameter: "x\x00"}), 422)
    assert ["query", parameter] in [error["loc"] for error in body["errors"]]


def test_a_draft_may_hold_line_breaks_and_tabs_but_no_nul(client: TestClient, signed_in: str) -> None:
    refused = client.post("/console/drafts", data={"text": "id: x\n\tkey: \x00", "csrf_token": signed_in})
    body = assert_problem(refused, 422)
    assert ["body", "text"] in [error["loc"] for error in body["errors"]]
    allowed = client.post("/console/drafts", data={"text": "id: x\r\n\tkey: y\n", "csrf_token": signed_in})
    assert allowed.status_code == 422 and "validation-error" in allowed.text  # a page listing the rule's errors


@pytest.fixture
def decisions_refused(app: FastAPI) -> Iterator[None]:
    """The database refuses every insert into the decision table (as PostgreSQL refused NUL in JSONB)."""
    engine = app.state.db_engine

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO DECISION"):
            raise DataError(statement, None, Exception("refused by the test"))

    event.listen(engine, "before_cursor_execute", refuse)
    yield
    event.remove(engine, "before_cursor_execute", refuse)


def test_the_form_never_answers_200_with_a_decision_not_stored(client: TestClient, decisions_refused: None) -> None:
    response = client.post("/answer", data={"province": "440000", "city": "440300", "county": "440305"})
    assert response.status_code >= 500
    assert "data-decision-id" not in response.text


def test_company_matches_never_answer_200_with_a_decision_not_stored(client: TestClient, api_key: Any,
                                                                      decisions_refused: None) -> None:
    headers = api_key("companies:write", "companies:read")
    company = client.post("/v1/companies", json={"profile": {"region_code": "440305"}}, headers=headers).json()["id"]
    response = client.get(f"/v1/companies/{company}/matches", headers=headers)
    assert response.status_code >= 500
    assert "decision_id" not in response.text
