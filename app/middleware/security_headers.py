"""Security headers on every answer and hardened cookies: a Content-Security-Policy for pages (our own
script and style only), for API answers (nothing may load) and for the API docs (their one inline
script allowed by its hash); nosniff, no framing, no Referer, no powerful browser features; HSTS over
TLS; cookies HttpOnly, SameSite=Lax and, over TLS, Secure."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    SameSite=Lax unless it says otherwise, and Secure when the request came over TLS (as the trusted
    proxy says, when there is one)."""

    def __init__(self, app: ASGIApp, *, docs_paths: tuple[str, ...] = ("/docs", "/redoc")) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
