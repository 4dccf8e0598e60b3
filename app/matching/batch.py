"""POST /v1/match/batch: up to 1,000 match requests in one call (a bank screening its portfolio, a park
its tenants), answered as NDJSON, streamed, one line per request in order.

Each line is decided like POST /v1/match (`service.match`) and stored through the same decision log,
and is sent only once its decision is committed: the answer with `index` and `decision_id`, or a
problem (RFC 9457 members, with `index`) for that line alone: a line that is not a valid match request
(422), a profile founded after its evaluation date (422), a decision the log could not store (503).
The whole call is refused (422 problem+json, before any line) only when the body is not a JSON array
of 1 to 1,000 items.

Lines are decided in chunks on a worker thread, so a batch shares the event loop with other requests
instead of holding it for a second; a chunk's commits are awaited together (one group commit) while
the next chunk is decided.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from datetime import date
from typing import Any

import orjson
from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import StreamingResponse

from app import jsonbody
from app.deps import get_caller, get_decision_log, get_ruleset, get_today, rate_limit
from app.engine import ProfileDateError, RuleSet
from app.errors import AppError
from app.matching import service
from app.matching.api import PROBLEM
from app.matching.schemas import MatchRequest
from app.problems import problem_body, validation_errors

router = APIRouter(tags=["matching"])
log = logging.getLogger("huiqi.error")

MAX_LINES = 1_000
CHUNK = 50  # lines decided per trip to the worker thread, and committed together
NDJSON = "application/x-ndjson"


def read_lines(body: bytes) -> list[Any]:
    """The body's items, or RequestValidationError naming what is wrong with the body as a whole."""
    try:
        items = jsonbody.loads(body)
    except ValueError as exc:
        raise RequestValidationError([{"loc": ("body",), "msg": f"not JSON: {exc}", "type": "json_invalid"}]) from None
    if not isinstance(items, list):
        raise RequestValidationError([{"loc": ("body",), "msg": "must be a JSON array of match requests",
                                       "type": "list_type"}])
    if not 1 <= len(items) <= MAX_LINES:
        raise RequestValidationError([{"loc": ("body",), "msg": f"must hold 1 to {MAX_LINES} match requests, "
                                       f"not {len(items)}", "type": "too_long" if items else "too_short"}])
    return items


def _line_problem(index: int, path: str, *, status: int, type_: str, title: str, detail: str,
                  **extensions: Any) -> bytes:
    body = problem_body(status=status, type_=type_, title=title, detail=detail, instance=f"{path}#{index}",
                        **extensions)
    return orjson.dumps({"index": index, **body}) + b"\n"


def _invalid(index: int, path: str, errors: list[dict[str, Any]]) -> bytes:
    errors = validation_errors([{**e, "loc": (index, *e["loc"])} for e in errors])
    fields = ", ".join(".".join(str(part) for part in e["loc"]) for e in errors)
    return _line_problem(index, path, status=422, type_="/problems/validation", title="Invalid request",
                         detail=f"Line {index} is not a valid match request: {fields}.", errors=errors)


def _decide(items: list[tuple[int, Any]], ruleset: RuleSet, today: date, client_id: Any, path: str,
            ) -> list[tuple[int, service.Matched | bytes]]:
    """Decide a chunk: each line's match, or the problem line that replaces its answer."""
    decided: list[tuple[int, service.Matched | bytes]] = []
    for index, item in items:
        try:
            request = MatchRequest.model_validate(item)
        except ValidationError as exc:
            decided.append((index, _invalid(index, path, exc.errors())))  # type: ignore[arg-type]
            continue
        try:
            decided.append((index, service.match(
                ruleset, request.profile, as_of=request.as_of or today, scope=request.scope, lang=request.lang,
                client_id=client_id)))
        except ProfileDateError as exc:
            decided.append((index, _invalid(index, path, [
                {"loc": ("profile", exc.field), "msg": exc.reason, "type": "date_order"}])))
        except Exception:  # a defect of ours: this line fails alone, logged, and the stream goes on
            log.exception("batch line failed", extra={"fields": {"message": "batch line failed", "index": index}})
            decided.append((index, _line_problem(index, path, status=500, type_="about:blank",
                                                 title="Internal Server Error",
                                                 detail=f"Line {index} could not be decided; it is logged.")))
    return decided


@router.post(
    "/match/batch", summary="Match up to 1,000 profiles; NDJSON out, one line per request, in order",
    response_model=None,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "array", "minItems": 1, "maxItems": MAX_LINES,
        "items": {"$ref": "#/components/schemas/MatchRequest"}}}}}},
    responses={200: {"description": "One JSON object per line, in the order of the requests: the answer with "
                                    "`index` and `decision_id` (as POST /v1/match), or a problem with `index` for "
                                    "that line alone (422 invalid, 503 not stored)",
                     "content": {NDJSON: {}}},
               422: {"description": "The body is not a JSON array of 1 to 1,000 match requests", **PROBLEM}},
)
async def match_batch(request: Request) -> StreamingResponse:
    caller = await get_caller(request)
    await rate_limit(request, caller)  # a batch counts as one request
    ruleset = await get_ruleset(request)
    decisions = await get_decision_log(request)
    items = read_lines(await request.body())
    today = await get_today()
    client_id = caller.id if caller else None
    path = request.url.path

    def decide(start: int) -> Awaitable[list[tuple[int, service.Matched | bytes]]]:
        chunk = list(enumerate(items[start:start + CHUNK], start))
        return asyncio.ensure_future(to_thread.run_sync(_decide, chunk, ruleset, today, client_id, path))

    async def lines() -> AsyncIterator[bytes]:
        starts = range(0, len(items), CHUNK)
        upcoming = decide(starts[0])
        for start in starts:
            decided = await upcoming
            stored = [decisions.submit(d.row) if isinstance(d, service.Matched) else None for _, d in decided]
            if start + CHUNK < len(items):  # the next chunk is decided while this one commits and is sent
                upcoming = decide(start + CHUNK)
            for (index, line), commit in zip(decided, stored, strict=True):
                if commit is not None:
                    assert isinstance(line, service.Matched)
                    try:
                        await asyncio.wrap_future(commit)
                    except AppError as exc:  # not stored: this line is not answered
                        yield _line_problem(index, path, status=exc.status, type_=exc.type, title=exc.title,
                                            detail=exc.detail, **exc.extensions)
                        continue
                    yield b'{"index":' + str(index).encode() + b"," + line.body()[1:] + b"\n"
                else:
                    assert isinstance(line, bytes)
                    yield line

    return StreamingResponse(lines(), media_type=NDJSON)

