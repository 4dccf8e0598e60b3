"""The application: create_app(settings) builds it; the lifespan loads the rule set and opens the database."""

from __future__ import annotations

import functools
import importlib.resources
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema
from sqlalchemy import text
from starlette.responses import Response

from app import problems
from app.clients.ratelimit import SlidingWindowLimiter, UnknownKeys
from app.companies.api import router as companies_router
from app.console import batch_upload as console_batch_upload
from app.console import outreach as console_outreach
from app.console import web as console_web
from app.db.session import WalCheckpointer, make_async_engine, make_engine, make_session_factory
from app.deps import get_ruleset, rate_limit, refuse_control_characters
from app.engine import Profile, RuleSet, RuleSetError, load_ruleset
from app.errors import DatabaseUnavailableError, RuleSetRejectedError
from app.events.api import router as events_router
from app.events.delivery import DeliveryWorker
from app.logs import configure_logging
from app.lookups.api import router as lookups_router
from app.matching import admin as matching_admin
from app.matching import service as matching_service
from app.matching.api import match_router
from app.matching.api import router as matching_router
from app.matching.batch import router as batch_router
from app.matching.decision_log import DecisionLog
from app.matching.schemas import MatchRequest
from app.matching.service import DATABASE_UNAVAILABLE
from app.matching.web import router as matching_web_router
from app.middleware.body_limits import RequestLimitsMiddleware
from app.middleware.request_context import RequestContextMiddleware
from app.middleware.security_headers import SecurityHeadersMiddleware
from app.middleware.trusted_proxies import TrustedProxyMiddleware
from app.policies.api import router as policies_router
from app.serving import ServedRules
from app.settings import Settings, get_settings, with_session_secret
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
    rules = ServedRules(settings)
    try:
        ruleset = rules.load()
    except RuleSetError as exc:
        log.error("rule set does not load", extra={"fields": {"message": "rule set does not load",
                                                             "rules_dir": str(settings.rules_dir),
                                                             "report": str(exc)}})
        raise StartupError(f"Refusing to start: the rules in {settings.rules_dir} do not load.\n{exc}") from None
    except RuleSetRejectedError as exc:
        raise StartupError(f"Refusing to start: {exc.detail}") from None
    bounds: dict[str, Any] = {  # every wait on the database, on the thread's engine and the loops' alike
        "connect_timeout": settings.db_connect_timeout_seconds, "statement_timeout_ms": settings.db_statement_timeout_ms,
        "lock_timeout_ms": settings.db_lock_timeout_ms, "wait_timeout": settings.db_wait_timeout_seconds}
    engine = make_engine(settings.database_url, **bounds, pool_timeout=settings.db_pool_timeout_seconds,
                         background_checkpoints=True)
    factory = make_session_factory(engine)
    try:
        new = await rules.serve(ruleset, factory)
    except Exception as exc:
        engine.dispose()
        raise StartupError(
            f"Refusing to start: cannot record rule versions in the database ({type(exc).__name__}). "
            "Has `alembic upgrade head` been run?"
        ) from exc
    app.state.rules = rules
    app.state.db_engine = engine
    checkpointer = WalCheckpointer.for_engine(engine)
    if checkpointer is not None:
        checkpointer.start()
    app.state.session_factory = factory
    # On PostgreSQL each event loop awaits its own decisions' commits (app/matching/decision_log.py).
    loop_engine = functools.partial(make_async_engine, settings.database_url, **bounds) \
        if engine.dialect.name == "postgresql" else None
    decisions = DecisionLog(engine, queue_size=settings.decision_queue_size, batch_size=settings.decision_batch_size,
                            retry_after=settings.db_retry_after_seconds, turn_timeout=settings.db_wait_timeout_seconds,
                            synchronous_commit=settings.decision_synchronous_commit,
                            loop_engine=loop_engine)
    decisions.start()
    app.state.decision_log = decisions
    deliveries = DeliveryWorker(factory, settings)
    deliveries.start()
    app.state.webhook_deliveries = deliveries
    log.info("started", extra={"fields": {"message": "started", "ruleset_version": ruleset.version,
                                          "rules": len(ruleset.rules), "new_rule_versions": new}})
    del ruleset  # `rules` holds it: a reload must be able to free it
    try:
        yield
    finally:
        # uvicorn runs this after the last in-flight request (on SIGTERM too), so nothing is queued.
        deliveries.stop()
        await decisions.close_on_loop()
        decisions.close()
        if checkpointer is not None:
            checkpointer.stop()
        engine.dispose()
        rules.stop()


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """A database that is down, restarting or stuck: 503 with Retry-After, not a 500."""
    retry_after = request.app.state.settings.db_retry_after_seconds
    log.warning("database unavailable", extra={"fields": {
        "message": "database unavailable", "error": type(exc).__name__, "path": request.url.path,
        "request_id": request.scope.get("state", {}).get("request_id")}})
    return await problems.app_error_handler(request, DatabaseUnavailableError(
        f"The database is not reachable ({type(exc).__name__}); retry in {retry_after} s.", retry_after=retry_after))


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for `settings` (from the environment when omitted, as `uvicorn --factory` does)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    if "APP_TRUST_PROXY_HEADERS" in os.environ:  # replaced by a list of addresses: say so, do not guess
        log.warning("APP_TRUST_PROXY_HEADERS is no longer read: set APP_TRUSTED_PROXIES to the addresses of "
                    "your proxies (none are trusted now)")
    app = FastAPI(title="Huiqi 惠企", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings = with_session_secret(settings)
    app.state.limiter = SlidingWindowLimiter(settings.rate_limit, settings.rate_limit_window_seconds)
    app.state.unknown_keys = UnknownKeys()
    problems.install(app)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _database_unavailable)
    # Starlette runs the last added outermost: the trusted proxy's word, security headers, request
    # context, then the limits (app/middleware/__init__.py says why in this order).
    app.add_middleware(RequestLimitsMiddleware, api_max_body_bytes=settings.api_max_body_bytes,
                       page_max_body_bytes=settings.page_max_body_bytes,
                       batch_max_body_bytes=settings.batch_max_body_bytes, max_json_depth=settings.max_json_depth)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.trusted_proxies.strip():  # no layer when no proxy is trusted (the default): each one costs
        app.add_middleware(TrustedProxyMiddleware, trusted_proxies=settings.trusted_proxies)

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(refuse_control_characters), Depends(rate_limit)])
    v1.include_router(matching_router)
    v1.include_router(policies_router)
    v1.include_router(companies_router)
    v1.include_router(lookups_router)
    v1.include_router(matching_admin.router)
    v1.include_router(events_router)
    app.include_router(match_router, prefix="/v1")  # first: the hot path; it admits its caller itself
    app.include_router(batch_router, prefix="/v1")  # admits its caller itself, like the hot path
    app.include_router(v1)
    app.include_router(matching_web_router)
    console_web.install(app)
    app.include_router(console_outreach.router)
    app.include_router(console_batch_upload.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_docs(app)

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: rule set loaded and database reachable",
             responses={503: {"description": "Not ready; retry after `Retry-After` seconds",
                              "headers": problems.RETRY_AFTER_HEADER,
                              "content": {"application/problem+json": {}}}})
    async def readyz(request: Request) -> Any:
        def ping() -> None:
            with request.app.state.db_engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            # A stuck database must not hold the probe: answer after the connect timeout, leaving the
            # ping to its own bound (the connection's wait timeout) in its thread.
            with anyio.fail_after(request.app.state.settings.db_connect_timeout_seconds):
                await anyio.to_thread.run_sync(ping, abandon_on_cancel=True)
        except Exception as exc:  # noqa: BLE001  (any failure means not ready)
            body = problems.problem_body(status=503, title="Service Unavailable", instance=request.url.path,
                                         detail=f"The database is not reachable ({type(exc).__name__}).")
            retry_after = str(request.app.state.settings.db_retry_after_seconds)
            return problems.problem_response(request, body, headers={"Retry-After": retry_after})
        ruleset = await get_ruleset(request)
        return {"status": "ready", "ruleset_version": ruleset.version, "rules": len(ruleset.rules)}

    app.openapi = _openapi_with_hand_read_bodies(app)  # type: ignore[method-assign]
    return app


