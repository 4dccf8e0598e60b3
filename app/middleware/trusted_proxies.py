"""Behind a proxy: from a peer in APP_TRUSTED_PROXIES, X-Forwarded-Proto and X-Forwarded-For (their
last value: the one our proxy added) set the request's scheme and client address, so cookies are Secure
behind a TLS proxy and the rate limit and sign-in throttle count clients, not the proxy. From any other
peer they are ignored, so a client cannot pick its own rate-limit key."""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from app.middleware.asgi import header

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
    proto = header(scope, b"x-forwarded-proto")
    if proto:
        last = proto.split(",")[-1].strip().lower()
        if last in ("http", "https"):
            scope["scheme"] = last
    forwarded_for = header(scope, b"x-forwarded-for")
    if forwarded_for:
        address = forwarded_for.split(",")[-1].strip()
        if address:
            scope["client"] = (address, 0)


class TrustedProxyMiddleware:
    """The request's scheme and client address as a trusted proxy forwarded them."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: str) -> None:
        self.app = app
        self.trusted_proxies = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted_proxies and _peer_in(scope, self.trusted_proxies):
            _apply_forwarded(scope)
        await self.app(scope, receive, send)
