"""Every dependency alias the routers use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.clients import service as clients_service
from app.clients.ratelimit import SlidingWindowLimiter
from app.clients.service import Caller
from app.engine import RuleSet
from app.errors import ForbiddenError, RateLimitedError, UnauthorizedError
from app.settings import Settings

# Measures are decided by the calendar in China (UTC+8 all year, no daylight saving time).
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_ruleset(request: Request) -> RuleSet:
    """The rule set this request is answered with: the one its Huiqi-Ruleset-Version header names
    (RequestContextMiddleware took it when the request came in)."""
    return request.scope.get("state", {}).get("ruleset") or request.app.state.ruleset


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.session_factory


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
    """The client whose key the request carries, None if it carries none; 401 for a bad key."""
    key = _presented_key(request)
    if key is None:
        return None
    factory = request.app.state.session_factory

    def lookup() -> Caller | None:
        # Its own short session: the endpoint's session must not start with a read on SQLite.
        with factory() as session:
            return clients_service.authenticate(session, key)

    caller = await run_in_threadpool(lookup)
    if caller is None:
        raise UnauthorizedError("The API key is unknown or has been revoked.")
    request.state.client_id = str(caller.id)
    return caller


OptionalCaller = Annotated[Caller | None, Depends(get_caller)]


async def rate_limit(request: Request, caller: OptionalCaller) -> None:
    """Count the request against its client (or IP address); 429 with Retry-After past the limit."""
    limiter: SlidingWindowLimiter = request.app.state.limiter
    key = f"client:{caller.id}" if caller else f"ip:{request.client.host if request.client else 'unknown'}"
    wait = limiter.hit(key)
    if wait is not None:
        retry_after = limiter.retry_after(wait)
        raise RateLimitedError(
            f"More than {limiter.limit} requests in {limiter.window:g} seconds; retry in {retry_after} s.",
            retry_after=retry_after,
        )


def require_scope(scope: str) -> Callable[..., Caller]:
    """A dependency that admits only callers whose key has `scope`."""

    async def dependency(caller: OptionalCaller) -> Caller:
        if caller is None:
            raise UnauthorizedError(f"This operation needs an API key with scope `{scope}`.")
        if scope not in caller.scopes:
            raise ForbiddenError(f"The API key lacks scope `{scope}`.", required_scope=scope)
        return caller

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


SettingsDep = Annotated[Settings, Depends(get_settings)]
RuleSetDep = Annotated[RuleSet, Depends(get_ruleset)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
TodayDep = Annotated[date, Depends(get_today)]
CompaniesReader = Annotated[Caller, Depends(require_scope("companies:read"))]
CompaniesWriter = Annotated[Caller, Depends(require_scope("companies:write"))]
AdminCaller = Annotated[Caller, Depends(require_scope("admin"))]