# Swagger UI and ReDoc from an installed package (fastapi-offline ships their builds), not a CDN: the
# docs work with no internet, and CDNs are unreliable in mainland China.
DOCS_ASSETS = importlib.resources.files("fastapi_offline") / "static"


def _install_docs(app: FastAPI) -> None:
    app.mount("/docs-assets", StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} · API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> Response:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} · API",
                              redoc_js_url="/docs-assets/redoc.standalone.js",
                              redoc_favicon_url="/docs-assets/favicon.png", with_google_fonts=False)


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
            served = getattr(app.state, "rules", None)
            ruleset = served.current if served else load_ruleset(app.state.settings.rules_dir)
            app.openapi_schema = _document_examples(_document_security(problems.document_problems(schema)), ruleset)
        return app.openapi_schema

    return openapi


EXAMPLE_PROFILE = {"name": "苏州示例电子有限公司", "region_code": "320506", "industry_code": "C3911",
                   "entity_type": "enterprise", "founded_on": "2016-05-10", "employees": 80,
                   "annual_revenue": 30000000, "export_revenue": 12000000, "activities": ["manufacturing_export"]}


def _document_examples(document: dict[str, Any], ruleset: RuleSet) -> dict[str, Any]:
    """Request and response examples of POST /v1/match, the response decided by the rules being served
    (two results and one question shown), so the documented answer is the one a partner gets."""
    operation = document.get("paths", {}).get("/v1/match", {}).get("post")
    if operation is None:
        return document
    requests = {
        "full": {"summary": "A Suzhou exporter, every policy in force, both languages",
                 "value": {"profile": EXAMPLE_PROFILE, "as_of": "2025-06-30"}},
        "local": {"summary": "Only the measures of the company's region, in Chinese",
                  "value": {"profile": EXAMPLE_PROFILE, "scope": "local", "lang": "zh"}},
        "coarse": {"summary": "Known only by its province: region-limited measures ask for the district",
                   "value": {"profile": {"region_code": "320000"}, "scope": "local"}},
    }
    operation["requestBody"]["content"]["application/json"]["examples"] = requests
    answer, _ = matching_service.decide(ruleset, Profile.model_validate(EXAMPLE_PROFILE),
                                        as_of=date(2025, 6, 30), scope="local")
    answer = {"decision_id": "5f0c6b1e-8a3d-4c2e-9b7a-1d2e3f4a5b6c", **answer,
              "results": answer["results"][:2], "questions": answer["questions"][:1]}
    content = operation["responses"]["200"].setdefault("content", {}).setdefault("application/json", {})
    content["example"] = answer
    return document


SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "the same key"},
}


def _document_security(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the two ways to send a key, and per /v1 operation whether one is needed or optional
    (`{}` first: anonymous callers are answered too). An operation needs one when it can answer 403
    (a key without the scope), which every operation behind `require_scope` declares."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    keyed: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
    for path, operations in document.get("paths", {}).items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["security"] = keyed if "403" in operation.get("responses", {}) else [{}, *keyed]
    return document


__all__ = ["create_app"]
