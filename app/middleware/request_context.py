"""The request's context: its id (X-Request-ID, taken from the client when well-formed), the rule set
that answers it (Huiqi-Ruleset-Version on every answer, and the version a /v1 client may require), its
one log line, and the 500 of the last resort."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.middleware.asgi import header, send_problem
from app.problems import PROBLEM_JSON, internal_error_body, problem_body

request_log = logging.getLogger("huiqi.request")
error_log = logging.getLogger("huiqi.error")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RULESET_VERSION_HEADER = b"huiqi-ruleset-version"


class RequestContextMiddleware:
    """Request id, rule-set version header, the request's log line, and the 500 of the last resort.

    A /v1 request that sends `Huiqi-Ruleset-Version` is answered only by an instance serving that
    version: any other answers 412, so a client combining answers (or a load balancer during a rolling
    deploy or a partial reload) never mixes two rule sets without knowing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        incoming = header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state["request_id"] = request_id
        # One rule set per request: the one named in the header answers it, even if a reload swaps the
        # served one meanwhile (app/serving.py; deps.get_ruleset reads it from here).
        served = getattr(scope["app"].state, "rules", None) if "app" in scope else None
        ruleset = served.current if served is not None else None
        state["ruleset"] = ruleset
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
            required = header(scope, RULESET_VERSION_HEADER) if scope["path"].startswith("/v1/") else None
            if required is not None and ruleset is not None and required != ruleset.version:
                await send_problem(scope, send_with_headers, problem_body(
                    status=412, type_="/problems/ruleset-version-mismatch", title="Rule set version differs",
                    detail=f"This instance answers with rule set {ruleset.version}, not {required}: ask again "
                           "(another instance may serve it), or without Huiqi-Ruleset-Version to accept this one.",
                    instance=scope["path"], required_version=required, serving_version=ruleset.version,
                ))
                return
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
