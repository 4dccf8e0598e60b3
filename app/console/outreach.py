"""The console's outreach page of a measure: the firms newly eligible since a day, with their figures and
the criteria they now meet; officials mark them contacted or confirmed and export the list as CSV
(UTF-8 with BOM). Every mark and export goes to the audit log."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from app.companies.service import profile_of
from app.console import audit
from app.console.sessions import COOKIE_PATH
from app.console.web import china_time, client_ip, page
from app.deps import (
    CHINA,
    CheckedOfficial,
    CurrentOfficial,
    RuleSetDep,
    SessionDep,
    TodayDep,
    refuse_control_characters,
)
from app.engine import ProfileDateError, Rule, RuleSet, evaluate_rule
from app.engine.formatting import format_fact
from app.errors import CompanyNotFoundError, StoredProfileInvalidError
from app.events import outreach
from app.events.service import DATE_CHANGE, PROFILE_CHANGE, RULE_CHANGE
from app.matching.csv_export import spreadsheet_cell
from app.templating import request_lang

DEFAULT_DAYS = 30
PAGE_ROWS, CSV_ROWS = 200, 5000
FIGURES = ("employees", "annual_revenue", "export_revenue", "rd_expense")
CAUSES = {RULE_CHANGE: ("政策规则变更", "rule change"), PROFILE_CHANGE: ("企业信息变更", "profile change"),
          DATE_CHANGE: ("日期变化（成立年限、政策有效期）", "the date (company age, a measure's validity)")}
STATE_NAMES = {"contacted": ("已联系", "contacted"), "confirmed": ("已确认意愿", "confirmed"), None: ("未联系", "not yet")}

router = APIRouter(prefix=f"{COOKIE_PATH}/policies/{{policy_id}}", include_in_schema=False,
                   dependencies=[Depends(refuse_control_characters)])


def _since(value: str, today: date) -> tuple[date, bool]:
    """The first day of the list: `value` (YYYY-MM-DD, not after today), else 30 days ago; and whether
    `value` was refused."""
    default = today - timedelta(days=DEFAULT_DAYS)
    if not value:
        return default, False
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return default, True
    return (day, False) if day <= today else (default, True)


def _rows(session: Any, ruleset: RuleSet, rule: Rule, *, since: date, today: date, lang: str,
          limit: int) -> tuple[list[dict[str, Any]], int]:
    """The newly eligible firms with their figures and, decided again now, the criteria they meet."""
    found, total = outreach.newly_eligible(session, rule.id, limit=limit,
                                           since=datetime.combine(since, time(), CHINA))
    tables = ruleset.tables
    rows = []
    for item in found:
        profile = item.company.profile
        why: list[str] = []
        try:
            result = evaluate_rule(ruleset, rule, profile_of(item.company), as_of=today)
            why = [c.explanation[lang] for c in result.criteria if c.status == "met"]
        except (StoredProfileInvalidError, ProfileDateError):  # listed, without its reasons
            why = []
        rows.append({
            "company": item.company, "event": item.event, "outreach": item.outreach,
            "region": tables.region_name(profile.get("region_code", ""), lang),
            "figures": [(tables.label("fields", name, lang), format_fact(ruleset.facts[name], profile.get(name), lang, tables))
                        for name in FIGURES if name in ruleset.facts],
            "why": why,
        })
    return rows, total


def _rule(ruleset: RuleSet, policy_id: str) -> Rule | None:
    return ruleset.rules.get(policy_id)


@router.get("/outreach")
def outreach_page(request: Request, policy_id: str, signed_in: CurrentOfficial, session: SessionDep,
                  ruleset: RuleSetDep, today: TodayDep, since: str = "") -> Response:
    rule = _rule(ruleset, policy_id)
    if rule is None:
        return page(request, "console/error.html", {
            "title": ("没有这项政策", "No such policy"),
            "detail": (f"规则集中没有编号为 {policy_id} 的政策。", f"The rule set has no policy {policy_id}.")},
            signed_in=signed_in, status_code=404)
    lang = request_lang(request)
    day, refused = _since(since, today)
    rows, total = _rows(session, ruleset, rule, since=day, today=today, lang=lang, limit=PAGE_ROWS)
    return page(request, "console/outreach.html", {
        "nav": "policies", "rule": rule, "rows": rows, "total": total, "since": day, "since_refused": refused,
        "tables": ruleset.tables, "csrf_token": signed_in.csrf_token, "CAUSES": CAUSES, "STATE_NAMES": STATE_NAMES,
        "limit": PAGE_ROWS, "csv_url": f"{COOKIE_PATH}/policies/{policy_id}/outreach.csv?{urlencode({'since': day})}",
    }, signed_in=signed_in)


@router.post("/outreach/{company_id}")
def outreach_mark(request: Request, policy_id: str, company_id: str, signed_in: CheckedOfficial,
                  session: SessionDep, ruleset: RuleSetDep, state: Annotated[str, Form()] = "",
                  since: Annotated[str, Form()] = "") -> Response:
    """Mark a firm contacted or confirmed for the measure; audited."""
    back = f"{COOKIE_PATH}/policies/{policy_id}/outreach?{urlencode({'since': since})}"
    if state not in outreach.STATES or _rule(ruleset, policy_id) is None:
        return RedirectResponse(back, status_code=303)
    try:
        company = outreach.mark(session, company_id=company_id, policy_id=policy_id, state=state,
                                official_id=signed_in.official.id)
    except CompanyNotFoundError:
        return RedirectResponse(back, status_code=303)
    audit.record_event(session, action=outreach.OUTREACH_MARKED, username=signed_in.official.username,
                         official_id=signed_in.official.id, ip=client_ip(request), details={
                             "policy_id": policy_id, "company_id": str(company.id),
                             "credit_code": company.credit_code, "state": state})
    return RedirectResponse(back, status_code=303)


@router.get("/outreach.csv")
def outreach_csv(request: Request, policy_id: str, signed_in: CurrentOfficial, session: SessionDep,
                 ruleset: RuleSetDep, today: TodayDep, since: str = "") -> Response:
    """The list as CSV (UTF-8 with BOM, so Excel reads the Chinese); the export is audited."""
    rule = _rule(ruleset, policy_id)
    if rule is None:
        return outreach_page(request, policy_id, signed_in, session, ruleset, today, since)
    lang = request_lang(request)
    day, _ = _since(since, today)
    rows, _ = _rows(session, ruleset, rule, since=day, today=today, lang=lang, limit=CSV_ROWS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    en = lang == "en"
    writer.writerow(["company", "credit code", "region", "eligible since (China time)", "cause", *(
        label for label, _ in (rows[0]["figures"] if rows else [])), "criteria met", "outreach"] if en else
        ["企业", "统一社会信用代码", "地区", "符合条件时间（北京时间）", "原因", *(
            label for label, _ in (rows[0]["figures"] if rows else [])), "满足的条件", "跟进状态"])
    for row in rows:
        state = row["outreach"].state if row["outreach"] else None
        writer.writerow([spreadsheet_cell(v) for v in (
            row["company"].name, row["company"].credit_code, row["region"], china_time(row["event"].recorded_at),
            CAUSES.get(row["event"].cause, (row["event"].cause,) * 2)[en], *(v for _, v in row["figures"]),
            "\n".join(row["why"]), STATE_NAMES[state][en])])
    audit.record_event(session, action=outreach.OUTREACH_EXPORTED, username=signed_in.official.username,
                         official_id=signed_in.official.id, ip=client_ip(request),
                         details={"policy_id": policy_id, "since": day.isoformat(), "rows": len(rows)})
    filename = f"huiqi-outreach-{policy_id}-{day.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
