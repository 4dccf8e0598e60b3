"""Fault tests: the real service under uvicorn (a subprocess on a loopback port) against its own
database, driven by a few client threads while something goes wrong."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, scratch_database
from tests.databases import migrate
from tests.servers import uvicorn_process

SEEDS = [
    {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in entry.items() if k != "key"}
    for entry in yaml.safe_load((ROOT / "seeds" / "companies.yaml").read_text(encoding="utf-8"))["companies"]
]


@dataclass
class Server:
    """A uvicorn process serving the app."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the workers with --workers, else the process itself."""
        children = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children += [int(pid) for pid in (task / "children").read_text().split()]
        # Not multiprocessing's resource tracker, also a child of the supervisor.
        children = [pid for pid in children
                    if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
        return children or [self.process.pid]


@contextmanager
def serve(database_url: str, directory: Path, *, workers: int = 1, **settings: str) -> Iterator[Server]:
    """Start the service on `database_url` (already migrated); stop it (SIGTERM) at the end if still running."""
    env = {**os.environ, "APP_DATABASE_URL": database_url, "APP_RULES_DIR": str(ROOT / "rules"),
           "APP_SEEDS_FILE": str(ROOT / "seeds" / "companies.yaml"), "APP_RATE_LIMIT": "0",
           "APP_LOG_LEVEL": "WARNING",
           **{f"APP_{k.upper()}": v for k, v in settings.items()}}
    env.pop("DATABASE_URL", None)
    log = directory / f"uvicorn-{uuid.uuid4().hex[:8]}.log"
    with uvicorn_process("app.main:create_app", env, log, workers=workers) as (process, base):
        yield Server(process, base, log)


@pytest.fixture
def migrated_database(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own (SQLite file, or PostgreSQL when TEST_DATABASE_URL says so), migrated."""
    with scratch_database(tmp_path) as url:
        migrate(url)
        yield url


def make_key(database_url: str, *scopes: str) -> str:
    from app.clients.service import create_client
    from app.db.session import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            _, key = create_client(session, name="fault test", scopes=list(scopes))
            session.commit()
        return key
    finally:
        engine.dispose()


def scalar(database_url: str, sql: str, **params: Any) -> Any:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def rows(database_url: str, sql: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


@dataclass
class Load:
    """Client threads calling `step(client, n)` until stopped; every outcome is recorded."""

    base: str
    step: Callable[[httpx.Client, int], Any]
    threads: int = 4
    pause: float = 0.0
    outcomes: list[Any] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Self:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def _run(self, index: int) -> None:
        n = index
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self._stop.is_set():
                outcome = self.step(client, n)
                with self._lock:
                    self.outcomes.append(outcome)
                n += self.threads
                if self.pause:
                    time.sleep(self.pause)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def decision_ids(database_url: str) -> set[uuid.UUID]:
    """Every decision id in the table (SQLite keeps them as 32 hex digits)."""
    return {uuid.UUID(str(row[0])) for row in rows(database_url, "SELECT id FROM decision")}
