"""Per-request context: request id, rule-set version header, one JSON log line, and the last-resort 500."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PROBLEM_JSON, internal_error_body

request_log = logging.getLogger("huiqi.request")
error_log = logging.getLogger("huiqi.error")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: the message's `fields`, plus time, level and logger."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        line.update(getattr(record, "fields", None) or {"message": record.getMessage()})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def configure_logging(level: str) -> None:
    """Send huiqi.* logs to stderr as JSON lines (idempotent)."""
    root = logging.getLogger("huiqi")
    root.setLevel(level.upper())
    if not any(getattr(h, "_huiqi", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        handler._huiqi = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.propagate = False


class RequestContextMiddleware:
    """Pure ASGI (BaseHTTPMiddleware would cost a task and a stream copy per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state["request_id"] = request_id
        ruleset = getattr(scope["app"].state, "ruleset", None) if "app" in scope else None
        extra = [(b"x-request-id", request_id.encode())]
        if ruleset is not None:
            extra.append((b"huiqi-ruleset-version", ruleset.version.encode()))
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            error_log.exception("unhandled error", extra={"fields": {
                "message": "unhandled error", "request_id": request_id,
                "method": scope["method"], "path": scope["path"],
            }})
            if response_started:
                raise
            status = 500
            body = internal_error_body(scope["path"], request_id)
            await send({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()), *extra,
            ]})
            await send({"type": "http.response.body", "body": body})
        finally:
            # Never the query string or the body: they may carry credit codes; never headers: API keys.
            request_log.info("request", extra={"fields": {
                "message": "request", "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2), "request_id": request_id,
                "decision_id": state.get("decision_id"), "client_id": state.get("client_id"),
            }})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None
