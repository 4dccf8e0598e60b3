"""The officials' console under /console: server-rendered pages that work without JavaScript.

Every page but sign-in needs a live session (server-side row, HttpOnly SameSite=Lax cookie); every
POST carries the session's CSRF token (the sign-in form carries one signed against a cookie, as there
is no session yet). Official actions go to the append-only audit log.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from app.console import audit, diffs, drafts, search, sessions
from app.console.sessions import COOKIE_PATH, SESSION_COOKIE, SignedIn
from app.console.sign_in import sign_in
from app.deps import (
    CheckedOfficial,
    CurrentOfficial,
    RuleSetDep,
    SessionDep,
    SettingsDep,
    TodayDep,
    refuse_control_characters,
)
from app.engine import RuleSet
from app.engine.examples import run_examples
from app.engine.expressions import Param, names_in
from app.engine.formatting import format_fact, format_parameter, format_regions
from app.errors import CsrfRejectedError, PolicyNotFoundError, ReplayUnavailableError, SignInRequiredError
from app.events import outreach
from app.matching import service as matching_service
from app.policies import service as policies_service
from app.registry import service as registry_service
from app.settings import Settings
from app.templating import lang_links, render, request_lang

SIGN_IN_COOKIE = "huiqi_console_sign_in"
MAX_DRAFT_BYTES = 256 * 1024
MAX_PAGE = 1_000_000  # of search results and the audit log: bounded before it becomes an OFFSET
STATUSES = ("eligible", "needs_info", "ineligible")
BASIS = ("source", "standard", "assumption")
ACTIONS = {
    audit.SIGN_IN: ("登录", "Signed in"),
    audit.SIGN_IN_FAILED: ("登录失败", "Sign-in failed"),
    audit.SIGN_IN_REFUSED: ("登录被拒（尝试过多）", "Sign-in refused (too many attempts)"),
    audit.SIGN_OUT: ("退出登录", "Signed out"),
    audit.DRAFT_EVALUATED: ("评估规则草案", "Draft rule evaluated"),
    audit.REPLAY: ("重放决策", "Decision replayed"),
    audit.OFFICIAL_CREATED: ("创建账号", "Account created"),
    audit.OFFICIAL_DISABLED: ("停用账号", "Account disabled"),
    outreach.OUTREACH_MARKED: ("标记企业跟进状态", "Outreach marked"),
    outreach.OUTREACH_EXPORTED: ("导出新符合条件企业名单", "Newly eligible firms exported"),
    audit.BATCH_MATCHED: ("批量匹配企业名单", "Batch of companies matched"),
}

# What an audit event's details mean, in both languages: the log stores keys and plain values.
DETAIL_LABELS = {
    "decision_id": ("决策编号", "Decision"), "reproduced": ("按原规则复现", "Reproduced"),
    "decides_differently": ("按今天的规则判断不同", "Today's rules decide differently"), "error": ("错误", "Error"),
    "file_name": ("文件名", "File"), "policy_id": ("政策编号", "Policy"), "version": ("版本", "Version"),
    "errors": ("校验问题数", "Problems found"), "examples_passed": ("通过的示例", "Examples passed"),
    "examples": ("示例总数", "Examples"), "gained": ("新增符合条件的企业", "Companies gaining eligibility"),
    "lost": ("不再符合条件的企业", "Companies losing eligibility"), "as_of": ("评估日期", "Evaluated on"),
    "via": ("方式", "Via"), "reason": ("原因", "Reason"), "retry_after_minutes": ("需等待（分钟）", "Wait (minutes)"),
    "company_id": ("企业编号", "Company"), "credit_code": ("统一社会信用代码", "Credit code"),
    "state": ("状态", "State"), "since": ("起始日期", "Since"), "rows": ("行数", "Rows"),
}
DETAIL_VALUES = {
    "wrong password": ("密码错误", "wrong password"), "unknown username": ("用户名不存在", "unknown username"),
    "account disabled": ("账号已停用", "account disabled"), "command line": ("命令行", "command line"),
    "contacted": ("已联系", "contacted"), "confirmed": ("已确认意愿", "confirmed"),
}


def audit_detail(key: str, value: Any, lang: str) -> tuple[str, str]:
    """An audit detail as a reader sees it: its label and its value, in the page's language."""
    label = DETAIL_LABELS.get(key, (key, key))[lang == "en"]
    if isinstance(value, bool):
        return label, ("是", "yes")[lang == "en"] if value else ("否", "no")[lang == "en"]
    if isinstance(value, str) and value in DETAIL_VALUES:
        return label, DETAIL_VALUES[value][lang == "en"]
    return label, str(value)


