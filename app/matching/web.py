"""The business owner's pages: the profile form (/), the answer (/answer), its CSV, and the two lists
the form's widgets read (regions by parent, industries). Thin: the form is read and checked in
form.py, decided and recorded through the matching service exactly as the JSON API does, and laid out
in answer_page.py (csv_export.py for the CSV).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import MultiDict
from starlette.responses import JSONResponse, Response

from app.deps import DecisionLogDep, FormDataDep, RuleSetDep, SessionDep, TodayDep, rate_limit
from app.engine import Profile, RuleSet
from app.errors import DecisionNotFoundError
from app.matching import service
from app.matching.answer_page import answer_context
from app.matching.csv_export import answer_csv_text
from app.matching.decision_log import DecisionLog
from app.matching.form import (
    Entered,
    canonical_query,
    form_context,
    parse_entered,
    profile_form_values,
    read_entered,
)
from app.templating import lang_links, render, request_lang

router = APIRouter(include_in_schema=False)


@router.get("/")
def form_page(request: Request, ruleset: RuleSetDep) -> Response:
    """The empty form, or the form again with what the query carries (after a region or industry refresh)."""
    lang = request_lang(request)
    entered = read_entered(request.query_params)
    if entered.get("industry_code"):
        _, entered.industry_candidates = ruleset.tables.resolve_industry(entered.get("industry_code"))
    context = {**form_context(entered, ruleset, lang), "lang_links": lang_links("/", entered.query())}
    return render(request, "form/index.html", context, lang=lang)


def _answer(request: Request, data: Mapping[str, Any], decisions: DecisionLog, ruleset: RuleSet,
            today: date) -> Response:
    lang = request_lang(request)
    entered = read_entered(data)
    profile = parse_entered(entered, ruleset.tables, today=today)
    if profile is None:
        context = {**form_context(entered, ruleset, lang), "lang_links": lang_links("/", entered.query())}
        return render(request, "form/index.html", context, status_code=422, lang=lang)
    matched = service.match(ruleset, profile, as_of=today)
    decisions.store_blocking(matched.row)
    request.state.decision_id = str(matched.decision_id)
    return _show_answer(request, ruleset, lang, entered=entered, profile=profile, answer=matched.answer(),
                        decision_id=matched.decision_id, query=canonical_query(entered, profile), stored=False)


def _show_answer(request: Request, ruleset: RuleSet, lang: str, *, entered: Entered, profile: Profile,
                 answer: dict[str, Any], decision_id: Any, query: list[tuple[str, str]], stored: bool) -> Response:
    """The answer page: what the firm can act on now, what one more answer would unlock, the rest."""
    context = answer_context(ruleset, lang, entered=entered, profile=profile, answer=answer,
                             decision_id=decision_id, query=query, stored=stored)
    return render(request, "form/answer.html", context, lang=lang)


def _answer_not_found(request: Request, lang: str) -> Response:
    return render(request, "errors/problem.html", {
        "status": 404, "title": {"zh": "没有找到这份结果", "en": "Answer not found"},
        "detail": {"zh": "链接可能有误。", "en": "The link may be wrong."},
    }, status_code=404, lang=lang)


@router.post("/answer", dependencies=[Depends(rate_limit)])
def answer_post(request: Request, form: FormDataDep, decisions: DecisionLogDep, ruleset: RuleSetDep,
                today: TodayDep) -> Response:
    """Decide the submitted profile and show the answer (or the form with its errors)."""
    return _answer(request, form, decisions, ruleset, today)


@router.get("/answer", dependencies=[Depends(rate_limit)])
def answer_get(request: Request, decisions: DecisionLogDep, ruleset: RuleSetDep, today: TodayDep) -> Response:
    """The same answer from a bookmarked or shared query string."""
    return _answer(request, request.query_params, decisions, ruleset, today)


@router.get("/answer/{decision_id}.csv")
def answer_csv(request: Request, decision_id: str, session: SessionDep, ruleset: RuleSetDep) -> Response:
    """A recorded answer as CSV, one row per measure (UTF-8 with BOM, so Excel reads the Chinese)."""
    lang = request_lang(request)
    try:
        row = service.get_decision(session, decision_id, caller=None)
    except DecisionNotFoundError:
        return _answer_not_found(request, lang)
    answer = service.logged_answer(session, row, current=ruleset)
    text = answer_csv_text(answer, decision_id=row.id, tables=ruleset.tables, lang=lang)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="huiqi-{row.id}.csv"'})


@router.get("/answer/{decision_id}")
def answer_stored(request: Request, decision_id: str, session: SessionDep, ruleset: RuleSetDep) -> Response:
    """A recorded answer as it was decided: the shareable link. It does not decide again (checking with
    today's rules is the page's explicit button)."""
    lang = request_lang(request)
    try:
        row = service.get_decision(session, decision_id, caller=None)
        profile = Profile.model_validate(row.profile)
    except (DecisionNotFoundError, ValidationError):
        return _answer_not_found(request, lang)
    query = profile_form_values(profile)
    entered = read_entered(MultiDict(query))
    answer = service.logged_answer(session, row, current=ruleset)
    return _show_answer(request, ruleset, lang, entered=entered, profile=profile, answer=answer,
                        decision_id=row.id, query=query, stored=True)


@router.get("/form/regions")
def regions_json(request: Request, ruleset: RuleSetDep, parent: str = "") -> Response:
    """The regions directly under `parent` (provinces when empty), for the cascading selects."""
    lang = request_lang(request)
    tables = ruleset.tables
    if parent and parent not in tables.regions:
        return JSONResponse([], status_code=404)
    children = tables.region_children.get(parent or None, ())
    return JSONResponse([[code, tables.region_label(code, lang)] for code in children],
                        headers={"Cache-Control": "public, max-age=86400", "Vary": "Cookie"})


@router.get("/form/industries")
def industries_json(request: Request, ruleset: RuleSetDep) -> Response:
    """Every industry as "code name", for the industry field's datalist."""
    lang = request_lang(request)
    tables = ruleset.tables
    return JSONResponse([tables.industry_label(code, lang) for code in sorted(tables.industries)],
                        headers={"Cache-Control": "public, max-age=86400", "Vary": "Cookie"})


__all__ = ["router"]
