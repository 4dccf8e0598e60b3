"""Limits on request bodies, checked before the app (and pydantic) reads them: size (413, from
Content-Length or while a chunked body streams in), JSON nesting depth (422, before any parser), and a
/v1 body declared as anything but JSON (415)."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.middleware.asgi import header, send_problem
from app.problems import problem_body

BATCH_PATHS = frozenset({"/v1/match/batch"})  # a thousand profiles in one body
_JSON_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')  # a whole string, or a bracket


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether the JSON in `body` nests arrays and objects deeper than `limit` (brackets in strings
    do not count). Cheap: bodies with fewer opening brackets than the limit are not scanned at all,
    and the scan visits only strings and brackets, each matched in C."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKENS.finditer(body):
        char = body[match.start()]
        if char == 0x22:  # "
            continue
        if char in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class RequestLimitsMiddleware:
    """Refuse a body over the size limit with 413 (from Content-Length before reading anything, else
    while it streams in), and JSON nested deeper than the limit with 422, naming the problem. Under
    /v1 every body is JSON; elsewhere only a body declared as JSON is scanned. The body is read here
    (it is small, by the limit) and handed on to the app unchanged."""

    def __init__(self, app: ASGIApp, *, api_max_body_bytes: int, page_max_body_bytes: int,
                 batch_max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.api_max = api_max_body_bytes
        self.batch_max = batch_max_body_bytes
        self.page_max = page_max_body_bytes
        self.max_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        chunked = header(scope, b"transfer-encoding")
        if length in (None, "0") and chunked is None:
            await self.app(scope, receive, send)  # no body: nothing to check
            return
        api = scope["path"] == "/v1" or scope["path"].startswith("/v1/")
        content_type = header(scope, b"content-type")
        if api and content_type is not None and not _is_json(content_type):
            await send_problem(scope, send, problem_body(
                status=415, type_="/problems/unsupported-media-type", title="Unsupported media type",
                detail="Send the body as JSON (Content-Type: application/json).", instance=scope["path"],
            ))
            return
        limit = (self.batch_max if scope["path"] in BATCH_PATHS else self.api_max) if api else self.page_max
        if length is not None and length.isdigit() and int(length) > limit:
            await _refuse_too_large(scope, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse_too_large(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if (api or _is_json(content_type)) and json_too_deep(body, self.max_depth):
            await send_problem(scope, send, problem_body(
                status=422, type_="/problems/json-too-deep", title="JSON nested too deeply",
                detail=f"The JSON body nests arrays and objects deeper than {self.max_depth} levels.",
                instance=scope["path"], max_depth=self.max_depth,
            ))
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would

        await self.app(scope, replay, send)


def _is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def _refuse_too_large(scope: Scope, send: Send, limit: int) -> None:
    await send_problem(scope, send, problem_body(
        status=413, type_="/problems/body-too-large", title="Request body too large",
        detail=f"The request body is larger than {limit} bytes.", instance=scope["path"], max_bytes=limit,
    ))
