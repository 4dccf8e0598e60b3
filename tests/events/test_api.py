"""GET /v1/events: ordered and resumable pages, only the caller's companies, bounded parameters."""

from __future__ import annotations

import pytest

from tests.events.conftest import LARGE_EXPORTER, SMALL_EXPORTER
from tests.helpers import assert_problem

pytestmark = pytest.mark.usefixtures("client")


def test_events_come_in_order_page_by_page_and_only_for_the_callers_companies(client, api_key) -> None:
    ours, theirs = api_key("companies:write", "events:read"), api_key("companies:write", "events:read")
    mine = client.post("/v1/companies", json={"profile": SMALL_EXPORTER}, headers=ours).json()["id"]
    client.post("/v1/companies", json={"profile": LARGE_EXPORTER}, headers=theirs)
    everything = client.get("/v1/events", params={"limit": 1000}, headers=ours).json()
    assert everything["items"] and not everything["has_more"]
    assert {e["company_id"] for e in everything["items"]} == {mine}
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids)
    pages, after = [], 0
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 1}, headers=ours).json()
        pages += page["items"]
        after = page["next_after"]
        if not page["has_more"]:
            break
    assert pages == everything["items"]
    # Resumed from the end: nothing new, and the cursor stays.
    assert client.get("/v1/events", params={"after": after}, headers=ours).json() == {
        "items": [], "next_after": after, "has_more": False}
    assert {e["company_id"] for e in client.get("/v1/events", headers=theirs).json()["items"]} != {mine}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"},
                                    {"after": 2**63}])
def test_events_refuse_bad_cursors_and_limits(client, api_key, params) -> None:
    body = assert_problem(client.get("/v1/events", params=params, headers=api_key("events:read")), 422,
                          "/problems/validation")
    assert body["errors"]


def test_events_need_the_events_read_scope(client, api_key) -> None:
    assert_problem(client.get("/v1/events"), 401)
    assert_problem(client.get("/v1/events", headers=api_key("companies:read")), 403)
