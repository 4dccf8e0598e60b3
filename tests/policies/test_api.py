"""/v1/policies: the catalogue, its filters and a policy's detail with version history."""

from __future__ import annotations

import pytest

from tests.helpers import assert_problem

pytestmark = pytest.mark.usefixtures("client")


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["items"]]


def test_list_policies_returns_every_rule_by_id(client, app) -> None:
    page = client.get("/v1/policies", params={"limit": 200}).json()
    assert page["total"] == len(app.state.rules.current.rules)
    assert [p["id"] for p in page["items"]] == sorted(app.state.rules.current.rules)
    first = page["items"][0]
    assert {"id", "title", "region", "issuer", "benefit", "validity", "version"} <= first.keys()


def test_list_policies_is_paginated(client) -> None:
    everything = ids(client.get("/v1/policies", params={"limit": 200}))
    page = client.get("/v1/policies", params={"limit": 2, "offset": 1}).json()
    assert [p["id"] for p in page["items"]] == everything[1:3]
    assert (page["limit"], page["offset"], page["total"]) == (2, 1, len(everything))
    assert_problem(client.get("/v1/policies", params={"limit": 1000}), 422)


def test_region_filter_keeps_policies_covering_the_code_or_an_ancestor(client) -> None:
    suzhou = ids(client.get("/v1/policies", params={"region": "320506", "limit": 200}))
    assert "js-sumao-loan" in suzhou
    assert not [p for p in suzhou if p.startswith("sz-")]
    shenzhen = ids(client.get("/v1/policies", params={"region": "440305", "limit": 200}))
    assert "js-sumao-loan" not in shenzhen
    assert [p for p in shenzhen if p.startswith("sz-")]
    assert_problem(client.get("/v1/policies", params={"region": "4403"}), 422)


def test_benefit_kind_filter(client) -> None:
    loans = client.get("/v1/policies", params={"benefit_kind": "loan", "limit": 200}).json()["items"]
    assert "js-sumao-loan" in [p["id"] for p in loans]
    assert {p["benefit"]["kind"] for p in loans} == {"loan"}
    assert_problem(client.get("/v1/policies", params={"benefit_kind": "gift"}), 422)


def test_activity_filter_keeps_rules_whose_conditions_name_it(client) -> None:
    assert "js-sumao-loan" in ids(client.get("/v1/policies", params={"activity": "importer"}))
    assert "js-sumao-loan" not in ids(client.get("/v1/policies", params={"activity": "car_dealer",
                                                                          "limit": 200}))
    body = assert_problem(client.get("/v1/policies", params={"activity": "juggling"}), 422)
    assert body["activity"] == "juggling"


def test_in_force_on_filter(client, app) -> None:
    rules = app.state.rules.current.rules
    for day in ("2019-01-01", "2023-06-30", "2030-01-01"):
        from datetime import date

        expected = sorted(r for r in rules if rules[r].in_force(date.fromisoformat(day)))
        assert ids(client.get("/v1/policies", params={"in_force_on": day, "limit": 200})) == expected


def test_read_policy_shows_provenance_parameters_criteria_and_versions(client, app) -> None:
    response = client.get("/v1/policies/js-sumao-loan")
    assert response.status_code == 200, response.text
    policy = response.json()
    assert policy["title"] == {"zh": "苏贸贷", "en": "Su Mao loan"}
    assert policy["region"] == ["320000"]
    assert policy["provenance"][0]["paragraph"] == 41
    parameter = policy["parameters"]["sme_size_classes"]
    assert parameter["basis"] == "standard" and "300号" in parameter["citation"]["zh"]
    sme = next(criterion for criterion in policy["criteria"] if criterion["id"] == "sme")
    assert "size_class in sme_size_classes" in sme["when"] and sme["explain"]["met"]["zh"]
    assert policy["kind"] == "claim" and policy["for_whom"]["citation"]["basis"] in ("source", "secondary")
    assert policy["benefit"]["amount_stated"] is (policy["benefit"]["amount"] is not None)
    assert policy["benefit"]["kind"] == "loan"
    assert policy["file_name"] == "js-sumao-loan.yaml"
    current = app.state.rules.current.rules["js-sumao-loan"].version
    assert policy["version"] == current
    assert current in [v["version"] for v in policy["versions"] if v["current"]]


def test_read_policy_returns_404_when_unknown(client) -> None:
    body = assert_problem(client.get("/v1/policies/no-such-policy"), 404, "/problems/policy-not-found")
    assert body["policy_id"] == "no-such-policy"


def test_region_filter_agrees_with_the_engines_region_criterion(client, seeds) -> None:
    for region in sorted({p["region_code"] for p in seeds.values()}):
        listed = set(ids(client.get("/v1/policies", params={"region": region, "limit": 200})))
        answer = client.post("/v1/match", json={"profile": {"region_code": region}, "as_of": "2024-01-01"}).json()
        covering = {r["policy_id"] for r in answer["results"] if r["criteria"][0]["status"] == "met"}
        in_force = set(ids(client.get("/v1/policies", params={"in_force_on": "2024-01-01", "limit": 200})))
        assert listed & in_force == covering, region
