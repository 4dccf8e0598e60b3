"""A company founded after the evaluation date is refused with a 422 naming the field: the API's match
and the form (stored companies: tests/companies/test_api.py)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

PROFILE = {"region_code": "440305", "industry_code": "C3911", "founded_on": "2024-03-01"}


def test_match_refuses_a_company_founded_after_as_of(client: TestClient) -> None:
    response = client.post("/v1/match", json={"profile": PROFILE, "as_of": "2024-02-29"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "profile", "founded_on"]]
    assert client.post("/v1/match", json={"profile": PROFILE, "as_of": "2024-03-01"}).status_code == 200


def test_match_refuses_a_founding_date_in_the_future(client: TestClient) -> None:
    future = (date.today() + timedelta(days=30)).isoformat()
    response = client.post("/v1/match", json={"profile": {**PROFILE, "founded_on": future}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "profile", "founded_on"]


def test_the_form_says_beside_the_field_that_the_founding_date_is_in_the_future(client: TestClient) -> None:
    future = (date.today() + timedelta(days=30)).isoformat()
    response = client.post("/answer", data={"province": "440000", "city": "440300", "county": "440305",
                                            "founded_on": future})
    assert response.status_code == 422
    assert "成立日期不能晚于今天。" in response.text
