"""RFC 9457 problem details (application/problem+json) for every error the service answers."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app.engine import ProfileDateError
from app.errors import AppError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("huiqi.error")


def problem_body(
    *, status: int, title: str, detail: str | None, instance: str, type_: str = "about:blank", **extensions: Any
) -> dict[str, Any]:
    """Build a problem document; `instance` is the request path."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body["instance"] = instance
    body.update(extensions)
    return body


def problem_response(request: Request, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body.setdefault("request_id", request_id)
    return Response(orjson.dumps(body), status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


async def app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    body = problem_body(status=exc.status, type_=exc.type, title=exc.title, detail=exc.detail,
                        instance=request.url.path, **exc.extensions)
    return problem_response(request, body, exc.headers)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 304 or exc.status_code < 400:
        return Response(status_code=exc.status_code, headers=exc.headers)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if exc.detail and exc.detail != phrase else None
    if exc.status_code == 404 and detail is None:
        detail = f"No resource at {request.url.path}."
    if exc.status_code == 405 and detail is None:
        detail = f"{request.method} is not allowed on {request.url.path}."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    body = problem_body(status=exc.status_code, title=phrase, detail=detail, instance=request.url.path)
    return problem_response(request, body, headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path. Starlette's 405 names only the methods of the
    first route matching the path (GET for /v1/companies/{id}, which PUT and DELETE serve too)."""
    routes = request.app.router.routes
    return [method for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)]


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Keep what a caller can act on: where (loc), what (msg) and the error type; never the input."""
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc.errors())
    fields = ", ".join(".".join(str(part) for part in e["loc"]) for e in errors)
    body = problem_body(
        status=422, type_="/problems/validation", title="Invalid request",
        detail=f"The request is not valid: {fields}." if fields else "The request is not valid.",
        instance=request.url.path, errors=errors,
    )
    return problem_response(request, body)


def internal_error_body(path: str, request_id: str) -> bytes:
    """The body of a 500: no trace, only the request id to quote."""
    return orjson.dumps(problem_body(
        status=500, title="Internal Server Error",
        detail=f"Something went wrong on our side. Quote request id {request_id} when reporting it.",
        instance=path, request_id=request_id,
    ))


async def profile_date_handler(request: Request, exc: Exception) -> Response:
    """A profile founded after the evaluation date: a 422 naming the field, like any invalid field."""
    assert isinstance(exc, ProfileDateError)
    error = {"loc": ("body", "profile", exc.field), "msg": exc.reason, "type": "date_order"}
    return await validation_error_handler(request, RequestValidationError([error]))


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(ProfileDateError, profile_date_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)


# ---------------------------------------------------------------------------------------------------
# The problems in the OpenAPI document
# ---------------------------------------------------------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. A 422 from validation lists each offending field in `errors`.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["loc", "msg", "type"],
            "properties": {"loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                           "msg": {"type": "string"}, "type": {"type": "string"}},
        }},
    },
    "additionalProperties": True,
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
# Every /v1 operation: the rate limit, and a key that is sent but unknown (checked before the limit).
API_RESPONSES: dict[str, dict[str, Any]] = {
    "401": {"description": "An API key was sent but is unknown or revoked"},
    "412": {"description": "`Huiqi-Ruleset-Version` was sent, and this instance answers with another rule set "
                           "version (`serving_version`)"},
    "429": {"description": "Too many requests; retry after `Retry-After` seconds", "headers": RETRY_AFTER_HEADER},
}
RULESET_VERSION_PARAMETER = {
    "name": "Huiqi-Ruleset-Version", "in": "header", "required": False,
    "description": "Answer only with this rule set version (every answer names its own in the same header); "
                   "412 from an instance that serves another.",
    "schema": {"type": "string"},
}
# Every /v1 operation with a body: refused before it is read (size) or parsed (depth).
BODY_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {"description": "The body cannot be parsed at all (not UTF-8 text)"},
    "413": {"description": "The request body is larger than the limit"},
    "415": {"description": "The body is declared as something other than JSON"},
    "422": {"description": "The request is not valid (fields in `errors`), or its JSON nests too deeply"},
}


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Declare what the service really answers with on errors: every 4xx/5xx as problem+json, and on
    /v1 the answers that middleware and shared dependencies give (401, 412, 413, 422, 429), and the
    rule set version a request may require."""
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    schemas = document["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if path.startswith("/v1/"):
                for status, response in API_RESPONSES.items():
                    own = responses.get(status)
                    if own is None:
                        responses[status] = dict(response)
                    elif status == "412":  # the operation's own precondition (If-Match), and the version
                        own["description"] += "; or " + response["description"]
                operation.setdefault("parameters", []).append(RULESET_VERSION_PARAMETER)
                if "requestBody" in operation:
                    for status, response in BODY_RESPONSES.items():
                        responses.setdefault(status, dict(response))
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _PROBLEM_CONTENT
    return document
