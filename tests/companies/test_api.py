"""/v1/companies: storage, ETags and preconditions, scopes, and matching a stored company."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem, jsonable

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture
def writer(api_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return api_key("companies:read", "companies:write")


@pytest.fixture
def profile(seeds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return jsonable(seeds["sz-nanshan-ai-chip-unicorn"])


def create(client: TestClient, headers: dict[str, str], profile: dict[str, Any]) -> Any:
    response = client.post("/v1/companies", json={"profile": profile}, headers=headers)
    assert response.status_code == 201, response.text
    return response


def test_create_company_returns_201_with_location_and_etag(client, writer, profile) -> None:
    response = create(client, writer, profile)
    body = response.json()
    assert response.headers["location"] == f"/v1/companies/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["version"] == 1
    assert body["profile"]["credit_code"] == profile["credit_code"]
    assert body["profile"]["founded_on"] == profile["founded_on"]
    assert {"created_at", "updated_at"} <= body.keys()


def test_read_company_returns_etag_and_304_when_unchanged(client, writer, profile) -> None:
    location = create(client, writer, profile).headers["location"]
    response = client.get(location, headers=writer)
    assert response.status_code == 200
    assert response.json()["profile"]["region_code"] == profile["region_code"]
    etag = response.headers["etag"]
    not_modified = client.get(location, headers={**writer, "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == etag
    assert not_modified.content == b""
    assert client.get(location, headers={**writer, "If-None-Match": '"999"'}).status_code == 200


def test_read_company_returns_404_when_unknown(client, writer) -> None:
    body = assert_problem(client.get("/v1/companies/4b1d8f6e-0000-4000-8000-000000000000", headers=writer),
                          404, "/problems/company-not-found")
    assert body["instance"] == "/v1/companies/4b1d8f6e-0000-4000-8000-000000000000"
    assert_problem(client.get("/v1/companies/not-a-uuid", headers=writer), 404)


def test_create_company_rejects_a_second_company_with_the_same_credit_code(client, writer, profile) -> None:
    first = create(client, writer, profile).json()
    body = assert_problem(client.post("/v1/companies", json={"profile": profile}, headers=writer),
                          409, "/problems/credit-code-taken")
    assert body["company_id"] == first["id"]


@pytest.mark.parametrize(("change", "field"), [
    ({"credit_code": "91440300MA5NAAWM2A"}, "credit_code"),
    ({"region_code": "999999"}, "region_code"),
    ({"annual_revenue": 1000, "export_revenue": 2000}, "export_revenue"),
    ({"employees": -1}, "employees"),
    ({"activities": ["juggling"]}, "activities"),
])
def test_create_company_names_the_invalid_field(client, writer, profile, change, field) -> None:
    body = assert_problem(client.post("/v1/companies", json={"profile": {**profile, **change}}, headers=writer),
                          422, "/problems/validation")
    assert any(e["loc"][:3] == ["body", "profile", field] for e in body["errors"]), body["errors"]
    assert all({"loc", "msg", "type"} == e.keys() for e in body["errors"])


def test_create_company_requires_region_code(client, writer) -> None:
    body = assert_problem(client.post("/v1/companies", json={"profile": {"name": "x"}}, headers=writer), 422)
    assert ["body", "profile", "region_code"] in [e["loc"] for e in body["errors"]]


def test_update_company_with_matching_etag_bumps_the_version(client, writer, profile) -> None:
    created = create(client, writer, profile)
    changed = {**profile, "employees": profile["employees"] + 80}
    response = client.put(created.headers["location"], json={"profile": changed},
                          headers={**writer, "If-Match": created.headers["etag"]})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json()["profile"]["employees"] == profile["employees"] + 80
    assert client.get(created.headers["location"], headers=writer).json()["version"] == 2


def test_update_company_without_if_match_returns_428(client, writer, profile) -> None:
    location = create(client, writer, profile).headers["location"]
    assert_problem(client.put(location, json={"profile": profile}, headers=writer),
                   428, "/problems/precondition-required")


def test_update_company_with_stale_etag_returns_412(client, writer, profile) -> None:
    created = create(client, writer, profile)
    location, etag = created.headers["location"], created.headers["etag"]
    assert client.put(location, json={"profile": profile}, headers={**writer, "If-Match": etag}).status_code == 200
    body = assert_problem(client.put(location, json={"profile": profile}, headers={**writer, "If-Match": etag}),
                          412, "/problems/precondition-failed")
    assert body["current_version"] == 2


def test_update_company_to_a_taken_credit_code_returns_409(client, writer, seeds) -> None:
    first = jsonable(seeds["sz-nanshan-ai-chip-unicorn"])
    other = next(jsonable(p) for k, p in seeds.items() if p.get("credit_code") != first["credit_code"])
    created = create(client, writer, other)
    create(client, writer, first)
    response = client.put(created.headers["location"], json={"profile": {**other, "credit_code": first["credit_code"]}},
                          headers={**writer, "If-Match": created.headers["etag"]})
    assert_problem(response, 409, "/problems/credit-code-taken")


def test_two_concurrent_updates_from_the_same_version_one_gets_412(client, writer, profile) -> None:
    created = create(client, writer, profile)
    location, etag = created.headers["location"], created.headers["etag"]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def update(more: int) -> None:
        barrier.wait()
        response = client.put(location, json={"profile": {**profile, "employees": profile["employees"] + more}},
                              headers={**writer, "If-Match": etag})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=update, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    assert client.get(location, headers=writer).json()["version"] == 2


def test_delete_company_honours_if_match(client, writer, profile) -> None:
    created = create(client, writer, profile)
    location = created.headers["location"]
    assert_problem(client.delete(location, headers={**writer, "If-Match": '"7"'}), 412)
    assert client.delete(location, headers={**writer, "If-Match": created.headers["etag"]}).status_code == 204
    assert_problem(client.get(location, headers=writer), 404)
    assert_problem(client.delete(location, headers=writer), 404)


def test_delete_company_without_if_match_deletes(client, writer, profile) -> None:
    location = create(client, writer, profile).headers["location"]
    assert client.delete(location, headers=writer).status_code == 204


def test_list_companies_is_paginated_and_filtered_by_region(client, writer, seeds) -> None:
    for key in list(seeds)[:6]:
        create(client, writer, jsonable(seeds[key]))
    page = client.get("/v1/companies", params={"limit": 4}, headers=writer).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (6, 4, 0, 4)
    rest = client.get("/v1/companies", params={"limit": 4, "offset": 4}, headers=writer).json()
    assert len(rest["items"]) == 2
    assert not {c["id"] for c in page["items"]} & {c["id"] for c in rest["items"]}
    province = seeds[next(iter(seeds))]["region_code"][:2] + "0000"
    expected = sum(1 for k in list(seeds)[:6] if seeds[k]["region_code"].startswith(province[:2]))
    in_province = client.get("/v1/companies", params={"region": province}, headers=writer).json()
    assert in_province["total"] == expected
    assert all(c["profile"]["region_code"].startswith(province[:2]) for c in in_province["items"])
    assert_problem(client.get("/v1/companies", params={"region": "44"}, headers=writer), 422)
    assert_problem(client.get("/v1/companies", params={"limit": 0}, headers=writer), 422)


def test_companies_need_an_api_key(client, profile) -> None:
    response = client.get("/v1/companies")
    body = assert_problem(response, 401, "/problems/unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "companies:read" in body["detail"]
    assert_problem(client.post("/v1/companies", json={"profile": profile}), 401)
    assert_problem(client.get("/v1/companies", headers={"Authorization": "Bearer hq_nope"}), 401)
    assert_problem(client.get("/v1/companies", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)


def test_writing_companies_needs_the_write_scope(client, api_key, profile) -> None:
    reader = api_key("companies:read")
    body = assert_problem(client.post("/v1/companies", json={"profile": profile}, headers=reader),
                          403, "/problems/forbidden")
    assert body["required_scope"] == "companies:write"
    assert client.get("/v1/companies", headers=reader).status_code == 200
    assert_problem(client.get("/v1/companies", headers=api_key()), 403)


def test_a_revoked_key_is_refused(client, app, api_key) -> None:
    from app.clients.service import list_clients, revoke_client

    headers = api_key("companies:read")
    assert client.get("/v1/companies", headers=headers).status_code == 200
    with app.state.session_factory() as session:
        revoke_client(session, list_clients(session)[-1].id)
        session.commit()
    assert_problem(client.get("/v1/companies", headers=headers), 401)


def test_the_key_is_also_accepted_in_x_api_key(client, api_key) -> None:
    key = api_key("companies:read")["Authorization"].removeprefix("Bearer ")
    assert client.get("/v1/companies", headers={"X-API-Key": key}).status_code == 200


def test_match_company_evaluates_the_stored_profile_and_logs_the_decision(client, writer, profile) -> None:
    company = create(client, writer, profile).json()
    response = client.get(f"/v1/companies/{company['id']}/matches", params={"as_of": "2025-06-30"}, headers=writer)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["company_id"] == company["id"]
    assert answer["ruleset"]["as_of"] == "2025-06-30"
    assert answer["results"]
    decision = client.get(f"/v1/decisions/{answer['decision_id']}", headers=writer).json()
    assert decision["company_id"] == company["id"]
    assert decision["answer"]["results"] == answer["results"]
    # Decisions on stored companies are not readable anonymously (they hold the company's profile).
    assert_problem(client.get(f"/v1/decisions/{answer['decision_id']}"), 404)


def test_match_company_returns_404_when_unknown(client, writer) -> None:
    assert_problem(client.get("/v1/companies/4b1d8f6e-0000-4000-8000-000000000000/matches", headers=writer), 404)


FOUNDED_2024 = {"region_code": "440305", "industry_code": "C3911", "founded_on": "2024-03-01"}


def test_a_stored_company_cannot_be_founded_in_the_future_nor_matched_before_its_founding(client, api_key) -> None:  # type: ignore[no-untyped-def]
    headers = api_key("companies:read", "companies:write")
    future = (date.today() + timedelta(days=30)).isoformat()
    refused = client.post("/v1/companies", json={"profile": {**FOUNDED_2024, "founded_on": future}}, headers=headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "profile", "founded_on"]
    stored = client.post("/v1/companies", json={"profile": FOUNDED_2024}, headers=headers)
    assert stored.status_code == 201
    matches = f"/v1/companies/{stored.json()['id']}/matches"
    before = client.get(matches, params={"as_of": "2024-02-29"}, headers=headers)
    assert before.status_code == 422 and before.json()["errors"][0]["loc"] == ["query", "as_of"]
    assert client.get(matches, params={"as_of": "2024-03-01"}, headers=headers).status_code == 200