router = APIRouter(prefix="/console", include_in_schema=False,
                   dependencies=[Depends(refuse_control_characters)])


# ---------------------------------------------------------------------------------------------------
# Cookies, rendering, and the pages the two console errors become
# ---------------------------------------------------------------------------------------------------


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


def _safe_next(value: str | None) -> str:
    """Only local console paths: never an open redirect."""
    if value and value.startswith(COOKIE_PATH) and not value.startswith("//") and "\\" not in value:
        return value
    return COOKIE_PATH


def page(request: Request, name: str, context: dict[str, Any], *, signed_in: SignedIn | None = None,
         status_code: int = 200) -> Response:
    """Render a console page; never cached, as it shows what only officials may see."""
    query = list(request.query_params.multi_items())
    base = {"lang_links": lang_links(request.url.path, query), "signed_in": signed_in,
            "ACTIONS": ACTIONS, "STATUSES": STATUSES, "china_time": china_time, "audit_detail": audit_detail,
            "today": datetime.now(search.CHINA).date()}  # measures past their end are marked expired
    response = render(request, name, {**base, **context}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def china_time(moment: datetime | None, seconds: bool = False) -> str:
    if moment is None:
        return ""
    return moment.astimezone(search.CHINA).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def install(app: FastAPI) -> None:
    """Add the console's routes and the handlers that turn its two errors into pages."""

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequiredError)
        response = RedirectResponse(f"{COOKIE_PATH}/sign-in?{urlencode({'next': exc.next_url})}", status_code=303)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        return page(request, "console/error.html", {
            "title": ("请求已被拒绝", "Request refused"),
            "detail": ("表单已过期或不是从本控制台提交的（安全校验未通过）。请返回上一页刷新后重试。",
                       ("The form had expired or was not sent from this console (the security check failed). "
                        "Go back, reload the page and try again.")),
        }, status_code=403)

    app.add_exception_handler(SignInRequiredError, sign_in_required)
    app.add_exception_handler(CsrfRejectedError, csrf_rejected)
    app.include_router(router)


# ---------------------------------------------------------------------------------------------------
# Sign-in and sign-out
# ---------------------------------------------------------------------------------------------------


def _sign_in_page(request: Request, settings: Settings, *, next_url: str, username: str = "",
                  error: tuple[str, str] | None = None, status_code: int = 200) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = page(request, "console/sign_in.html", {
        "csrf_token": sessions.signed(nonce, settings), "next_url": next_url, "username": username, "error": error,
    }, status_code=status_code)
    _set_cookie(request, response, SIGN_IN_COOKIE, nonce, max_age=3600)
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, settings: SettingsDep, next: str = "") -> Response:  # noqa: A002
    return _sign_in_page(request, settings, next_url=_safe_next(next))


