"""No credit code and no API key in the logs: sent through several endpoints, in bodies, query strings,
headers and a request id, on success and on errors (a 500 whose exception quotes the credit code, as a
database error quotes its parameters, included); every captured line is scanned."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from app.logs import JsonLineFormatter, redact

CREDIT_CODE = "91440300MA5NAAWM2R"  # valid check digit (a seed company's)
PROFILE = {"region_code": "440305", "industry_code": "C3911", "employees": 80, "credit_code": CREDIT_CODE}


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged, by our loggers (as the JSON lines stderr gets) and by any library."""
    stream = io.StringIO()
    ours = logging.StreamHandler(stream)
    ours.setFormatter(JsonLineFormatter())
    theirs = logging.StreamHandler(stream)
    theirs.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    huiqi, root = logging.getLogger("huiqi"), logging.getLogger()
    huiqi.addHandler(ours)
    root.addHandler(theirs)
    try:
        yield stream
    finally:
        huiqi.removeHandler(ours)
        root.removeHandler(theirs)


def test_credit_codes_and_keys_never_reach_the_logs(client, api_key, captured, monkeypatch) -> None:
    headers = api_key("companies:read", "companies:write", "decisions:read")
    key = headers["Authorization"].removeprefix("Bearer ")
    as_header = {"X-API-Key": key}

    answer = client.post("/v1/match", json={"profile": PROFILE, "as_of": "2024-06-30"}, headers=headers)
    assert answer.status_code == 200
    assert client.get(f"/v1/decisions/{answer.json()['decision_id']}", headers=as_header).status_code == 200
    invalid = {**PROFILE, "credit_code": CREDIT_CODE[:-1] + "X"}  # wrong check digit: 422
    assert client.post("/v1/match", json={"profile": invalid}, headers=headers).status_code == 422
    created = client.post("/v1/companies", json={"profile": PROFILE}, headers=headers)
    assert created.status_code == 201
    assert client.post("/v1/companies", json={"profile": PROFILE}, headers=as_header).status_code == 409
    assert client.get("/v1/companies", params={"region": "440305"}, headers=headers).status_code == 200
    assert client.get(f"{created.headers['location']}/matches", headers=headers).status_code == 200
    assert client.get("/v1/companies", headers={"Authorization": f"Bearer {key}x"}).status_code == 401
    assert client.get("/v1/policies", headers={"X-Request-ID": CREDIT_CODE}).status_code == 200
    page = client.get("/answer", params={"region_code": "440305", "credit_code": CREDIT_CODE, "name": "x"})
    assert page.status_code == 200
    assert client.post("/answer", data={"region_code": "440305", "credit_code": CREDIT_CODE}).status_code == 200
    assert client.get("/console/decisions", params={"credit_code": CREDIT_CODE}).status_code in (200, 303, 404)

    # An unexpected error whose message quotes the credit code, as a database error does.
    from app.companies import service as companies_service

    def failing(*args: object, **kwargs: object) -> None:
        raise IntegrityError("INSERT INTO company (credit_code) VALUES (%(credit_code)s)",
                             {"credit_code": CREDIT_CODE, "key": key}, Exception("deadlock"))

    monkeypatch.setattr(companies_service, "create_company", failing)
    other = {**PROFILE, "credit_code": "91440300511022535C"}
    assert client.post("/v1/companies", json={"profile": other}, headers=headers).status_code == 500

    output = captured.getvalue()
    assert output.count('"message":"request"') >= 12  # the requests were logged ...
    assert "IntegrityError" in output and "[redacted]" in output  # ... and so was the error
    for secret in (CREDIT_CODE, "91440300511022535C", key, key[:20]):
        assert secret not in output


def test_redaction_masks_codes_and_keys_but_not_ids() -> None:
    line = redact('{"request_id":"3e198647ba064f1b9a0867811220c685","x":"91440300MA5NAAWM2R hq_abcdefghijklmnopqrstu"}')
    assert line == '{"request_id":"3e198647ba064f1b9a0867811220c685","x":"[redacted] [redacted]"}'
    assert redact("region 440305, revenue 30000000") == "region 440305, revenue 30000000"
