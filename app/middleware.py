"""Per-request context: request id, rule-set version header (and the version a client may require),
one JSON log line, and the last-resort 500;
security headers and cookie flags; limits on request bodies (size, JSON depth) checked before the app
reads them. Pure ASGI middleware (BaseHTTPMiddleware would cost a task and a stream copy per request).

Wired in create_app, outermost first: SecurityHeadersMiddleware → RequestContextMiddleware →
RequestLimitsMiddleware → the app. So the 500 of the last resort carries the security headers, and a
413 or a too-deep 422 carries the request id and is logged.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import re
import sys
import time
import uuid
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PROBLEM_JSON, internal_error_body, problem_body

request_log = logging.getLogger("huiqi.request")
error_log = logging.getLogger("huiqi.error")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# What must never reach a log, should some message or traceback carry it (a database error quotes its
# parameters): unified social credit codes (GB 32100-2015 alphabet) and our API keys. A code stands
# alone: 18 characters inside a longer token (a request id such as req-202611281234567890) are not one.
_SECRETS = re.compile(
    r"(?<![0-9A-Za-z_-])[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z_-])"
    r"|hq_[A-Za-z0-9_-]{16,}"
)


def redact(text: str) -> str:
    """`text` with credit codes and API keys masked."""
    return _SECRETS.sub("[redacted]", text)


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: the message's `fields`, plus time, level and logger; secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        line.update(getattr(record, "fields", None) or {"message": record.getMessage()})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(orjson.dumps(line).decode())


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
        incoming = _header(scope, b"x-request-id")
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
            required = _header(scope, RULESET_VERSION_HEADER) if scope["path"].startswith("/v1/") else None
            if required is not None and ruleset is not None and required != ruleset.version:
                await _send_problem(scope, send_with_headers, problem_body(
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


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


# ---------------------------------------------------------------------------------------------------
# Security headers and cookies
# ---------------------------------------------------------------------------------------------------

# Pages load only their own script and stylesheet (no inline script or style), post forms only to us,
# and may not be framed. API answers are data: nothing in them may load anything.
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# The interactive API docs: Swagger UI and ReDoc served by us (/docs-assets), one inline script each,
# which is allowed by its hash (computed from the page itself, which no request can change).
DOCS_CSP = ("default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Answers' URLs may carry a credit code (GET /answer?…): send no Referer, even to ourselves, so it
    # does not land in a proxy's access log through a stylesheet request.
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", (b"accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                             b"microphone=(), payment=(), usb=()")),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeadersMiddleware:
    """Security headers on every answer (what the app set itself wins); every cookie HttpOnly and
    SameSite=Lax unless it says otherwise, and Secure when the request came over TLS.

    From a peer in `trusted_proxies`, X-Forwarded-Proto and X-Forwarded-For (their last value: the one
    our proxy added) set the request's scheme and client address, so cookies are Secure behind a TLS
    proxy and the rate limit counts clients, not the proxy. From any other peer they are ignored."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: str = "",
                 docs_paths: tuple[str, ...] = ("/docs", "/redoc")) -> None:
        self.app = app
        self.trusted_proxies = parse_networks(trusted_proxies)
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.trusted_proxies and _peer_in(scope, self.trusted_proxies):
            _apply_forwarded(scope)
        tls = scope.get("scheme") == "https"
        if scope["path"] in self.docs_paths:
            await self.app(scope, receive, _DocsCsp(send, tls))
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secure_headers(list(message.get("headers", [])), tls=tls)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def secure_headers(headers: list[tuple[bytes, bytes]], *, tls: bool, csp: bytes | None = None) -> list[tuple[bytes, bytes]]:
    """`headers` with the security headers added where absent and every cookie hardened."""
    present = {name.lower() for name, _ in headers}
    out = [(name, harden_cookie(value, tls=tls)) if name.lower() == b"set-cookie" else (name, value)
           for name, value in headers]
    if b"content-security-policy" not in present:
        if csp is None:
            content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            csp = (PAGE_CSP if content_type.startswith(b"text/html") else API_CSP).encode()
        out.append((b"content-security-policy", csp))
    out.extend(header for header in COMMON_HEADERS if header[0] not in present)
    if tls and HSTS[0] not in present:
        out.append(HSTS)
    return out


def harden_cookie(value: bytes, *, tls: bool) -> bytes:
    """A Set-Cookie value with HttpOnly, SameSite (Lax unless set) and, over TLS, Secure."""
    attributes = {part.strip().split(b"=", 1)[0].lower() for part in value.split(b";")[1:]}
    if b"httponly" not in attributes:
        value += b"; HttpOnly"
    if b"samesite" not in attributes:
        value += b"; SameSite=Lax"
    if tls and b"secure" not in attributes:
        value += b"; Secure"
    return value


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or networks ("10.0.0.5, 10.1.0.0/16"); a bad entry is a ValueError."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _peer_in(scope: Scope, networks: tuple[Network, ...]) -> bool:
    client = scope.get("client")
    try:
        address = ipaddress.ip_address(client[0]) if client else None
    except ValueError:
        return False
    return address is not None and any(address in network for network in networks)


def _apply_forwarded(scope: Scope) -> None:
    proto = _header(scope, b"x-forwarded-proto")
    if proto:
        last = proto.split(",")[-1].strip().lower()
        if last in ("http", "https"):
            scope["scheme"] = last
    forwarded_for = _header(scope, b"x-forwarded-for")
    if forwarded_for:
        address = forwarded_for.split(",")[-1].strip()
        if address:
            scope["client"] = (address, 0)


class _DocsCsp:
    """Buffers the docs page (a few hundred bytes) to allow its own inline script by hash."""

    def __init__(self, send: Send, tls: bool) -> None:
        self.send = send
        self.tls = tls
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(self.chunks)
        hashes = " ".join(f"'sha256-{_b64sha256(script)}'" for script in _INLINE_SCRIPT.findall(body))
        csp = DOCS_CSP.format(hashes=hashes).encode()
        headers = [(k, v) for k, v in self.start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({**self.start, "headers": secure_headers(headers, tls=self.tls, csp=csp)})
        await self.send({"type": "http.response.body", "body": body})


def _b64sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# ---------------------------------------------------------------------------------------------------
# Request limits: body size and JSON depth, checked before the app (and pydantic) sees the body
# ---------------------------------------------------------------------------------------------------

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
                 max_json_depth: int) -> None:
        self.app = app
        self.api_max = api_max_body_bytes
        self.page_max = page_max_body_bytes
        self.max_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding")
        if length in (None, "0") and chunked is None:
            await self.app(scope, receive, send)  # no body: nothing to check
            return
        api = scope["path"] == "/v1" or scope["path"].startswith("/v1/")
        content_type = _header(scope, b"content-type")
        if api and content_type is not None and not _is_json(content_type):
            await _send_problem(scope, send, problem_body(
                status=415, type_="/problems/unsupported-media-type", title="Unsupported media type",
                detail="Send the body as JSON (Content-Type: application/json).", instance=scope["path"],
            ))
            return
        limit = self.api_max if api else self.page_max
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
            await _send_problem(scope, send, problem_body(
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
    await _send_problem(scope, send, problem_body(
        status=413, type_="/problems/body-too-large", title="Request body too large",
        detail=f"The request body is larger than {limit} bytes.", instance=scope["path"], max_bytes=limit,
    ))


async def _send_problem(scope: Scope, send: Send, body: dict[str, Any]) -> None:
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
