"""The outreach page of a measure: firms newly eligible since a day, their figures and why, marks of
contact and confirmation (CSRF-protected, audited), and the CSV export (UTF-8 with BOM, audited)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.db.models import AuditEvent
from app.deps import CHINA
from tests.console.test_pages import last_event
from tests.events.conftest import LARGE_DOMESTIC, SMALL_EXPORTER

PAGE = "/console/policies/js-sumao-loan/outreach"


def _store(client, api_key):  # type: ignore[no-untyped-def]
    partner = api_key("companies:write")
    newly = client.post("/v1/companies", json={"profile": SMALL_EXPORTER}, headers=partner).json()["id"]
    client.post("/v1/companies", json={"profile": LARGE_DOMESTIC}, headers=partner)
    return newly


def test_the_page_lists_newly_eligible_firms_with_figures_and_why(client, api_key, signed_in, official) -> None:
    company = _store(client, api_key)
    page = client.get(PAGE, params={"lang": "en"})
    assert page.status_code == 200, page.text
    assert SMALL_EXPORTER["name"] in page.text and LARGE_DOMESTIC["name"] not in page.text
    assert "1 firms" in page.text and "profile change" in page.text
    assert "so it is an SME" in page.text  # the criterion it meets, with its figures
    assert "20,000,000" in page.text or "2,000" in page.text  # the revenue among its figures
    zh = client.get(PAGE, params={"lang": "zh"})
    assert "新符合条件的企业" in zh.text and "企业信息变更" in zh.text
    today = client.get(PAGE, params={"since": datetime.now(CHINA).date().isoformat(), "lang": "en"})
    assert SMALL_EXPORTER["name"] in today.text
    refused = client.get(PAGE, params={"since": "2999-01-01", "lang": "en"})
    assert "not valid or is after today" in refused.text and SMALL_EXPORTER["name"] in refused.text
    assert company in page.text  # the mark forms name it
    linked = client.get("/console/policies/js-sumao-loan").text
    assert PAGE in linked


def test_marking_a_firm_needs_the_csrf_token_and_is_audited(client, api_key, signed_in, official, app) -> None:
    company = _store(client, api_key)
    csrf = signed_in
    refused = client.post(f"{PAGE}/{company}", data={"state": "contacted", "csrf_token": "forged"})
    assert refused.status_code == 403
    marked = client.post(f"{PAGE}/{company}", data={"state": "contacted", "csrf_token": csrf,
                                                     "since": (date.today() - timedelta(days=7)).isoformat()},
                         follow_redirects=False)
    assert marked.status_code == 303 and "since=" in marked.headers["location"]
    event = last_event(app, official)
    assert event.action == "outreach_marked"
    assert event.details == {"policy_id": "js-sumao-loan", "company_id": company,
                             "credit_code": SMALL_EXPORTER.get("credit_code"), "state": "contacted"}
    page = client.get(PAGE, params={"lang": "en"}).text
    assert "contacted" in page and "Mark confirmed" in page and "Mark contacted" not in page
    client.post(f"{PAGE}/{company}", data={"state": "confirmed", "csrf_token": csrf})
    assert "Mark confirmed" not in client.get(PAGE, params={"lang": "en"}).text
    audit = client.get("/console/audit", params={"lang": "en"}).text
    assert "Outreach marked" in audit


def test_the_csv_export_has_a_bom_one_row_per_firm_and_is_audited(client, api_key, signed_in, official, app) -> None:
    _store(client, api_key)
    response = client.get(f"{PAGE}.csv", params={"lang": "zh"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "企业" and len(rows) == 2
    assert rows[1][0] == SMALL_EXPORTER["name"] and "中小微企业" in rows[1][-2]
    event = last_event(app, official)
    assert event.action == "outreach_exported" and event.details["rows"] == 1
    with app.state.session_factory() as session:
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "outreach_exported"))


def test_a_formula_in_a_firms_name_is_not_a_formula_in_the_csv(client, api_key, signed_in) -> None:
    client.post("/v1/companies", json={"profile": {**SMALL_EXPORTER, "name": "=HYPERLINK(\"http://x\")"}},
                headers=api_key("companies:write"))
    rows = list(csv.reader(io.StringIO(client.get(f"{PAGE}.csv").content.decode("utf-8-sig"))))
    assert rows[1][0].startswith("'=")
