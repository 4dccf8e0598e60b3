"""POST /v1/match, and the decision log: GET /v1/decisions/{id}, POST /v1/decisions/{id}/replay."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.deps import OptionalCaller, RuleSetDep, SessionDep, TodayDep
from app.matching import service
from app.matching.schemas import DecisionRead, MatchAnswer, MatchRequest, ReplayReport

router = APIRouter(tags=["matching"])

PROBLEM = {"content": {"application/problem+json": {}}}


def json_body(model: type) -> dict[str, Any]:
    """openapi_extra declaring a request body the endpoint reads itself (main.py adds the schema)."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


def validate_body(model: type[MatchRequest], body: bytes) -> MatchRequest:
    """Validate JSON bytes; errors are reported as FastAPI's would be, under `body`."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def save_decision(factory: sessionmaker[Session], **fields: Any) -> uuid.UUID:
    with factory() as session:
        row = service.record_decision(session, **fields)
        session.commit()
        return row.id


@router.post(
    "/match", summary="Match a profile against every policy in force",
    response_model=None, openapi_extra=json_body(MatchRequest),
    responses={200: {"model": MatchAnswer, "description": "The answer, logged as a decision"},
               422: {"description": "The profile is not valid; `errors` names each field", **PROBLEM}},
)
async def match(request: Request, ruleset: RuleSetDep, caller: OptionalCaller, today: TodayDep) -> Response:
    # Hot path: validate from bytes and serialise once (docs/performance: the default path costs more
    # than the evaluation). Evaluation is pure CPU in microseconds, so it runs on the event loop.
    data = validate_body(MatchRequest, await request.body())
    as_of: date = data.as_of or today
    answer, rule_versions = service.decide(ruleset, data.profile, as_of=as_of)
    decision_id = await run_in_threadpool(
        save_decision, request.app.state.session_factory, answer=answer, profile=data.profile, as_of=as_of,
        rule_versions=rule_versions, client_id=caller.id if caller else None,
    )
    request.state.decision_id = str(decision_id)
    return Response(orjson.dumps({"decision_id": str(decision_id), **answer}), media_type="application/json")


@router.get("/decisions/{decision_id}", response_model=DecisionRead, summary="Read a logged decision",
            responses={404: {"description": "No such decision (or not yours)", **PROBLEM}})
def read_decision(decision_id: str, session: SessionDep, caller: OptionalCaller) -> dict[str, Any]:
    row = service.get_decision(session, decision_id, caller=caller)
    return {"id": row.id, "created_at": row.created_at, "as_of": row.as_of, "ruleset_version": row.ruleset_version,
            "company_id": row.company_id, "profile": row.profile, "answer": row.results,
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

