"""Status events from rule changes (a reload, on one instance or two) and from profile changes."""

from __future__ import annotations

from sqlalchemy import delete

from tests.events.conftest import (
    LARGE_DOMESTIC,
    LARGE_EXPORTER,
    SMALL_EXPORTER,
    key,
    loosen_sumao,
    read_all,
    store,
)

SUMAO = "js-sumao-loan"


def _cleanup(client) -> None:  # type: ignore[no-untyped-def]
    from app.db.models import ApiClient, Company

    with client.app.state.session_factory() as session:
        session.execute(delete(Company))
        session.execute(delete(ApiClient))
        session.commit()


def test_storing_a_company_records_its_statuses_as_profile_change_events(start) -> None:
    client = start()
    partner = key(client, "companies:write", "events:read")
    try:
        company = store(client, partner, SMALL_EXPORTER)
        events = read_all(client, partner)
        sumao = [e for e in events if e["policy_id"] == SUMAO]
        assert sumao == [{**sumao[0], "company_id": company, "old_status": "ineligible", "new_status": "eligible",
                          "cause": "profile_change", "company_version": 1}]
        assert all(e["cause"] == "profile_change" and e["new_status"] != "ineligible" for e in events)
        last = events[-1]["id"]
        # Replacing the profile with one that exports nothing takes 苏贸贷 away: one event, that one.
        response = client.put(f"/v1/companies/{company}", json={"profile": {**SMALL_EXPORTER, "export_revenue": 0,
                                                                            "import_value": 0, "activities": []}},
                              headers={**partner, "If-Match": '"1"'})
        assert response.status_code == 200, response.text
        changed = read_all(client, partner, after=last)
        assert [(e["policy_id"], e["old_status"], e["new_status"], e["company_version"]) for e in changed
                if e["policy_id"] == SUMAO] == [(SUMAO, "eligible", "ineligible", 2)]
        # The same profile again: nothing changes, nothing is recorded.
        client.put(f"/v1/companies/{company}", json={"profile": {**SMALL_EXPORTER, "export_revenue": 0,
                                                                 "import_value": 0, "activities": []}},
                   headers={**partner, "If-Match": '"2"'})
        assert read_all(client, partner, after=changed[-1]["id"]) == []
    finally:
        _cleanup(client)


def test_a_reload_making_firms_newly_eligible_records_exactly_their_events_once(start, rules) -> None:
    first, second = start(), start()  # two instances of the service on one database
    admin = key(first, "admin")
    partner = key(first, "companies:write", "events:read")
    try:
        large = store(first, partner, LARGE_EXPORTER)
        store(first, partner, SMALL_EXPORTER)
        store(second, partner, LARGE_DOMESTIC)
        before = read_all(first, partner)
        last = before[-1]["id"]
        loosen_sumao(rules)
        for instance in (first, second, first):  # each instance reloads; the first one twice
            response = instance.post("/v1/admin/reload", headers=admin)
            assert response.status_code == 200, response.text
            assert response.json()["changed"] or instance is first
        events = read_all(second, partner, after=last)
        assert [(e["company_id"], e["policy_id"], e["old_status"], e["new_status"], e["cause"]) for e in events] == [
            (large, SUMAO, "ineligible", "eligible", "rule_change")]
        new_version = first.get(f"/v1/policies/{SUMAO}").json()["version"]
        assert events[0]["rule_version"] == new_version != events[0]["previous_rule_version"]
        # A third instance starting with the same rules finds nothing left to record.
        start()
        assert read_all(first, partner, after=last) == events
    finally:
        _cleanup(first)


def test_the_daily_refresh_records_what_the_date_changed(start) -> None:
    """A Shenzhen firm close to high-tech recognition but registered less than a year: ineligible today,
    eligible once the daily refresh runs on its first anniversary, and that change is a date_change."""
    from datetime import date

    from app.events.service import DATE_CHANGE, refresh_statuses

    client = start()
    partner = key(client, "companies:write", "events:read")
    young = {"region_code": "440305", "entity_type": "enterprise", "industry_code": "I6513", "employees": 50,
             "rd_staff": 10, "annual_revenue": 10_000_000, "rd_expense": 1_000_000, "certifications": [],
             "founded_on": "2026-06-01"}
    try:
        company = store(client, partner, young)
        last = read_all(client, partner)[-1]["id"]
        app = client.app
        done = refresh_statuses(app.state.session_factory, app.state.rules.current, as_of=date(2027, 6, 1),
                                force=True, cause=DATE_CHANGE)
        changed = read_all(client, partner, after=last)
        assert done.events >= 1 and {e["cause"] for e in changed} == {"date_change"}
        assert [(e["company_id"], e["old_status"], e["new_status"]) for e in changed
                if e["policy_id"] == "sz-high-tech-cultivation"] == [(company, "ineligible", "eligible")]
        again = refresh_statuses(app.state.session_factory, app.state.rules.current, as_of=date(2027, 6, 1),
                                 force=True, cause=DATE_CHANGE)
        assert again.events == 0  # the same day again: nothing new
    finally:
        _cleanup(client)
