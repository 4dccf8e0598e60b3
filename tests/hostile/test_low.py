"""The low-severity findings: forwarded headers trusted from nobody by default, invalid API keys
rate-limited without a lookup each, ids kept whole in the logs, the OpenAPI security, Retry-After on
/readyz's 503, Allow on 405s, and 415 for a body that is not JSON."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.logs import JsonLineFormatter
from tests.conftest import ROOT, make_settings
from tests.helpers import assert_problem


@pytest.fixture
def loopback(database_url: str) -> Iterator[tuple[TestClient, FastAPI]]:
    """The app with no proxy configured and a limit of 2, called from 127.0.0.1."""
    from app.main import create_app

    app = create_app(make_settings(database_url, rate_limit=2))
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        yield client, app


def test_x_forwarded_for_from_loopback_is_ignored_unless_configured(loopback: tuple[TestClient, FastAPI]) -> None:
    client, _ = loopback
    statuses = [client.get("/v1/policies", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                for n in range(4)]
    assert statuses == [200, 200, 429, 429]


def test_only_the_listed_proxies_are_trusted(database_url: str) -> None:
    from app.main import create_app

    app = create_app(make_settings(database_url, rate_limit=2, trusted_proxies="10.0.0.0/8"))
    with TestClient(app, client=("192.0.2.1", 50000)) as client:
        statuses = [client.get("/v1/policies", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                    for n in range(3)]
    assert statuses == [200, 200, 429]


def test_make_run_and_the_image_turn_off_uvicorns_own_proxy_trust() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run = makefile[makefile.index("\nrun:"):].split("\n\n")[0]
    assert "--no-proxy-headers" in run and "--no-access-log" in run
    assert "--no-proxy-headers" in (ROOT / "Dockerfile").read_text()


def test_the_readmes_uvicorn_commands_never_enable_the_access_log() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"`(uvicorn [^`]*)`", readme)
    assert commands, "the README shows how to start uvicorn"
    for command in commands:
        assert "--no-access-log" in command and "--no-proxy-headers" in command, command


def test_invalid_keys_are_rate_limited_and_looked_up_once(loopback: tuple[TestClient, FastAPI],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from app.clients import service

    client, _ = loopback
    lookups = []
    real = service.authenticate
    monkeypatch.setattr(service, "authenticate", lambda session, key: lookups.append(key) or real(session, key))
    statuses = [client.get("/v1/policies", headers={"X-API-Key": "hq_" + "x" * 40}).status_code for _ in range(6)]
    assert statuses == [401, 401, 429, 429, 429, 429]
    assert len(lookups) == 1


def log_line(**fields: Any) -> dict[str, Any]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    logger = logging.getLogger("huiqi.test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("x", extra={"fields": fields})
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


@pytest.mark.parametrize("request_id", ["req-202611281234567890", "2026112812345678901234",
                                        "202611281234567890_b"])
def test_a_request_id_holding_18_digits_is_logged_whole(request_id: str) -> None:
    line = log_line(message="request", request_id=request_id, detail="credit code 91440300MA5NAAWM2R.")
    assert line["request_id"] == request_id
    assert line["detail"] == "credit code [redacted]."


def test_the_openapi_document_declares_how_keys_are_sent(client: TestClient, api_key: Any) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    keyed = [{"bearer": []}, {"apiKey": []}]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/v1/"):
                continue
            if operation["security"] == keyed:  # needs a key: anonymous callers get a 401
                url = path.replace("{company_id}", "00000000-0000-0000-0000-000000000000")
                assert_problem(client.request(method.upper(), url, json={}), 401)
            else:
                assert operation["security"] == [{}, *keyed], (method, path)
    assert document["paths"]["/v1/companies"]["get"]["security"] == keyed
    assert document["paths"]["/v1/admin/reload"]["post"]["security"] == keyed
    assert document["paths"]["/v1/match"]["post"]["security"] == [{}, *keyed]


def test_readyz_503_carries_retry_after(client: TestClient, app: FastAPI) -> None:
    class Down:
        def connect(self) -> Any:
            raise ConnectionError("down")

    # Not monkeypatch: undoing it deletes an attribute of Starlette's State instead of restoring it.
    engine, app.state.db_engine = app.state.db_engine, Down()
    try:
        response = client.get("/readyz")
    finally:
        app.state.db_engine = engine
    assert_problem(response, 503)
    assert response.headers["retry-after"] == str(app.state.settings.db_retry_after_seconds)


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PATCH", "/v1/companies/abc", "GET, PUT, DELETE"),
    ("POST", "/v1/companies/abc", "GET, PUT, DELETE"),
    ("PUT", "/v1/companies", "GET, POST"),
    ("GET", "/v1/match", "POST"),
    ("PUT", "/answer", "GET, POST"),
])
def test_a_405_lists_every_method_the_path_answers(client: TestClient, method: str, path: str, allow: str) -> None:
    response = client.request(method, path)
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/v1/match", "/v1/companies"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_json_is_a_415(client: TestClient, path: str, content_type: str) -> None:
    response = client.post(path, content=b'{"profile": {"region_code": "440305"}}',
                           headers={"Content-Type": content_type})
    assert_problem(response, 415, "/problems/unsupported-media-type")


def test_json_with_a_charset_is_still_json(client: TestClient) -> None:
    response = client.post("/v1/match", content=b'{"profile": {"region_code": "440305"}}',
                           headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200
