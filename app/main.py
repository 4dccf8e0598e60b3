"""The application: create_app(settings) builds it; the lifespan loads the rule set and opens the database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from app import problems
from app.clients.ratelimit import SlidingWindowLimiter
from app.companies.api import router as companies_router
from app.console import web as console_web
from app.db.session import make_engine, make_session_factory
from app.deps import rate_limit
from app.engine import RuleSetError, load_ruleset
from app.matching.api import router as matching_router
from app.matching.schemas import MatchRequest
from app.matching.web import router as matching_web_router
from app.middleware import (
    RequestContextMiddleware, RequestLimitsMiddleware, SecurityHeadersMiddleware, configure_logging,
)
from app.policies import service as policies_service
from app.policies.api import router as policies_router
from app.registry import service as registry_service
from app.settings import Settings, get_settings
from app.templating import STATIC_DIR

log = logging.getLogger("huiqi.app")

DESCRIPTION = """Huiqi (惠企) matches Chinese companies to the government support measures they qualify for.

Errors are RFC 9457 `application/problem+json`. Every response carries the rule-set version in
`Huiqi-Ruleset-Version` and a request id in `X-Request-ID`. Company endpoints need an API key
(`Authorization: Bearer <key>`) with scope `companies:read` or `companies:write`; matching and the
policy catalogue are open, rate-limited per client or IP address."""


class StartupError(RuntimeError):
    """The service refuses to start (a broken rule set, an unmigrated database)."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    try:
        ruleset = load_ruleset(settings.rules_dir)
    except RuleSetError as exc:
        log.error("rule set does not load", extra={"fields": {"message": "rule set does not load",
                                                             "rules_dir": str(settings.rules_dir),
                                                             "report": str(exc)}})
        raise StartupError(f"Refusing to start: the rules in {settings.rules_dir} do not load.\n{exc}") from None
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)

    def record() -> int:
        with factory() as session:
            new = policies_service.record_rule_versions(session, ruleset)
            registry_service.refresh_stale_facts(session, ruleset)
            session.commit()
            return new

    try:
        new = await run_in_threadpool(record)
    except Exception as exc:
        engine.dispose()
        raise StartupError(
            f"Refusing to start: cannot record rule versions in the database ({type(exc).__name__}). "
            "Has `alembic upgrade head` been run?"
        ) from exc
    app.state.ruleset = ruleset
    console_web.startup(app)
    app.state.db_engine = engine
    app.state.session_factory = factory
    log.info("started", extra={"fields": {"message": "started", "ruleset_version": ruleset.version,
                                          "rules": len(ruleset.rules), "new_rule_versions": new}})
    try:
        yield
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for `settings` (from the environment when omitted, as `uvicorn --factory` does)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(title="Huiqi 惠企", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.limiter = SlidingWindowLimiter(settings.rate_limit, settings.rate_limit_window_seconds)
    problems.install(app)
    # Starlette runs the last added outermost: security headers, request context, then the limits.
    app.add_middleware(RequestLimitsMiddleware, api_max_body_bytes=settings.api_max_body_bytes,
                       page_max_body_bytes=settings.page_max_body_bytes, max_json_depth=settings.max_json_depth)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, trust_proxy_headers=settings.trust_proxy_headers)

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(rate_limit)])
    v1.include_router(matching_router)
    v1.include_router(policies_router)
    v1.include_router(companies_router)
    app.include_router(v1)
    app.include_router(matching_web_router)
    console_web.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: rule set loaded and database reachable",
             responses={503: {"description": "Not ready", "content": {"application/problem+json": {}}}})
    async def readyz(request: Request) -> Any:
        def ping() -> None:
            with request.app.state.db_engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(ping)
        except Exception as exc:  # noqa: BLE001  (any failure means not ready)
            body = problems.problem_body(status=503, title="Service Unavailable", instance=request.url.path,
                                         detail=f"The database is not reachable ({type(exc).__name__}).")
            return problems.problem_response(request, body)
        ruleset = request.app.state.ruleset
        return {"status": "ready", "ruleset_version": ruleset.version, "rules": len(ruleset.rules)}

    app.openapi = _openapi_with_hand_read_bodies(app)  # type: ignore[method-assign]
    return app


def _openapi_with_hand_read_bodies(app: FastAPI) -> Any:
    """Add the schemas of request bodies that endpoints read themselves (POST /v1/match) to the document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            _, defs = models_json_schema([(MatchRequest, "validation")],
                                         ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in defs.get("$defs", {}).items():
                components.setdefault(name, definition)
            app.openapi_schema = problems.document_problems(schema)
        return app.openapi_schema

    return openapi


__all__ = ["create_app"]
