"""Operations on the running service: POST /v1/admin/reload (scope `admin`), and the same on SIGHUP.

A reload reads every rule file again. A rule set that does not load is refused, naming each problem's
file and line, and the running one keeps serving. One that loads has its new rule versions recorded
(so decisions made with it can be replayed) before it replaces the old one in a single assignment:
each request reads the rule set once, so it is decided entirely by the old set or by the new one.
A reload affects the process that performs it: with several uvicorn workers, send SIGHUP to each
worker (not to the supervisor, which would restart them) or restart the service.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from app import heap
from app.deps import AdminCaller
from app.engine import RuleSet, RuleSetError, load_ruleset
from app.errors import DatabaseUnavailableError, RuleSetRejectedError
from app.matching.service import DATABASE_UNAVAILABLE
from app.policies import service as policies_service
from app.registry import service as registry_service
from app.settings import Settings

log = logging.getLogger("huiqi.app")
router = APIRouter(prefix="/admin", tags=["operations"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def record(app: FastAPI, ruleset: RuleSet) -> int:
    """Store the rule versions not seen before and bring the registry's facts up to date; return how
    many versions were new."""
    with app.state.session_factory() as session:
        new = policies_service.record_rule_versions(session, ruleset)
        registry_service.refresh_stale_facts(session, ruleset)
        session.commit()
        return new


def pin_mismatch(settings: Settings, ruleset: RuleSet) -> str | None:
    """Why `ruleset` may not serve here (APP_EXPECTED_RULESET_VERSION names another version), or None."""
    expected = settings.expected_ruleset_version
    if expected is None or ruleset.version == expected:
        return None
    return (f"the rules in {settings.rules_dir} have version {ruleset.version}, "
            f"but APP_EXPECTED_RULESET_VERSION is {expected}")


async def reload_ruleset(app: FastAPI) -> dict[str, Any]:
    """Load the rule files again and swap them in; raise RuleSetRejectedError (old set kept) if they
    do not load, DatabaseUnavailableError if their versions cannot be recorded."""
    async with app.state.reload_lock:
        settings = app.state.settings
        try:
            ruleset = await run_in_threadpool(load_ruleset, settings.rules_dir)
        except RuleSetError as exc:
            problems = [{"file": e.path, "line": e.line, "reason": e.reason} for e in exc.errors]
            log.error("reload refused", extra={"fields": {"message": "reload refused", "report": str(exc)}})
            first = exc.errors[0]
            where = first.path if first.line is None else f"{first.path}:{first.line}"
            raise RuleSetRejectedError(
                f"The rules in {settings.rules_dir} do not load ({len(exc.errors)} problem(s), first at {where}: "
                f"{first.reason}); the running rule set {app.state.ruleset.version} is kept.",
                problems=problems, ruleset_version=app.state.ruleset.version,
            ) from None
        mismatch = pin_mismatch(settings, ruleset)
        if mismatch:
            log.error("reload refused", extra={"fields": {"message": "reload refused", "report": mismatch}})
            raise RuleSetRejectedError(
                f"The rules cannot serve here: {mismatch}; the running rule set {app.state.ruleset.version} is kept.",
                problems=[], ruleset_version=app.state.ruleset.version,
                expected_version=settings.expected_ruleset_version,
            )
        try:
            new = await run_in_threadpool(record, app, ruleset)
        except DATABASE_UNAVAILABLE:
            raise DatabaseUnavailableError(
                "The new rule versions cannot be recorded: the database is not reachable. The running rule "
                "set is kept.", retry_after=settings.db_retry_after_seconds) from None
        previous = app.state.ruleset
        app.state.ruleset = ruleset
        heap.release_replaced(asyncio.get_running_loop())
        report = {"ruleset_version": ruleset.version, "previous_version": previous.version,
                  "changed": ruleset.version != previous.version, "rules": len(ruleset.rules),
                  "new_rule_versions": new}
        log.info("rule set reloaded", extra={"fields": {"message": "rule set reloaded", **report}})
        return report


@router.post(
    "/reload", summary="Reload the rule files (this worker process)",
    responses={422: {"description": "The rule files do not load, or are not the version APP_EXPECTED_RULESET_VERSION "
                                    "names; the running rule set is kept. "
                                    "`problems` lists each file, line and reason", **PROBLEM},
               403: {"description": "The API key lacks scope `admin`", **PROBLEM},
               503: {"description": "The database is not reachable; the running rule set is kept", **PROBLEM}},
)
async def reload(request: Request, caller: AdminCaller) -> dict[str, Any]:
    return await reload_ruleset(request.app)


def on_sighup(app: FastAPI) -> None:
    """The SIGHUP handler: reload in the background; a refusal is logged (and the old set kept)."""

    async def run() -> None:
        try:
            await reload_ruleset(app)
        except Exception:
            log.exception("reload on SIGHUP failed", extra={"fields": {"message": "reload on SIGHUP failed"}})

    app.state.reload_tasks.add(task := asyncio.get_running_loop().create_task(run()))
    task.add_done_callback(app.state.reload_tasks.discard)
