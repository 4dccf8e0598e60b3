"""POST /v1/match, and the decision log: GET /v1/decisions/{id}, POST /v1/decisions/{id}/replay."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import Response

from app import jsonbody
from app.deps import (
    OptionalCaller,
    RuleSetDep,
    SessionDep,
    get_caller,
    get_decision_log,
    get_ruleset,
    get_today,
    rate_limit,
)
from app.matching import service
from app.matching.schemas import DecisionRead, MatchAnswer, MatchRequest, ReplayReport


class RequestRoute(APIRoute):
    """An operation whose endpoint takes the request and returns its response itself: documented like
    any other, called without FastAPI's parameter and dependency machinery (which it does not use,
    and which cost POST /v1/match a twentieth of its CPU)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return cast(Callable[[Request], Coroutine[Any, Any, Response]], self.endpoint)


router = APIRouter(tags=["matching"])
# POST /v1/match alone: it admits its caller itself (main.py mounts it without /v1's shared dependency).
match_router = APIRouter(tags=["matching"], route_class=RequestRoute)

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def json_body(model: type) -> dict[str, Any]:
    """openapi_extra declaring a request body the endpoint reads itself (main.py adds the schema)."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


def validate_body(model: type[MatchRequest], body: bytes) -> MatchRequest:
    """Validate JSON bytes; errors are reported as FastAPI's would be, under `body`. JSON that pydantic's
    parser refuses (say, an integer of thousands of digits) is read again by `jsonbody.loads`, so that
    the error names the field when there is one."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        try:
            return model.model_validate(jsonbody.loads(body))
        except ValidationError as exc:
            errors = exc.errors()
        except ValueError:
            pass  # not JSON at all: pydantic's json_invalid says where
    raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])


@match_router.post(
    "/match", summary="Match a profile against every policy in force",
    response_model=None, openapi_extra=json_body(MatchRequest),
    responses={200: {"model": MatchAnswer, "description": "The answer, logged as a decision"},
               422: {"description": "The profile is not valid; `errors` names each field", **PROBLEM},
               503: {"description": "The decision log's database is not reachable; retry after `Retry-After`",
                     **PROBLEM}},
)
async def match(request: Request) -> Response:
    # Hot path. No FastAPI dependencies: resolving them cost more than the evaluation (bench/http.py),
    # so the caller is admitted here with the same functions the other /v1 operations depend on.
    # The body is validated from bytes and the answer serialised once. Evaluation is pure CPU in
    # tenths of a millisecond, so it runs on the event loop; the commit is awaited off it.
    caller = await get_caller(request)
    await rate_limit(request, caller)
    ruleset = await get_ruleset(request)
    data = validate_body(MatchRequest, await request.body())
    as_of: date = data.as_of or await get_today()
    matched = service.match(ruleset, data.profile, as_of=as_of, scope=data.scope, lang=data.lang,
                            client_id=caller.id if caller else None)
    await (await get_decision_log(request)).store(matched.row)
    request.state.decision_id = str(matched.decision_id)
    return Response(matched.body(), media_type="application/json")


@router.get("/decisions/{decision_id}", response_model=DecisionRead, summary="Read a logged decision",
            responses={404: {"description": "No such decision (or not yours)", **PROBLEM}})
def read_decision(decision_id: str, session: SessionDep, caller: OptionalCaller, ruleset: RuleSetDep,
                  ) -> dict[str, Any]:
    row = service.get_decision(session, decision_id, caller=caller)
    return {"id": row.id, "created_at": row.created_at, "as_of": row.as_of, "ruleset_version": row.ruleset_version,
            "company_id": row.company_id, "profile": row.profile,
            "answer": service.logged_answer(session, row, current=ruleset),
            "rule_versions": row.rule_versions}


@router.post(
    "/decisions/{decision_id}/replay", response_model=ReplayReport,
    summary="Replay a decision with the rule versions it used, and compare with today's rules",
    responses={404: {"description": "No such decision (or not yours)", **PROBLEM},
               409: {"description": "The rule texts it used are not available", **PROBLEM}},
)
def replay_decision(decision_id: str, session: SessionDep, caller: OptionalCaller, ruleset: RuleSetDep) -> Any:
    row = service.get_decision(session, decision_id, caller=caller)
    return service.replay(session, row, current=ruleset)

