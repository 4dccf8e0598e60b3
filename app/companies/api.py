"""/v1/companies: stored profiles (API key with companies:read / companies:write), and their matches."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from app.companies import service
from app.companies.schemas import CompanyCreate, CompanyPage, CompanyRead, CompanyUpdate
from app.db.models import Company
from app.deps import CompaniesReader, CompaniesWriter, DecisionLogDep, RuleSetDep, SessionDep, TodayDep
from app.engine import Profile, ProfileDateError
from app.engine.evaluate import check_founding
from app.errors import PreconditionFailedError, PreconditionRequiredError
from app.events import service as events_service
from app.jsonbody import BoundedJSONRoute
from app.matching import service as matching_service
from app.matching.schemas import MatchAnswer

router = APIRouter(prefix="/companies", tags=["companies"], route_class=BoundedJSONRoute)

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an unknown or revoked one", **PROBLEM},
    403: {"description": "The API key lacks the scope", **PROBLEM},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such company", **PROBLEM}}


def founded_by(profile: Profile, today: date) -> Profile:
    """A stored profile cannot be founded in the future: 422 naming the field."""
    try:
        check_founding(profile, today)
    except ProfileDateError as exc:
        raise RequestValidationError([{"loc": ("body", "profile", exc.field), "msg": exc.reason.replace(
            "the evaluation date", "today"), "type": "date_order"}]) from None
    return profile


def etag(company: Company) -> str:
    return f'"{company.version}"'


# An ETag is a version: an `integer` column. A tag past it (or not ASCII digits: "²".isdigit() is true)
# names no version, and is never handed to the database, which would refuse it with a 500.
_ETAG = re.compile(r'^"([0-9]{1,10})"$')
MAX_VERSION = 2**31 - 1


def _versions(header: str) -> set[int] | None:
    """The versions named by an If-Match / If-None-Match value; None for `*` (any)."""
    versions = set()
    for tag in (t.strip() for t in header.split(",")):
        if tag == "*":
            return None
        match = _ETAG.match(tag.removeprefix("W/"))
        if match and int(match[1]) <= MAX_VERSION:
            versions.add(int(match[1]))
    return versions


def _if_match(header: str | None, *, required: bool) -> set[int] | None:
    if header is None:
        if required:
            raise PreconditionRequiredError(
                "Send If-Match with the ETag you read, so a concurrent change is not overwritten.")
        return None
    if header.strip().startswith("W/"):
        raise PreconditionFailedError("If-Match needs a strong ETag (no W/ prefix).")
    return _versions(header)


def _read(company: Company) -> dict[str, Any]:
    return CompanyRead.model_validate(company).model_dump()


@router.post("", status_code=201, response_model=CompanyRead, summary="Store a company",
             responses={**AUTH_ERRORS, 409: {"description": "The credit code is already stored", **PROBLEM}})
def create_company(data: CompanyCreate, session: SessionDep, caller: CompaniesWriter, response: Response,
                   today: TodayDep, ruleset: RuleSetDep) -> Any:
    company = service.create_company(session, founded_by(data.profile, today), client_id=caller.id)
    events_service.record_profile_change(session, company, ruleset, as_of=today)
    response.headers["Location"] = f"/v1/companies/{company.id}"
    response.headers["ETag"] = etag(company)
    return _read(company)


@router.get("", response_model=CompanyPage, summary="List companies", responses=AUTH_ERRORS)
def list_companies(
    session: SessionDep, caller: CompaniesReader,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$", description="companies at or below this code")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    # Bounded: the database's OFFSET is a 64-bit integer (schemathesis found the 500 past it).
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Any:
    rows, total = service.list_companies(session, region=region, limit=limit, offset=offset)
    return {"items": [_read(c) for c in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/{company_id}", response_model=CompanyRead, summary="Read a company",
            responses={**AUTH_ERRORS, **NOT_FOUND, 304: {"description": "Not modified (If-None-Match)"}})
def read_company(
    company_id: str, session: SessionDep, caller: CompaniesReader, response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Any:
    company = service.get_company(session, company_id)
    if if_none_match is not None:
        versions = _versions(if_none_match)
        if versions is None or company.version in versions:
            return Response(status_code=304, headers={"ETag": etag(company)})
    response.headers["ETag"] = etag(company)
    return _read(company)


@router.put(
    "/{company_id}", response_model=CompanyRead, summary="Replace a company's profile (If-Match required)",
    responses={**AUTH_ERRORS, **NOT_FOUND, 409: {"description": "The credit code is already stored", **PROBLEM},
               412: {"description": "The ETag does not match: changed meanwhile", **PROBLEM},
               428: {"description": "If-Match is missing", **PROBLEM}},
)
def update_company(
    company_id: str, data: CompanyUpdate, session: SessionDep, caller: CompaniesWriter, response: Response,
    today: TodayDep, ruleset: RuleSetDep, if_match: Annotated[str | None, Header()] = None,
) -> Any:
    expected = _if_match(if_match, required=True)
    company = service.update_company(session, company_id, founded_by(data.profile, today), expected_versions=expected)
    events_service.record_profile_change(session, company, ruleset, as_of=today)
    response.headers["ETag"] = etag(company)
    return _read(company)


@router.delete(
    "/{company_id}", status_code=204, summary="Delete a company (If-Match honoured)",
    responses={**AUTH_ERRORS, **NOT_FOUND, 412: {"description": "The ETag does not match", **PROBLEM}},
)
def delete_company(
    company_id: str, session: SessionDep, caller: CompaniesWriter,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    service.delete_company(session, company_id, expected_versions=_if_match(if_match, required=False))
    return Response(status_code=204)


@router.get(
    "/{company_id}/matches", response_model=None, summary="Match a stored company (logged as a decision)",
    responses={200: {"model": MatchAnswer, "description": "The answer, logged with the company's id"},
               **AUTH_ERRORS, **NOT_FOUND},
)
def match_company(
    company_id: str, request: Request, session: SessionDep, caller: CompaniesReader, ruleset: RuleSetDep,
    decisions: DecisionLogDep, today: TodayDep,
    as_of: Annotated[date | None, Query(description="evaluation date; today by default")] = None,
) -> Response:
    company = service.get_company(session, company_id)
    profile = service.profile_of(company)
    # End the read before waiting for the decision log: on SQLite an open transaction holds the write
    # lock (BEGIN IMMEDIATE), which the log's commit needs.
    session.commit()
    as_of = as_of or today
    try:
        matched = matching_service.match(ruleset, profile, as_of=as_of, company_id=company.id, client_id=caller.id)
    except ProfileDateError as exc:  # the stored company did not exist yet on that date
        raise RequestValidationError([{"loc": ("query", "as_of"), "msg": exc.reason, "type": "date_order"}]) from None
    decisions.store_blocking(matched.row)
    request.state.decision_id = str(matched.decision_id)
    return Response(matched.body(company_id=str(company.id)), media_type="application/json")
