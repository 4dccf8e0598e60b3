"""Batch matching in the console: the template, an upload answered as CSV (one row per company and
measure, each company's decision logged), bad lines reported by line and column while the others are
answered, files refused beside the field, CSRF, and the audit log."""

from __future__ import annotations

import csv
import io
import uuid

from sqlalchemy import select

from app.db.models import Decision
from tests.console.test_pages import last_event

HEADER = "region_code,name,credit_code,industry_code,employees,annual_revenue,export_revenue,entity_type,activities"


def upload(client, csrf: str, text: str, encoding: str = "utf-8", lang: str = "en"):  # type: ignore[no-untyped-def]
    return client.post("/console/batch", params={"lang": lang}, data={"csrf_token": csrf},
                       files={"file": ("companies.csv", text.encode(encoding), "text/csv")})


def rows_of(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_template_has_the_forms_columns_and_reads_back(client, signed_in) -> None:
    template = client.get("/console/batch/template.csv")
    assert template.status_code == 200 and template.content.startswith("\ufeff".encode())
    header = template.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[0] == "region_code" and "annual_revenue" in header and "activities" in header
    answered = rows_of(upload(client, signed_in, template.content.decode("utf-8-sig")))
    assert answered and all(row["line"] == "2" and row["decision_id"] for row in answered)
    assert {row["measure_id"] for row in answered} >= {"js-sumao-loan"}


def test_each_company_is_answered_per_measure_and_bad_lines_by_line_and_column(client, signed_in, app) -> None:
    text = "\n".join([
        HEADER,
        "320506,苏州出口（演示）,,C3911,80,3000,900,enterprise,none",
        "320506,Bad figures,,C3911,eighty,3000,,enterprise,",
        "440305,深圳软件（演示）,,I6513,30,1500,,enterprise,digital_commerce;overseas_warehouse",
        ",No region,,,10,,,,",
    ])
    rows = rows_of(upload(client, signed_in, text))
    by_line: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_line.setdefault(row["line"], []).append(row)
    assert sorted(by_line, key=int) == ["2", "3", "4", "5"]
    suzhou = {row["measure_id"]: row for row in by_line["2"]}
    assert suzhou["js-sumao-loan"]["status"] == "Eligible"  # an SME enterprise that exports
    assert suzhou["js-sumao-loan"]["measure"] and suzhou["js-sumao-loan"]["missing_fields"] == ""
    assert all(row["measure_id"].startswith(("js-", "cn-")) for row in by_line["2"]), "only measures of its region"
    (bad,) = by_line["3"]
    assert bad["status"] == "invalid" and bad["decision_id"] == "" and bad["problem"].startswith("employees:")
    (no_region,) = by_line["5"]
    assert no_region["status"] == "invalid" and "region_code" in no_region["problem"]
    assert all(row["measure_id"].startswith(("gd-", "sz-", "cn-")) for row in by_line["4"])
    decided = {uuid.UUID(row["decision_id"]) for row in rows if row["decision_id"]}
    assert len(decided) == 2
    with app.state.session_factory() as session:
        assert len(session.scalars(select(Decision.id).where(Decision.id.in_(decided))).all()) == 2


def test_a_control_character_makes_its_line_invalid_and_never_reaches_the_results(client, signed_in) -> None:
    rows = rows_of(upload(client, signed_in, HEADER + "\n320506,Null\x00byte,,,10,,,,\n320506,Fine,,,10,,,,"))
    bad = [row for row in rows if row["line"] == "2"]
    assert len(bad) == 1 and bad[0]["status"] == "invalid" and "name" in bad[0]["problem"]
    assert all("\x00" not in cell for row in rows for cell in row.values())
    assert any(row["line"] == "3" and row["decision_id"] for row in rows)


def test_excel_files_in_gbk_are_read(client, signed_in) -> None:
    rows = rows_of(upload(client, signed_in, HEADER + "\n320506,苏州出口（演示）,,C3911,80,3000,900,enterprise,none",
                          encoding="gb18030", lang="zh"))
    assert rows and all(row["企业"] == "苏州出口（演示）" and row["决策编号"] for row in rows)
    assert {row["结果"] for row in rows} <= {"符合条件", "需补充信息", "不符合条件"}


def test_a_file_that_cannot_be_read_is_refused_beside_the_field(client, signed_in) -> None:
    for text, message in (("colour,size\nred,1", "unknown columns: colour, size"),
                          ("name\nOnly a name", "region_code is missing"),
                          (HEADER, "holds no company"),
                          ("region_code,region_code\n320506,320507", "names a column twice: region_code"),
                          (HEADER + "\n320506\n" + "x" * 200_000, "Line 3 cannot be read"),
                          (HEADER + "\n" + "320506,,,,1,,,,\n" * 1001, "More than 1000 companies")):
        page = upload(client, signed_in, text)
        assert page.status_code == 422 and message in page.text, message
        assert 'aria-describedby="file-error"' in page.text


def test_an_upload_needs_the_csrf_token_and_is_audited(client, signed_in, official, app) -> None:
    forged = upload(client, "forged", HEADER + "\n320506,,,,10,,,,")
    assert forged.status_code == 403
    rows_of(upload(client, signed_in, HEADER + "\n320506,,,,10,,,,\n320506,,,,ten,,,,"))
    event = last_event(app, official)
    assert event.action == "batch_matched"
    assert event.details == {"file_name": "companies.csv", "lines": 2, "answered": 1, "refused": 1}
