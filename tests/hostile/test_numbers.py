"""Numbers are bounded before they are converted, and refused with a 422 that names the field: in the
API (JSON numbers with huge exponents or thousands of digits, integers past a column), in the form
(counts, and money in 万元), in the console, and in If-Match."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.engine.profile import MAX_COUNT, MAX_MONEY
from tests.helpers import assert_problem

HUGE = {
    "exponent": "1e999999999",
    "digits": "9" * 5000,
    "negative digits": "-" + "9" * 5000,
    "past a PostgreSQL integer": str(2**31),
    "past an SQLite integer": str(2**63),
}


def match_body(field: str, number: str) -> bytes:
    return ('{"profile": {"region_code": "440305", "' + field + '": ' + number + '}}').encode()


def problem_fields(body: dict[str, Any]) -> list[list[Any]]:
    return [error["loc"] for error in body["errors"]]


CASES = [("employees", number) for number in HUGE.values()] + [
    ("annual_revenue", number) for number in (HUGE["exponent"], HUGE["digits"], "1e16", "1" + "0" * 400)]


@pytest.mark.parametrize(("field", "number"), CASES, ids=[f"{f}-{n[:12]}" for f, n in CASES])
def test_match_refuses_a_huge_number_naming_its_field(client: TestClient, field: str, number: str) -> None:
    response = client.post("/v1/match", content=match_body(field, number),
                           headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "/problems/validation")
    assert ["body", "profile", field] in problem_fields(body)


@pytest.mark.parametrize("number", HUGE.values(), ids=HUGE.keys())
def test_storing_a_company_refuses_a_huge_number_naming_its_field(client: TestClient, api_key: Any,
                                                                    number: str) -> None:
    response = client.post("/v1/companies", content=match_body("rd_staff", number),
                           headers={"Content-Type": "application/json", **api_key("companies:write")})
    body = assert_problem(response, 422, "/problems/validation")
    assert ["body", "profile", "rd_staff"] in problem_fields(body)


def test_the_bounds_themselves_are_accepted(client: TestClient, api_key: Any) -> None:
    profile = {"region_code": "440305", "employees": MAX_COUNT, "invention_patents": MAX_COUNT,
               "annual_revenue": MAX_MONEY, "export_revenue": MAX_MONEY}
    response = client.post("/v1/companies", json={"profile": profile}, headers=api_key("companies:write"))
    assert response.status_code == 201, response.text
    company = response.json()["id"]
    matches = client.get(f"/v1/companies/{company}/matches", headers=api_key("companies:read"))
    assert matches.status_code == 200, matches.text


@pytest.mark.parametrize("tag", [b'"99999999999999999999"', b'"2147483648"', '"²"'.encode("latin-1"),
                                 b'"1", "99999999999999999999"'])
def test_an_if_match_past_any_version_is_a_412_not_a_500(client: TestClient, api_key: Any, tag: bytes) -> None:
    headers: dict[str, Any] = api_key("companies:write", "companies:read")
    created = client.post("/v1/companies", json={"profile": {"region_code": "440305"}}, headers=headers)
    company = created.json()["id"]
    if tag.startswith(b'"1"'):  # names the real version too: the update goes through
        response = client.put(f"/v1/companies/{company}", json={"profile": {"region_code": "440305"}},
                              headers={**headers, "If-Match": tag})
        assert response.status_code == 200, response.text
        return
    response = client.put(f"/v1/companies/{company}", json={"profile": {"region_code": "440305"}},
                          headers={**headers, "If-Match": tag})
    assert_problem(response, 412)
    assert_problem(client.delete(f"/v1/companies/{company}", headers={**headers, "If-Match": tag}), 412)
    assert client.get(f"/v1/companies/{company}", headers={**headers, "If-None-Match": tag}).status_code == 200


FORM = {"province": "440000", "city": "440300", "county": "440305"}


@pytest.mark.parametrize("number", ["1e999999999", "9" * 5000, "1" * 16, "0." + "1" * 5000, "١٢٣e5"])
@pytest.mark.parametrize("field", ["employees", "annual_revenue"])
def test_the_form_refuses_a_huge_number_beside_its_field(client: TestClient, field: str, number: str) -> None:
    response = client.post("/answer", data={**FORM, field: number})
    assert response.status_code == 422
    assert f'field--error" id="field-{field}"' in response.text


@pytest.mark.parametrize(("field", "number", "message"), [
    ("employees", str(MAX_COUNT + 1), "不能超过 2,147,483,647"),
    ("annual_revenue", "100000000001", "不能超过 100,000,000,000 万元"),
])
def test_the_form_names_the_bound_past_it(client: TestClient, field: str, number: str, message: str) -> None:
    response = client.post("/answer", data={**FORM, field: number}, headers={"Accept-Language": ""})
    assert response.status_code == 422
    assert message in response.text


def test_the_form_still_reads_numbers_as_people_type_them(client: TestClient) -> None:
    response = client.post("/answer", data={**FORM, "employees": "１,２00", "annual_revenue": "3000.5",
                                            "export_revenue": ".5"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("page", ["9" * 5000, str(2**63), "1e999"])
def test_console_pages_refuse_a_huge_page_number(client: TestClient, signed_in: str, page: str) -> None:
    for path in ("/console/decisions", "/console/audit"):
        response = client.get(path, params={"page": page})
        assert response.status_code == 422, (path, response.status_code)
        assert "page" in response.text


@pytest.mark.parametrize("offset", ["9" * 5000, str(2**63)])
def test_policy_listing_refuses_a_huge_offset(client: TestClient, offset: str) -> None:
    assert_problem(client.get("/v1/policies", params={"offset": offset}), 422)