@router.post("/sign-in")
def sign_in_submit(
    request: Request, session: SessionDep, settings: SettingsDep,
    username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "",  # noqa: A002
) -> Response:
    """Check the credentials; on success open a session and go where the official was heading."""
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    if not nonce or not hmac.compare_digest(csrf_token, sessions.signed(nonce, settings)):
        raise CsrfRejectedError()
    next_url = _safe_next(next)
    if not username.strip() or not password:
        return _sign_in_page(request, settings, next_url=next_url, username=username, status_code=422,
                             error=("请填写用户名和密码。", "Enter your username and password."))
    result = sign_in(session, username=username, password=password, ip=client_ip(request),
                             settings=settings)
    if result.throttled:
        minutes = result.retry_after_minutes
        return _sign_in_page(request, settings, next_url=next_url, username=username, status_code=429, error=(
            f"登录失败次数过多，已暂停登录。请在 {minutes} 分钟后再试，或联系管理员。",
            (f"Too many failed sign-ins: signing in is paused. Try again in {minutes} minute"
             f"{'' if minutes == 1 else 's'}, or ask an administrator.")))
    if result.official is None:
        return _sign_in_page(request, settings, next_url=next_url, username=username, status_code=401,
                             error=("用户名或密码不正确。", "The username or password is not correct."))
    token, _ = sessions.start_official_session(session, result.official, settings=settings)
    response = RedirectResponse(next_url, status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, token, max_age=settings.session_minutes * 60)
    response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: SessionDep, signed_in: CheckedOfficial) -> Response:
    sessions.end_official_session(session, signed_in.session_row)
    audit.record_event(session, action=audit.SIGN_OUT, username=signed_in.official.username,
                       official_id=signed_in.official.id, ip=client_ip(request))
    response = RedirectResponse(f"{COOKIE_PATH}/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


@router.get("")
def home(signed_in: CurrentOfficial) -> Response:
    return RedirectResponse(f"{COOKIE_PATH}/policies", status_code=303)


# ---------------------------------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------------------------------


@router.get("/policies")
def policies(request: Request, signed_in: CurrentOfficial, ruleset: RuleSetDep,
             q: str = "", region: str = "", kind: str = "") -> Response:
    found = search.search_policies(ruleset, q=q, region=region, kind=kind)
    tables = ruleset.tables
    lang = request_lang(request)
    kinds = sorted({rule.definition.benefit.kind for rule in ruleset.rules.values()})
    return page(request, "console/policies.html", {
        "nav": "policies", "rules": found, "total": len(ruleset.rules), "tables": tables,
        "q": q, "region": region, "kind": kind, "kinds": kinds,
        "regions": {rule.id: format_regions(rule.definition.region, lang, tables) for rule in found},
    }, signed_in=signed_in)


@router.get("/policies/{policy_id}")
def policy(request: Request, policy_id: str, signed_in: CurrentOfficial, session: SessionDep,
           ruleset: RuleSetDep, from_: Annotated[str, Query(alias="from")] = "", to: str = "") -> Response:
    try:
        rule = policies_service.get_policy(ruleset, policy_id)
    except PolicyNotFoundError:
        return _not_found(request, signed_in, ("没有这项政策", "No such policy"),
                          (f"规则集中没有编号为 {policy_id} 的政策。", f"The rule set has no policy {policy_id}."))
    lang = request_lang(request)
    tables = ruleset.tables
    versions = policies_service.list_versions(session, policy_id)
    by_version = {row.version: row for row in versions}
    diff = None
    chosen = (from_, to)
    if from_ or to:
        old, new = by_version.get(from_), by_version.get(to)
        if old is not None and new is not None:
            diff = diffs.diff_lines(old.content, new.content)
    elif len(versions) >= 2:
        chosen = (versions[1].version, versions[0].version)
    parameters = [
        {"name": name, "label": getattr(p.label, lang), "value": format_parameter(p.value, p.unit, lang, tables),
         "unit": p.unit, "basis": p.basis, "citation": getattr(p.citation, lang)}
        for name, p in rule.definition.parameters.items()
    ]
    return page(request, "console/policy.html", {
        "nav": "policies", "rule": rule, "d": rule.definition, "tables": tables,
        "region_names": format_regions(rule.definition.region, lang, tables),
        "parameters": parameters, "examples": _examples(ruleset, policy_id),
        "versions": versions, "chosen": chosen, "diff": diff, "diff_asked": bool(from_ or to),
    }, signed_in=signed_in)


def _examples(ruleset: RuleSet, policy_id: str) -> list[Any]:
    """A rule's worked examples, run once per rule set (they never change within one)."""
    kept = ruleset.example_outcomes
    if policy_id not in kept:
        kept[policy_id] = run_examples(ruleset, ruleset.rules[policy_id])
    return kept[policy_id]


# ---------------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------------


# Searched dates become instants in China's time zone and a day past the end: the calendar's first
# and last days would overflow (a 500), and no decision was made outside these years.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def _parse_date(value: str) -> date | None:
    try:
        parsed = date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None
    return parsed if parsed is None or FIRST_DAY <= parsed <= LAST_DAY else None


@router.get("/decisions")
def decisions(request: Request, signed_in: CurrentOfficial, session: SessionDep, ruleset: RuleSetDep,
              company: str = "", credit_code: str = "", policy: str = "", outcome: str = "",
              date_from: str = "", date_to: str = "", page_number: Annotated[int, Query(alias="page", le=MAX_PAGE)] = 1) -> Response:
    errors = []
    start, end = _parse_date(date_from), _parse_date(date_to)
    if date_from.strip() and start is None:
        errors.append(("起始日期应为 年-月-日，例如 2025-01-31。", "The start date should be YYYY-MM-DD, e.g. 2025-01-31."))
    if date_to.strip() and end is None:
        errors.append(("截止日期应为 年-月-日，例如 2025-01-31。", "The end date should be YYYY-MM-DD, e.g. 2025-01-31."))
    query = search.DecisionQuery(company=company, credit_code=credit_code,
                                  policy=policy,
                                  outcome=outcome if outcome in STATUSES else "", date_from=start, date_to=end)
    found = search.search_decisions(session, query, page=page_number)
    lang = request_lang(request)
    rows = []
    for row in found.items:
        statuses = list(row.outcomes.values())
        counts = {s: statuses.count(s) for s in STATUSES}
        chosen = row.outcomes.get(policy) if policy else None
        rows.append({"row": row, "counts": counts, "chosen": chosen,
                     "name": row.profile.get("name") or "", "credit_code": row.profile.get("credit_code") or "",
                     "region": ruleset.tables.region_name(row.profile.get("region_code", ""), lang)})
    filters = [(k, v) for k, v in (("company", company), ("credit_code", credit_code), ("policy", policy),
                                   ("outcome", outcome), ("date_from", date_from), ("date_to", date_to)) if v]
    return page(request, "console/decisions.html", {
        "nav": "decisions", "found": found, "rows": rows, "errors": errors, "tables": ruleset.tables,
        "rules": list(ruleset.rules.values()),
        "form": {"company": company, "credit_code": credit_code, "policy": policy, "outcome": outcome,
                 "date_from": date_from, "date_to": date_to},
        "page_url": lambda n: f"{COOKIE_PATH}/decisions?{urlencode([*filters, ('page', n)])}",
    }, signed_in=signed_in)


def _decision_page(request: Request, signed_in: SignedIn, session: Any, ruleset: RuleSet, decision_id: str,
                   replay: dict[str, Any] | None = None, replay_error: str | None = None) -> Response:
    row = search.find_decision(session, decision_id)
    if row is None:
        return _not_found(request, signed_in, ("没有这条决策记录", "No such decision"),
                          (f"没有编号为 {decision_id} 的决策。", f"There is no decision {decision_id}."))
    lang = request_lang(request)
    tables = ruleset.tables
    profile = []
    for name, value in row.profile.items():
        spec = ruleset.facts.get(name.removesuffix("_code"))
        try:
            shown = format_fact(spec, value, lang, tables) if spec else str(value)
        except Exception:  # noqa: BLE001  (an old profile's value the current tables cannot name)
            shown = str(value)
        profile.append((tables.label("fields", name, lang), shown))
    versions = [(pid, version, ruleset.rules[pid].version if pid in ruleset.rules else None)
                for pid, version in sorted(row.rule_versions.items())]
    return page(request, "console/decision.html", {
        "nav": "decisions", "row": row, "profile": profile, "versions": versions, "tables": tables,
        "results": matching_service.logged_answer(session, row, current=ruleset)["results"],
        "replay": replay, "replay_error": replay_error,
        "derived": row.results.get("derived", {}),
    }, signed_in=signed_in)


@router.get("/decisions/{decision_id}")
def decision(request: Request, decision_id: str, signed_in: CurrentOfficial, session: SessionDep,
             ruleset: RuleSetDep) -> Response:
    return _decision_page(request, signed_in, session, ruleset, decision_id)


@router.post("/decisions/{decision_id}/replay")
def replay(request: Request, decision_id: str, signed_in: CheckedOfficial, session: SessionDep,
           ruleset: RuleSetDep) -> Response:
    """Re-evaluate a logged decision with its own rule texts and with today's rules; record that."""
    row = search.find_decision(session, decision_id)
    if row is None:
        return _decision_page(request, signed_in, session, ruleset, decision_id)
    result, error = None, None
    try:
        result = matching_service.replay(session, row, current=ruleset)
    except ReplayUnavailableError as exc:
        error = exc.detail
    audit.record_event(session, action=audit.REPLAY, username=signed_in.official.username,
                       official_id=signed_in.official.id, ip=client_ip(request), details={
                           "decision_id": str(row.id),
                           "reproduced": result["reproduced"] if result else None,
                           "decides_differently": result["current"]["decides_differently"] if result else None,
                           "error": error,
                       })
    return _decision_page(request, signed_in, session, ruleset, decision_id, replay=result, replay_error=error)


# ---------------------------------------------------------------------------------------------------
# Reach, and a draft rule's impact
# ---------------------------------------------------------------------------------------------------


@router.get("/assumptions")
def assumptions(request: Request, signed_in: CurrentOfficial, ruleset: RuleSetDep) -> Response:
    """Every threshold of the catalogue that is Huiqi's assumption rather than law, on one page, with
    why it was chosen and the criteria that rest on it: for officials to confirm or replace."""
    lang = request_lang(request)
    tables = ruleset.tables
    rows = [
        {"rule": rule, "name": name, "label": getattr(p.label, lang),
         "value": format_parameter(p.value, p.unit, lang, tables), "citation": getattr(p.citation, lang),
         "criteria": [c.id for c in rule.criteria
                      if any(isinstance(operand, Param) and operand.name == name for operand in names_in(c.node))]}
        for rule in ruleset.rules.values()
        for name, p in rule.definition.parameters.items() if p.basis == "assumption"
    ]
    return page(request, "console/assumptions.html", {"nav": "assumptions", "rows": rows, "tables": tables},
                signed_in=signed_in)


@router.get("/reach")
def reach(request: Request, signed_in: CurrentOfficial, session: SessionDep, ruleset: RuleSetDep,
          today: TodayDep) -> Response:
    rows = registry_service.reach(session, ruleset, as_of=today)
    companies = max((r.total for r in rows), default=0)
    return page(request, "console/reach.html", {
        "nav": "reach", "rows": rows, "rules": ruleset.rules, "companies": companies, "as_of": today,
        "tables": ruleset.tables,
    }, signed_in=signed_in)


@router.get("/drafts")
def draft_form(request: Request, signed_in: CurrentOfficial, ruleset: RuleSetDep, policy: str = "") -> Response:
    start = ruleset.rules[policy].source_text if policy in ruleset.rules else ""
    return page(request, "console/draft.html", {
        "nav": "drafts", "text": start, "report": None, "rules": list(ruleset.rules.values()), "policy": policy,
        "csrf_token": signed_in.csrf_token,
    }, signed_in=signed_in)


@router.post("/drafts")
def draft_evaluate(
    request: Request, signed_in: CheckedOfficial, session: SessionDep, ruleset: RuleSetDep, settings: SettingsDep,
    today: TodayDep, text: Annotated[str, Form()] = "", file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Validate a draft, run its examples and measure its impact on the registry; publish nothing."""
    uploaded_name = None
    error = None
    if file is not None and file.filename:
        data = file.file.read(MAX_DRAFT_BYTES + 1)
        if len(data) > MAX_DRAFT_BYTES:
            error = ("文件过大（上限 256 KB）。", "The file is too large (256 KB at most).")
        else:
            try:
                text, uploaded_name = data.decode("utf-8-sig"), file.filename
            except UnicodeDecodeError:
                error = ("文件不是 UTF-8 编码的文本。", "The file is not UTF-8 text.")
    if error is None and not text.strip():
        error = ("请粘贴规则文本或选择一个 .yaml 文件。", "Paste a rule or choose a .yaml file.")
    report = None
    if error is None:
        file_name = drafts.draft_file_name(text, uploaded_name)
        report = drafts.evaluate_draft(session, ruleset, text=text, file_name=file_name,
                                        sources=drafts.sources_of(settings.rules_dir), as_of=today)
        impact = report.impact
        audit.record_event(session, action=audit.DRAFT_EVALUATED, username=signed_in.official.username,
                           official_id=signed_in.official.id, ip=client_ip(request), details={
                               "file_name": file_name, "policy_id": report.rule.id if report.rule else None,
                               "version": report.rule.version if report.rule else None,
                               "errors": len(report.errors),
                               "examples_passed": report.examples_passed, "examples": len(report.examples),
                               "gained": len(impact.gained) if impact else None,
                               "lost": len(impact.lost) if impact else None, "as_of": today.isoformat(),
                           })
    return page(request, "console/draft.html", {
        "nav": "drafts", "text": text, "report": report, "error": error, "rules": list(ruleset.rules.values()),
        "policy": "", "csrf_token": signed_in.csrf_token, "tables": ruleset.tables, "as_of": today,
    }, signed_in=signed_in, status_code=422 if error or (report and report.errors) else 200)


# ---------------------------------------------------------------------------------------------------
# The audit log
# ---------------------------------------------------------------------------------------------------


@router.get("/audit")
def audit_log(request: Request, signed_in: CurrentOfficial, session: SessionDep,
              page_number: Annotated[int, Query(alias="page", le=MAX_PAGE)] = 1) -> Response:
    found = audit.list_events(session, page=page_number)
    return page(request, "console/audit.html", {
        "nav": "audit", "found": found, "page_url": lambda n: f"{COOKIE_PATH}/audit?page={n}",
    }, signed_in=signed_in)


def _not_found(request: Request, signed_in: SignedIn, title: tuple[str, str], detail: tuple[str, str]) -> Response:
    return page(request, "console/error.html", {"title": title, "detail": detail}, signed_in=signed_in,
                status_code=404)


__all__ = ["install", "router"]
