"""Every dependency alias the routers use, and the dependencies behind them."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict

from app.clients import service as clients_service
from app.clients.ratelimit import SlidingWindowLimiter, UnknownKeys
from app.clients.service import Caller
from app.console import sessions
from app.console.sessions import COOKIE_PATH, SESSION_COOKIE, SignedIn
from app.engine import RuleSet
from app.engine.profile import CONTROL_CHARACTER
from app.errors import (
    CsrfRejectedError,
    ForbiddenError,
    RateLimitedError,
    SignInRequiredError,
    UnauthorizedError,
)
from app.matching.decision_log import DecisionLog
from app.settings import Settings

# Measures are decided by the calendar in China (UTC+8 all year, no daylight saving time).
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with (create_app)."""
    return request.app.state.settings


async def get_ruleset(request: Request) -> RuleSet:
    """The rule set this request is answered with: the one its Huiqi-Ruleset-Version header names
    (RequestContextMiddleware took it when the request came in)."""
    return request.scope.get("state", {}).get("ruleset") or request.app.state.rules.current


async def get_decision_log(request: Request) -> DecisionLog:
    return request.app.state.decision_log


# Trivial dependencies are `async def`: a sync one would cost a threadpool hop on every request.


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the endpoint returns, rolled back if it raises."""
    with request.app.state.session_factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


async def get_today() -> date:
    """Today's date in China, the default evaluation date."""
    return datetime.now(CHINA).date()


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise UnauthorizedError("Send the API key as `Authorization: Bearer <key>`.")
        return key.strip()
    return request.headers.get("x-api-key") or None


async def get_caller(request: Request) -> Caller | None:
    """The client whose key the request carries, None if it carries none; 401 for a bad key.

    A bad key counts against the address's rate limit (429 past it, like anonymous requests), and is
    remembered for a minute, so guessing keys neither escapes the limit nor costs a lookup each time."""
    key = _presented_key(request)
    if key is None:
        return None
    unknown: UnknownKeys = request.app.state.unknown_keys
    caller = None
    if key not in unknown:
        factory = request.app.state.session_factory

        def lookup() -> Caller | None:
            # Its own short session: the endpoint's session must not start with a read on SQLite.
            with factory() as session:
                return clients_service.authenticate(session, key)

        caller = await run_in_threadpool(lookup)
    if caller is None:
        unknown.add(key)
        _count(request, _address_key(request))
        raise UnauthorizedError("The API key is unknown or has been revoked.")
    request.state.client_id = str(caller.id)
    return caller


OptionalCaller = Annotated[Caller | None, Depends(get_caller)]


def _address_key(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"


async def rate_limit(request: Request, caller: OptionalCaller) -> None:
    """Count the request against its client (or IP address); 429 with Retry-After past the limit."""
    _count(request, f"client:{caller.id}" if caller else _address_key(request))


def _count(request: Request, key: str) -> None:
    limiter: SlidingWindowLimiter = request.app.state.limiter
    wait = limiter.hit(key)
    if wait is not None:
        retry_after = limiter.retry_after(wait)
        raise RateLimitedError(
            f"More than {limiter.limit} requests in {limiter.window:g} seconds; retry in {retry_after} s.",
            retry_after=retry_after,
        )


# Texts that may span lines (a rule draft pasted in the console) may hold tabs and line breaks; no
# other text input may hold any control character. Neither may hold NUL, which PostgreSQL refuses to
# store or compare (a 500 where a search or a sign-in attempt is logged).
MULTILINE_FIELDS = frozenset({"text"})
_CONTROL_IN_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _control_character_error(where: str, name: str, value: str) -> dict[str, Any] | None:
    pattern = _CONTROL_IN_MULTILINE if where == "body" and name in MULTILINE_FIELDS else CONTROL_CHARACTER
    found = pattern.search(name) or pattern.search(value)
    if found is None:
        return None
    return {"type": "control_character", "loc": (where, name), "input": None,
            "msg": f"contains a control character (U+{ord(found[0]):04X})"}


async def refuse_control_characters(request: Request) -> None:
    """422 naming the field when a query parameter or a form field holds a control character."""
    errors = [error for name, value in request.query_params.multi_items()
              if (error := _control_character_error("query", name, value))]
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached on the request: the endpoint reads the same form
        errors += [error for name, value in form.multi_items()
                   if isinstance(value, str) and (error := _control_character_error("body", name, value))]
    if errors:
        raise RequestValidationError(errors)


def require_scope(scope: str) -> Callable[[Caller | None], Awaitable[Caller]]:
    """A dependency that admits only callers whose key has `scope`."""

    async def dependency(caller: OptionalCaller) -> Caller:
        if caller is None:
            raise UnauthorizedError(f"This operation needs an API key with scope `{scope}`.")
        if scope not in caller.scopes:
            raise ForbiddenError(f"The API key lacks scope `{scope}`.", required_scope=scope)
        return caller

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RuleSetDep = Annotated[RuleSet, Depends(get_ruleset)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
DecisionLogDep = Annotated[DecisionLog, Depends(get_decision_log)]
TodayDep = Annotated[date, Depends(get_today)]
CompaniesReader = Annotated[Caller, Depends(require_scope("companies:read"))]
CompaniesWriter = Annotated[Caller, Depends(require_scope("companies:write"))]
AdminCaller = Annotated[Caller, Depends(require_scope("admin"))]
EventsReader = Annotated[Caller, Depends(require_scope("events:read"))]
WebhooksWriter = Annotated[Caller, Depends(require_scope("webhooks:write"))]


async def read_form(request: Request) -> ImmutableMultiDict[str, Any]:
    """The submitted form body (an async read, so that the routes themselves can stay sync)."""
    return await request.form()


FormDataDep = Annotated[ImmutableMultiDict[str, Any], Depends(read_form)]


def require_official(request: Request, session: SessionDep, settings: SettingsDep) -> SignedIn:
    """The signed-in official, or a redirect to the console's sign-in page."""
    token = request.cookies.get(SESSION_COOKIE)
    found = sessions.find_official_session(session, token, settings=settings) if token else None
    if found is None:
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequiredError(next_url if request.method == "GET" else COOKIE_PATH)
    return found


CurrentOfficial = Annotated[SignedIn, Depends(require_official)]


async def csrf_protected(request: Request, signed_in: CurrentOfficial) -> SignedIn:
    """The official, if the POSTed form carries their session's CSRF token."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, signed_in.csrf_token):
        raise CsrfRejectedError()
    return signed_in


CheckedOfficial = Annotated[SignedIn, Depends(csrf_protected)]
