"""POST /v1/match/batch: NDJSON streamed in the order of the requests, each line decided as POST
/v1/match decides and stored before it is sent; a bad line gets its own problem and the others their
answers; only a body that is not an array of 1 to 1,000 requests is refused whole."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from tests.helpers import assert_problem

SUZHOU = {"region_code": "320506", "industry_code": "C3911", "employees": 80, "annual_revenue": 30000000,
          "export_revenue": 9000000, "activities": [], "entity_type": "enterprise"}
SHENZHEN = {"region_code": "440305", "industry_code": "I6513", "employees": 30}


def lines(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [orjson.loads(line) for line in response.content.splitlines()]


def without_ids(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in ("index", "decision_id")}


def test_each_line_is_answered_in_order_as_match_answers_it_and_is_stored(client) -> None:
    requests = [{"profile": SUZHOU, "as_of": "2025-06-30"}, {"profile": SHENZHEN, "as_of": "2025-06-30", "scope": "local"},
                {"profile": SUZHOU, "as_of": "2024-01-15", "lang": "en"}]
    answered = lines(client.post("/v1/match/batch", json=requests))
    assert [line["index"] for line in answered] == [0, 1, 2]
    for request, line in zip(requests, answered, strict=True):
        single = client.post("/v1/match", json=request).json()
        assert without_ids(line) == without_ids(single)
        stored = client.get(f"/v1/decisions/{line['decision_id']}").json()
        assert stored["answer"] == without_ids(line)


def test_a_bad_line_gets_its_own_problem_and_the_others_their_answers(client) -> None:
    requests: list[Any] = [
        {"profile": SUZHOU},
        {"profile": {**SUZHOU, "employees": -3}},
        "not an object",
        {"profile": {**SUZHOU, "founded_on": "2030-01-01"}, "as_of": "2025-06-30"},
        {"profile": SHENZHEN, "colour": "blue"},
        {"profile": SHENZHEN},
    ]
    answered = lines(client.post("/v1/match/batch", json=requests))
    assert [line["index"] for line in answered] == list(range(len(requests)))
    assert "decision_id" in answered[0] and "decision_id" in answered[5]
    for index, field in ((1, [1, "profile", "employees"]), (3, [3, "profile", "founded_on"]), (4, [4, "colour"])):
        problem = answered[index]
        assert problem["status"] == 422 and problem["type"] == "/problems/validation"
        assert "decision_id" not in problem
        assert any(error["loc"] == field for error in problem["errors"]), problem
    assert answered[2]["status"] == 422 and answered[2]["errors"][0]["loc"] == [2]


@pytest.mark.parametrize("body", [b"{}", b"[]", b"not json", orjson.dumps([{"profile": SHENZHEN}] * 1001)],
                         ids=["object", "empty", "not-json", "1001-lines"])
def test_a_body_that_is_not_an_array_of_1_to_1000_requests_is_refused_whole(client, body) -> None:
    response = client.post("/v1/match/batch", content=body, headers={"Content-Type": "application/json"})
    problem = assert_problem(response, 422, "/problems/validation")
    assert problem["errors"][0]["loc"] == ["body"]


def test_a_body_past_the_batch_limit_is_refused_before_it_is_read(client) -> None:
    body = orjson.dumps([{"profile": {**SHENZHEN, "industry_code": "I6513" + " " * 3000}}] * 1000)
    assert len(body) > 2 * 1024 * 1024
    response = client.post("/v1/match/batch", content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "/problems/body-too-large")


def test_lines_the_log_cannot_store_are_not_answered(client, app) -> None:
    decisions = app.state.decision_log
    decisions.available = False
    try:
        answered = lines(client.post("/v1/match/batch", json=[{"profile": SUZHOU}, {"profile": SHENZHEN}]))
    finally:
        decisions.available = True
    assert [line["status"] for line in answered] == [503, 503]
    assert all(line["type"] == "/problems/database-unavailable" and "decision_id" not in line for line in answered)


def test_a_full_batch_of_1000_is_answered_in_order_and_every_line_stored(client, app) -> None:
    from sqlalchemy import func, select

    from app.db.models import Decision

    requests = [{"profile": {**SUZHOU, "employees": n}} for n in range(1000)]
    answered = lines(client.post("/v1/match/batch", json=requests))
    assert [line["index"] for line in answered] == list(range(1000))
    ids = [uuid.UUID(line["decision_id"]) for line in answered]
    with app.state.session_factory() as session:
        stored = session.scalar(select(func.count()).select_from(Decision).where(Decision.id.in_(ids)))
    assert stored == 1000


def test_a_line_that_fails_on_our_side_fails_alone(client, monkeypatch) -> None:
    from app.matching import service

    match = service.match

    def failing_on_shenzhen(ruleset, profile, **options):  # type: ignore[no-untyped-def]
        if profile.region_code == SHENZHEN["region_code"]:
            raise RuntimeError("a defect")
        return match(ruleset, profile, **options)

    monkeypatch.setattr(service, "match", failing_on_shenzhen)
    answered = lines(client.post("/v1/match/batch", json=[{"profile": SUZHOU}, {"profile": SHENZHEN},
                                                          {"profile": SUZHOU}]))
    assert ["decision_id" in line for line in answered] == [True, False, True]
    assert answered[1]["status"] == 500 and answered[1]["index"] == 1 and "a defect" not in str(answered[1])
