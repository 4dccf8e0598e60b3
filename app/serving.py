"""The rule set this process answers with, and its one owner: loading the rule files, the version pin,
recording new rule versions (so decisions made with them can be replayed) and refreshing the registry's
facts, swapping in a reloaded set (POST /v1/admin/reload or SIGHUP), and keeping the heap settled.

Requests read `current` once, when they come in (app/middleware/request_context.py), so each one is
decided entirely by the old set or by the new one. A reload affects the process that performs it: with
several uvicorn workers, send SIGHUP to each worker (not to the supervisor) or restart the service.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import heap
from app.deps import CHINA
from app.engine import RuleSet, RuleSetError, load_ruleset
from app.errors import DatabaseUnavailableError, RuleSetRejectedError
from app.events import service as events_service
from app.matching.service import DATABASE_UNAVAILABLE
from app.policies import service as policies_service
from app.registry import service as registry_service
from app.settings import Settings

log = logging.getLogger("huiqi.app")


class ServedRules:
    """The rule set being served (`current`) and every way it is loaded and replaced."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current: RuleSet | None = None
        self._sessions: Callable[[], Session] | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sighup = False

    def load(self, kept: RuleSet | None = None) -> RuleSet:
        """Read and compile the rule files. Raises RuleSetError (with every problem's file and line), or
        RuleSetRejectedError when they are not the version APP_EXPECTED_RULESET_VERSION pins (saying
        that `kept`, the set running, stays)."""
        ruleset = load_ruleset(self.settings.rules_dir)
        mismatch = self.pin_mismatch(ruleset)
        if mismatch:
            log.error("rule set not the expected one", extra={"fields": {
                "message": "rule set not the expected one", "report": mismatch}})
            kept_text = f"; the running rule set {kept.version} is kept" if kept else ""
            raise RuleSetRejectedError(f"The rules cannot serve here: {mismatch}{kept_text}.", problems=[],
                                       ruleset_version=kept.version if kept else None,
                                       expected_version=self.settings.expected_ruleset_version)
        return ruleset

    def pin_mismatch(self, ruleset: RuleSet) -> str | None:
        """Why `ruleset` may not serve here (APP_EXPECTED_RULESET_VERSION names another version), or None."""
        expected = self.settings.expected_ruleset_version
        if expected is None or ruleset.version == expected:
            return None
        return (f"the rules in {self.settings.rules_dir} have version {ruleset.version}, "
                f"but APP_EXPECTED_RULESET_VERSION is {expected}")

    def record(self, ruleset: RuleSet) -> int:
        """Store the rule versions not seen before, bring the registry's facts up to date, and decide the
        measures that changed for every stored company (recording status events); return how many
        versions were new."""
        assert self._sessions is not None, "serve() first"
        with self._sessions() as session:
            new = policies_service.record_rule_versions(session, ruleset)
            registry_service.refresh_stale_facts(session, ruleset)
            session.commit()
        try:
            events_service.refresh_statuses(self._sessions, ruleset, as_of=datetime.now(CHINA).date())
        except DATABASE_UNAVAILABLE:
            raise
        except Exception:  # log.exception: the measures decided so far are kept, the rest at the next load
            log.exception("status events not computed", extra={"fields": {"message": "status events not computed"}})
        return new

    async def serve(self, ruleset: RuleSet, sessions: Callable[[], Session]) -> int:
        """Start serving `ruleset` (loaded at start-up): record it, swap it in, answer SIGHUP with a
        reload, settle the heap. Returns how many rule versions were new; database errors propagate."""
        self._sessions = sessions
        new = await run_in_threadpool(self.record, ruleset)
        self.current = ruleset
        self._sighup = self._install_sighup()
        heap.settle()
        return new

    async def reload(self) -> dict[str, Any]:
        """Load the rule files again and swap them in; raise RuleSetRejectedError (old set kept) if they
        do not load or are not the pinned version, DatabaseUnavailableError if their versions cannot
        be recorded."""
        async with self._lock:
            running = self.current
            assert running is not None, "serve() first"
            try:
                ruleset = await run_in_threadpool(self.load, running)
            except RuleSetError as exc:
                problems = [{"file": e.path, "line": e.line, "reason": e.reason} for e in exc.errors]
                log.error("reload refused", extra={"fields": {"message": "reload refused", "report": str(exc)}})
                first = exc.errors[0]
                where = first.path if first.line is None else f"{first.path}:{first.line}"
                raise RuleSetRejectedError(
                    f"The rules in {self.settings.rules_dir} do not load ({len(exc.errors)} problem(s), first "
                    f"at {where}: {first.reason}); the running rule set {running.version} is kept.",
                    problems=problems, ruleset_version=running.version,
                ) from None
            try:
                new = await run_in_threadpool(self.record, ruleset)
            except DATABASE_UNAVAILABLE:
                raise DatabaseUnavailableError(
                    "The new rule versions cannot be recorded: the database is not reachable. The running rule "
                    "set is kept.", retry_after=self.settings.db_retry_after_seconds) from None
            self.current = ruleset
            heap.release_replaced(asyncio.get_running_loop())
            report = {"ruleset_version": ruleset.version, "previous_version": running.version,
                      "changed": ruleset.version != running.version, "rules": len(ruleset.rules),
                      "new_rule_versions": new}
            log.info("rule set reloaded", extra={"fields": {"message": "rule set reloaded", **report}})
            return report

    def on_sighup(self) -> None:
        """The SIGHUP handler: reload in the background; a refusal is logged (and the old set kept)."""

        async def run() -> None:
            try:
                await self.reload()
            except Exception:
                log.exception("reload on SIGHUP failed", extra={"fields": {"message": "reload on SIGHUP failed"}})

        self._tasks.add(task := asyncio.get_running_loop().create_task(run()))
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        """Stop answering SIGHUP and let the heap be collected (the app is stopping)."""
        if self._sighup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self._sighup = False
        heap.thaw()

    def _install_sighup(self) -> bool:
        """SIGHUP reloads the rule files; only where the loop may own signals."""
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.on_sighup)
        except (ValueError, RuntimeError, NotImplementedError, AttributeError):
            return False  # not the main thread (a test client), or no SIGHUP on this platform
        return True
