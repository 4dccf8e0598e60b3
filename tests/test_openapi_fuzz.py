"""Schemathesis against the live OpenAPI document: every operation, anonymous and with a key holding
every scope. No answer may be a 5xx, and every answer must conform to what the document declares
(status code, content type, headers, body schema).

The app is the session's real app on the real database and rules (tests/conftest.py), called in
process through schemathesis's ASGI transport. The client is not entered as a context manager, so
schemathesis does not run the lifespan a second time: the `client` fixture has already started it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python.asgi import get_client
from sqlalchemy import delete

from app.clients.service import SCOPES, create_client
from tests.conftest import make_settings

# Bounded so the whole module runs in well under two minutes on two cores (about 20 s at 25). The
# examples are the same on every run, so CI does not fail by chance; FUZZ_RANDOM=1 FUZZ_EXAMPLES=200
# explores further by hand.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
DERANDOMIZE = not os.environ.get("FUZZ_RANDOM")

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")


def _document() -> dict[str, Any]:
    # Building the document needs no database: the lifespan never runs here.
    from app.main import create_app

    return create_app(make_settings("sqlite://")).openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.checks.update(included_check_names=list(CHECKS))


def test_the_live_document_is_the_one_fuzzed(client: Any) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == DOCUMENT


@pytest.fixture(scope="module")
def fuzz_key(app: Any, _running: Any) -> dict[str, str]:
    """A key holding every scope, so the company operations get past authentication."""
    with app.state.session_factory() as session:
        _row, key = create_client(session, name="schemathesis", scopes=list(SCOPES))
        session.commit()
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module", autouse=True)
def _clean_after(app: Any, _running: Any) -> Any:
    yield
    from app.db.models import ApiClient, Company, Decision

    with app.state.session_factory() as session:
        for model in (Decision, Company, ApiClient):
            session.execute(delete(model))
        session.commit()


FUZZ_SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=DERANDOMIZE, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                HealthCheck.function_scoped_fixture])


def pinned(app: Any) -> dict[str, str]:
    """The rule set version served, sent back: a generated one would stop the request at a 412 (a third
    of them did) before it reached the operation. The 412 itself is tested in tests/matching/test_api.py."""
    return {"Huiqi-Ruleset-Version": app.state.rules.current.version}


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_conforms_anonymous(case: Any, app: Any) -> None:
    response = case.call_and_validate(session=get_client(app), headers=pinned(app))
    assert response.status_code != 412 or "if-match" in {k.lower() for k in (case.headers or {})}


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_conforms_with_a_key(case: Any, fuzz_key: dict[str, str], app: Any) -> None:
    response = case.call_and_validate(session=get_client(app), headers={**fuzz_key, **pinned(app)})
    assert response.status_code != 412 or "if-match" in {k.lower() for k in (case.headers or {})}
