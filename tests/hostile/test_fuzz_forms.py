"""Hypothesis against the business form's parser and every console form: whatever is typed, the
answer is a page or a 4xx, never a 5xx, and never slow (the parser has a deadline of one second, a
thousand times what it takes; the pages are fed inputs up to the size limits of their fields)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine import load_ruleset
from app.matching.form import FORM_FIELDS, MULTI, Entered, parse_entered, read_entered
from tests.conftest import ROOT
from tests.hostile.conftest import form_token

TABLES = load_ruleset(ROOT / "rules").tables
# Anything a browser can send in a field: every code point but surrogates (not UTF-8), numbers as
# people and attackers type them, and the values the lists offer.
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    st.from_regex(r"\A[-+]?[0-9０-９,.，\s]{0,40}([eE][-+]?[0-9]{1,12})?\Z"),
    st.sampled_from(["", "440305", "320000", "C3911", "1e999999999", "9" * 5000, "NaN", "-0", "2024-02-30",
                     "0001-01-01", "9999-12-31", "1900-01-01", "2024-06-30",
                     "high_tech", "none", "\x00", "Infinity", "1_000"]),
)
FIELDS = [*FORM_FIELDS, "province", "city", "county", "industry_pick"]
SETTINGS = settings(max_examples=150, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@given(st.dictionaries(st.sampled_from(FIELDS), TEXT))
@settings(SETTINGS, deadline=timedelta(seconds=1))
def test_the_form_parser_answers_a_profile_or_errors(values: dict[str, str]) -> None:
    entered: Entered = read_entered({k: v for k, v in values.items() if k not in MULTI})
    profile = parse_entered(entered, TABLES)
    assert (profile is None) == bool(entered.errors)


@given(st.dictionaries(st.sampled_from(FIELDS), TEXT, max_size=8))
@settings(SETTINGS, max_examples=60, deadline=None)
def test_the_form_answers_a_page_never_a_5xx(client: TestClient, values: dict[str, str]) -> None:
    response = client.post("/answer", data=values)
    assert response.status_code in (200, 422), response.status_code
    assert response.headers["content-type"].startswith("text/html")


def segment(value: str, default: str = "x") -> str:
    """A drawn id as one path segment, as a browser would send it."""
    return quote(value, safe="") or default


def console_requests(csrf: str) -> Any:
    text = TEXT
    return st.one_of(
        st.builds(lambda q, region, kind: ("GET", "/console/policies", {"q": q, "region": region, "kind": kind}),
                  text, text, text),
        st.builds(lambda company, code, policy, outcome, start, end, page: (
            "GET", "/console/decisions", {"company": company, "credit_code": code, "policy": policy,
                                          "outcome": outcome, "date_from": start, "date_to": end, "page": page}),
            text, text, text, text, text, text, text),
        st.builds(lambda policy, old, new: ("GET", f"/console/policies/{segment(policy, 'js-sumao-loan')}",
                                            {"from": old, "to": new}), text, text, text),
        st.builds(lambda page: ("GET", "/console/audit", {"page": page}), text),
        st.builds(lambda decision: ("GET", f"/console/decisions/{segment(decision)}", {}), text),
        st.builds(lambda decision: ("POST", f"/console/decisions/{segment(decision)}/replay", {"csrf_token": csrf}),
                  text),
        st.builds(lambda draft: ("POST", "/console/drafts", {"text": draft, "csrf_token": csrf}),
                  st.one_of(text, st.text(max_size=2000), st.from_regex(r"\A(id|criteria|  - when):.{0,80}\Z"))),
        st.builds(lambda policy: ("GET", "/console/drafts", {"policy": policy}), text),
    )


@given(st.data())
@settings(SETTINGS, max_examples=120, deadline=None)
def test_every_console_form_answers_a_page_or_a_4xx(client: TestClient, signed_in: str, data: Any) -> None:
    method, path, fields = data.draw(console_requests(signed_in))
    if method == "GET":
        response = client.get(path, params=fields, follow_redirects=False)
    else:
        response = client.post(path, data=fields, follow_redirects=False)
    assert response.status_code < 500, (method, path, response.status_code)


@pytest.fixture(scope="module")
def guesser(app: FastAPI, _running: TestClient) -> TestClient:
    """A client of its own address: its failed sign-ins must not pause the shared client's address."""
    return TestClient(app, client=("198.18.0.1", 50000))


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=80),
       st.text(st.characters(exclude_categories=["Cs"]), max_size=80))
@settings(SETTINGS, max_examples=40, deadline=None)
def test_sign_in_answers_a_page_or_a_4xx(guesser: TestClient, username: str, password: str) -> None:
    page = guesser.get("/console/sign-in")
    response = guesser.post("/console/sign-in", data={"username": username, "password": password,
                                                      "csrf_token": form_token(page.text)}, follow_redirects=False)
    assert response.status_code in (303, 401, 422, 429), response.status_code


def test_console_search_dates_at_the_ends_of_the_calendar(client: TestClient, signed_in: str) -> None:
    """Found by hand after the fuzzing above: 9999-12-31 plus a day, and 0001-01-01 in UTC, overflowed."""
    for field in ("date_from", "date_to"):
        for value in ("0001-01-01", "9999-12-31"):
            response = client.get("/console/decisions", params={field: value})
            assert response.status_code == 200, (field, value, response.status_code)
            assert "应为 年-月-日" in response.text or "should be YYYY-MM-DD" in response.text
