"""Hostile bodies are refused before the app reads them, and the rate limits hold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.middleware.body_limits import json_too_deep
from tests.conftest import make_settings
from tests.helpers import assert_problem

pytestmark = pytest.mark.usefixtures("client")

PROFILE = {"region_code": "320506", "industry_code": "C3911", "employees": 80}
KIB = 1024


def nested(depth: int) -> str:
    """JSON text of objects and arrays, alternating, `depth` levels deep."""
    opening = "".join('{"k":' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return opening + "1" + closing


# ------------------------------------------------------------------------------------------- body size


def test_a_body_over_the_limit_is_refused_from_its_content_length(client, app) -> None:
    limit = app.state.settings.api_max_body_bytes
    assert limit == 64 * KIB
    padding = "x" * limit
    response = client.post("/v1/match", json={"profile": PROFILE, "padding": padding})
    body = assert_problem(response, 413, "/problems/body-too-large")
    assert body["max_bytes"] == limit
    assert response.headers["x-request-id"] == body["request_id"]


def test_a_streamed_body_is_counted_as_it_arrives(client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"profile": {"region_code": "320506"}, "padding": "'
        for _ in range(80):
            yield b"y" * KIB
        yield b'"}'

    response = client.post("/v1/match", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "/problems/body-too-large")


def test_a_streamed_body_within_the_limit_reaches_the_app(client) -> None:
    payload = json.dumps({"profile": PROFILE, "as_of": "2024-06-30"}).encode()
    response = client.post("/v1/match", content=iter([payload[:10], payload[10:]]),
                           headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


def test_a_body_just_under_the_limit_is_read(client, api_key) -> None:
    body = json.dumps({"profile": {**PROFILE, "name": "n" * 200}, "padding": ""})
    filler = 64 * KIB - len(body.encode())
    body = body.replace('"padding": ""', '"padding": "' + "z" * (filler - 0) + '"')
    assert len(body.encode()) == 64 * KIB
    response = client.post("/v1/companies", content=body, headers={"content-type": "application/json", **api_key(
        "companies:write")})
    assert_problem(response, 422, "/problems/validation")  # read and validated: extra fields are refused


def test_pages_have_a_limit_of_their_own(client, app) -> None:
    limit = app.state.settings.page_max_body_bytes
    response = client.post("/answer", data={"region_code": "320506", "name": "n" * limit})
    assert_problem(response, 413, "/problems/body-too-large")
    assert client.post("/answer", data={"region_code": "320506"}).status_code == 200


# ------------------------------------------------------------------------------------------ JSON depth


@pytest.mark.parametrize("depth, deep", [(32, False), (33, True), (100_000, True)])
def test_the_depth_scan_counts_arrays_and_objects(depth: int, deep: bool) -> None:
    assert json.loads(nested(5)) == [{"k": [{"k": [1]}]}]
    assert json_too_deep(nested(depth).encode(), 32) is deep


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"name": "[" * 1000 + "{" * 1000, "quote": 'a \\" [[[[ "', "list": [[["ok"]]]})
    assert not json_too_deep(text.encode(), 32)
    assert json_too_deep(f"[{json.dumps(text)}, {nested(40)}]".encode(), 32)


def test_deeply_nested_json_is_refused_before_pydantic_sees_it(client, api_key, monkeypatch) -> None:
    from app.matching.schemas import MatchRequest

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pydantic was given the deep body")

    monkeypatch.setattr(MatchRequest, "model_validate_json", never)
    deep = '{"profile": ' + nested(40) + "}"
    body = assert_problem(client.post("/v1/match", content=deep), 422, "/problems/json-too-deep")
    assert body["max_depth"] == 32
    assert "deeper than 32" in body["detail"]


def test_pathological_nesting_is_a_422_not_a_crash(client, api_key) -> None:
    # 20,000 levels: json.loads (FastAPI's parser for body parameters) would raise RecursionError.
    deep = "[" * 20_000 + "]" * 20_000
    headers = {"content-type": "application/json", **api_key("companies:write")}
    assert_problem(client.post("/v1/companies", content=deep, headers=headers), 422, "/problems/json-too-deep")
    assert_problem(client.post("/v1/match", content=deep), 422, "/problems/json-too-deep")


def test_ordinary_profiles_pass_the_scan(client) -> None:
    response = client.post("/v1/match", json={"profile": {**PROFILE, "activities": ["manufacturing_export"]},
                                              "as_of": "2024-06-30"})
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------------------------------ rate limits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited(database_url: str) -> Iterator[tuple[TestClient, Clock]]:
    """The app with the default limit (600 a minute) and a clock the test moves."""
    from app.clients.ratelimit import SlidingWindowLimiter
    from app.main import create_app

    settings = make_settings(database_url, rate_limit=600)
    app = create_app(settings)
    clock = Clock()
    app.state.limiter = SlidingWindowLimiter(settings.rate_limit, settings.rate_limit_window_seconds, clock=clock)
    with TestClient(app) as client:
        yield client, clock


def test_the_601st_anonymous_request_in_a_window_is_refused(limited) -> None:
    client, clock = limited
    for n in range(600):
        clock.now += 0.0625  # 600 requests over 37.5 seconds
        assert client.get("/v1/policies", params={"limit": 1}).status_code == 200, n
    clock.now += 0.0625
    response = client.get("/v1/policies", params={"limit": 1})
    body = assert_problem(response, 429, "/problems/rate-limited")
    # The oldest request leaves the window at 1000.0625 + 60; it is now 1037.5625: 22.5 s to wait.
    assert response.headers["retry-after"] == "23"
    assert body["retry_after"] == 23
    assert client.post("/v1/match", json={"profile": PROFILE}).status_code == 429  # every /v1 operation
    assert client.post("/answer", data={"region_code": "320506"}).status_code == 429  # and the answer page
    assert client.get("/healthz").status_code == 200  # not the operations endpoints
    clock.now += 22.5
    assert client.get("/v1/policies", params={"limit": 1}).status_code == 200


def test_each_key_has_a_limit_of_its_own(limited, app) -> None:
    from app.clients.service import create_client

    client, _clock = limited
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        _, first = create_client(session, name="first", scopes=["companies:read"])
        _, second = create_client(session, name="second", scopes=[])
        session.commit()
    for _ in range(600):
        assert client.get("/v1/companies", headers={"X-API-Key": first}).status_code == 200
    response = client.get("/v1/companies", headers={"X-API-Key": first})
    assert_problem(response, 429, "/problems/rate-limited")
    assert int(response.headers["retry-after"]) == 60
    assert client.get("/v1/policies", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    assert client.get("/v1/policies").status_code == 200  # anonymous callers from the same address too
