"""The lookups a partner app needs to build a form and an answer screen without tables of its own."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import assert_problem


def test_regions_run_province_city_district(client: TestClient) -> None:
    provinces = client.get("/v1/regions").json()
    assert provinces["parent"] is None
    jiangsu = next(item for item in provinces["items"] if item["code"] == "320000")
    assert jiangsu == {"code": "320000", "name": {"zh": "江苏省", "en": "Jiangsu"},
                       "full_name": {"zh": "江苏省", "en": "Jiangsu"}, "level": "province", "has_children": True}
    suzhou = client.get("/v1/regions", params={"parent": "320500"}).json()
    assert suzhou["parent"]["level"] == "city"
    kunshan = next(item for item in suzhou["items"] if item["code"] == "320583")
    assert kunshan["level"] == "county" and kunshan["has_children"] is False
    assert kunshan["full_name"]["zh"] == "江苏省苏州市昆山市"


def test_an_unknown_region_is_a_404_and_a_malformed_one_a_422(client: TestClient) -> None:
    assert_problem(client.get("/v1/regions", params={"parent": "329999"}), 404)
    assert_problem(client.get("/v1/regions", params={"parent": "abc"}), 422)


def test_industries_are_found_by_a_word_or_a_code(client: TestClient) -> None:
    found = client.get("/v1/industries", params={"q": "计算机整机"}).json()["items"]
    assert found[0]["code"] == "C3911" and found[0]["level"] == "class"
    assert found[0]["label"]["zh"] == "C3911 计算机整机制造"
    by_code = client.get("/v1/industries", params={"q": "F526"}).json()["items"]
    assert by_code and all(item["code"].startswith("F526") for item in by_code)
    assert_problem(client.get("/v1/industries", params={"q": ""}), 422)


def test_the_vocabulary_labels_every_profile_field_and_value(client: TestClient) -> None:
    vocabulary = client.get("/v1/vocabulary").json()
    assert {entry["id"] for entry in vocabulary["fields"]} >= {"region_code", "annual_revenue", "activities"}
    assert {"id": "car_dealer", "label": {"zh": "汽车销售", "en": "Car dealer"}, "help": None} in vocabulary["activities"]
    assert len(vocabulary["clusters"]) >= 28
    assert all(set(entry["label"]) == {"zh", "en"} for entry in vocabulary["certifications"])
