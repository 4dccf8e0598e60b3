"""What the middleware share at the ASGI level: a request header, and a problem answered before the
app is reached (rendered like every other problem, by app/problems.py)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Scope, Send

from app.problems import PROBLEM_JSON


def header(scope: Scope, name: bytes) -> str | None:
    """The request's header `name` (lower-case bytes), or None."""
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


async def send_problem(scope: Scope, send: Send, body: dict[str, Any]) -> None:
    """Answer with the problem `body`, carrying the request id when the request context has set one."""
    request_id = scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    payload = orjson.dumps(body)
    await send({"type": "http.response.start", "status": body["status"], "headers": [
        (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(payload)).encode()),
        # The rest of an oversized (or refused) body is not read: the connection cannot be reused.
        *([(b"connection", b"close")] if body["status"] in (413, 415) else []),
    ]})
    await send({"type": "http.response.body", "body": payload})
