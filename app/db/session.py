"""Engine and session factory; SQLite gets real transactions and foreign keys."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg.connection import _WAIT_INTERVAL
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("huiqi.db")


class RawJSON(str):
    """JSON text already serialised (say, the bytes of an answer as sent), stored as is in a JSON column."""

    __slots__ = ()


def json_serializer(value: Any) -> str:
    """JSON columns' encoder: RawJSON passes through; the rest goes through orjson (json for what it refuses)."""
    if type(value) is RawJSON:
        return str(value)  # a plain str: some drivers and orjson refuse subclasses
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection none of whose waits for the server (a statement, a fetch, a commit, the
    pool's ping) lasts longer than `wait_timeout` seconds. A server that stops answering without
    closing the connection (a frozen process, a network path that stalls) is never noticed by the
    server-side statement timeout, nor by TCP keepalives or tcp_user_timeout, as the kernel at the
    other end still acknowledges: only a deadline on our side bounds the wait. When it passes, the
    connection is closed (the pool drops it) and OperationalError raised: a 503, as for a server down."""

    wait_timeout: float | None = None

    def wait(self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> Any:
        try:
            return super().wait(gen, interval, self.wait_timeout if timeout is None else timeout)
        except psycopg.errors._WaitTimeout:
            self.close()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.wait_timeout} s; connection closed") from None


class BoundedAsyncConnection(psycopg.AsyncConnection[Any]):
    """BoundedConnection for the asyncio driver. The deadline is the driver's: a caller's cancellation
    (asyncio.timeout) would have psycopg first ask a stuck server to cancel the query, for up to 10 s more."""

    wait_timeout: float | None = None

    async def wait(self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> Any:
        try:
            return await super().wait(gen, interval, self.wait_timeout if timeout is None else timeout)
        except psycopg.errors._WaitTimeout:
            await self.close()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.wait_timeout} s; connection closed") from None


def make_engine(url: str, *, connect_timeout: int = 10, statement_timeout_ms: int | None = None,
                pool_timeout: float | None = None, lock_timeout_ms: int | None = None,
                wait_timeout: float | None = None, background_checkpoints: bool = False, **kwargs: Any) -> Engine:
    """Create an engine for `url`; for an SQLite file, create its directory first.

    Every wait on the database is bounded. On PostgreSQL: a connection attempt by `connect_timeout`
    seconds, a statement by `statement_timeout_ms` and a lock by `lock_timeout_ms` (on the server),
    and any wait for the server by `wait_timeout` seconds (on our side, see BoundedConnection), with
    TCP keepalives for a peer that vanished; dead pooled connections are replaced (pool_pre_ping), so
    the service recovers by itself once the server is back. On SQLite, the wait for another writer's
    lock by `wait_timeout` (30 s when not given); with `background_checkpoints`, no connection of this
    engine checkpoints the write-ahead log itself: a WalCheckpointer must run beside it."""
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", json_serializer)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if pool_timeout is not None:
        kwargs.setdefault("pool_timeout", pool_timeout)
    if parsed.get_backend_name() != "sqlite":
        connect_args = _postgres_connect_args(connect_timeout, statement_timeout_ms, lock_timeout_ms, wait_timeout)
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
        if wait_timeout:
            bounded = _with_deadline(BoundedConnection, wait_timeout)

            @event.listens_for(engine, "do_connect")
            def _bounded_connect(dialect: Any, conn_rec: Any, cargs: Any, cparams: Any) -> Any:
                return bounded.connect(*cargs, **cparams)

        event.listen(engine, "connect", _connect_pg)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": wait_timeout or 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (otherwise savepoints misbehave).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # Write-ahead log: readers no longer wait for a writer, and a commit is one append and one
        # sync instead of a rollback journal's two syncs (the decision log commits a batch of ~20 KB
        # rows at a time). NORMAL syncs at checkpoints: a power cut may lose the last commits, never
        # the database. Kept by the file once set; an in-memory database stays as it is.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if background_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes
        # can fail at once with "database is locked" when another writer commits in between, instead
        # of waiting. SQLite is the development backend, so serialising writers costs nothing here.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_async_engine(url: str, *, connect_timeout: int = 10, statement_timeout_ms: int | None = None,
                      lock_timeout_ms: int | None = None, wait_timeout: float | None = None) -> AsyncEngine:
    """An asyncio engine on a PostgreSQL `url`, with `make_engine`'s settings, for work that waits on the
    server from an event loop (the decision log's commits). Its connections belong to the loop that opens
    them."""
    connect_args = _postgres_connect_args(connect_timeout, statement_timeout_ms, lock_timeout_ms, wait_timeout)
    if wait_timeout:
        connect_args["async_creator_fn"] = _with_deadline(BoundedAsyncConnection, wait_timeout).connect
    engine = create_async_engine(url, pool_pre_ping=True, connect_args=connect_args,
                                 json_serializer=json_serializer, json_deserializer=orjson.loads)
    event.listen(engine.sync_engine, "connect", _connect_pg)
    return engine


_Bounded = TypeVar("_Bounded", BoundedConnection, BoundedAsyncConnection)


def _with_deadline(connection_class: type[_Bounded], wait_timeout: float) -> type[_Bounded]:
    """A subclass of a Bounded(Async)Connection with one engine's deadline: each engine its own."""
    return type(connection_class.__name__, (connection_class,), {"wait_timeout": wait_timeout})


def _postgres_connect_args(connect_timeout: int, statement_timeout_ms: int | None, lock_timeout_ms: int | None,
                           wait_timeout: float | None) -> dict[str, Any]:
    connect_args: dict[str, Any] = {"connect_timeout": connect_timeout, "keepalives": 1,
                                    "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}
    options = [f"-c statement_timeout={statement_timeout_ms}"] if statement_timeout_ms else []
    options += [f"-c lock_timeout={lock_timeout_ms}"] if lock_timeout_ms else []
    if options:
        connect_args["options"] = " ".join(options)
    if wait_timeout:
        connect_args["tcp_user_timeout"] = int(wait_timeout * 1000)
    return connect_args


def _connect_pg(dbapi_conn: Any, _record: Any) -> None:
    # Decisions are ~20 KB JSONB rows: lz4 TOAST compression (PostgreSQL 14+, when built with it)
    # halves the server's cost of storing one compared with the default pglz (measured: 730 →
    # 300 µs a row). Where it is unavailable the default stays.
    try:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SET default_toast_compression = lz4")
        dbapi_conn.commit()
    except Exception:  # noqa: BLE001  (an older or lz4-less server: keep its default)
        dbapi_conn.rollback()


class TurnTaken(Exception):
    """The writers' turn is another's, and the caller asked not to wait for it."""


@contextlib.contextmanager
def writers_turn(database: str, *, timeout: float) -> Iterator[None]:
    """Writers of an SQLite file that write continuously (the decision logs of every worker process, and
    a checkpointer's restart of the log) take turns through a file lock. SQLite's own wait for its write lock
    polls with sleeps of up to 100 ms, while a writer that has just committed begins its next batch at
    once: under load one process was kept out for seconds (measured: 3.9 s). A waiter here blocks in the
    kernel, which wakes it the moment the lock is released (see `_lock_within`). OperationalError (a 503)
    past `timeout`: a stuck process must not hold the others for ever."""
    with _writer_lock_file(database) as (descriptor, path):
        if not _lock_within(descriptor, timeout):
            raise OperationalError("writers' turn", None, TimeoutError(path))
        yield


@contextlib.contextmanager
def writers_turn_if_free(database: str) -> Iterator[None]:
    """`writers_turn` without waiting: TurnTaken at once when the turn is another's (an event loop must
    not wait)."""
    with _writer_lock_file(database) as (descriptor, path):
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TurnTaken(path) from None
        yield


@contextlib.contextmanager
def _writer_lock_file(database: str) -> Iterator[tuple[int, str]]:
    """The writers' lock file of `database`, open; closing it releases a lock taken through it."""
    path = f"{database}.writer-lock"
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        yield descriptor, path
    finally:
        os.close(descriptor)


def _lock_within(descriptor: int, timeout: float) -> bool:
    """Take the exclusive lock of the file open at `descriptor`, waiting at most `timeout` seconds.

    A waiter that polls (what this did before) needs the interpreter's lock for every try, which a busy
    event loop holds for up to the switch interval: it missed the moments the lock was free, while the
    other process's writer took it back at once, and commits waited for the turn for up to 56 ms where
    the holders held it for under 1 ms (bench/stalls.py). So a busy lock is waited for in the kernel,
    in a thread of its own on a duplicate of the descriptor (flock's wait cannot time out); one given up
    gets the lock later, in that thread, and drops it at once by closing the last descriptor of it."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    waiter = os.dup(descriptor)  # the same open file: a lock taken through it is the caller's
    taken = threading.Event()
    settled = threading.Lock()  # taken by whichever side decides first: the lock came, or the time ran out

    def wait() -> None:
        try:
            fcntl.flock(waiter, fcntl.LOCK_EX)
            if settled.acquire(blocking=False):
                taken.set()
        finally:
            os.close(waiter)  # the caller's descriptor keeps the lock, or (given up) nothing does

    try:
        threading.Thread(target=wait, name="writers-turn", daemon=True).start()
    except RuntimeError:  # no thread to wait in (the process is at its limit): this turn is refused
        os.close(waiter)
        return False
    if taken.wait(timeout):
        return True
    if settled.acquire(blocking=False):
        return False  # given up
    taken.wait()  # the lock came as the time ran out
    return True


class WalCheckpointer:
    """Copies an SQLite file's write-ahead log back into the database from a thread of its own, so that
    no commit pays for it. With SQLite's automatic checkpoint, the commit that takes the log past 1,000
    pages copies them and syncs the file before it returns: the decision log's commits stalled for
    10–20 ms every few hundred decisions (up to 300 ms with larger rows), and the requests waiting on
    them with it. A passive checkpoint neither waits for nor blocks a writer; under writes that never
    pause it never reaches the end of the log, which then grows without end (measured: 50 MB/s of log
    under full load), so once the log holds more than `restart_after_bytes` a restarting one follows it
    at once, while little is left to copy: the next writer starts the log over from its beginning. The
    file keeps its size and is written over: truncating it (what this did before) took 65–130 ms with
    writers kept out, restarting it 32–81 ms (measured on the 2-core VM, under load; 8–15 ms since
    writers wait for their turn in the kernel). A pass every `interval` seconds: each one syncs what
    was written since the last, and a sync holds up the commits appending meanwhile, so small frequent
    passes make for a shorter tail than large rare ones (bench/README.md: 0.1 s against 0.25 s, p99 at
    16 and 64 connections 16 and 44–47 ms against 19–20 and 53–64 ms; 1 s was worse still)."""

    def __init__(self, path: str, *, interval: float = 0.1, restart_after_bytes: int = 16 * 1024 * 1024) -> None:
        self.path = path
        self.interval = interval
        self.restart_after_bytes = restart_after_bytes
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)

    @classmethod
    def for_engine(cls, engine: Engine) -> WalCheckpointer | None:
        """The checkpointer an engine made with `background_checkpoints` needs: one for an SQLite file."""
        path = engine.url.database
        return cls(path) if engine.dialect.name == "sqlite" and path and path != ":memory:" else None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def checkpoint(self, connection: sqlite3.Connection, page_size: int) -> None:
        """Copy the log back without waiting for anyone; then, if it holds more than its bound (in frames
        of `page_size` bytes), copy what was written meanwhile and have the log start over (writers wait
        for that short remainder only)."""
        started = time.perf_counter()
        restart_ms = None
        try:
            _, frames, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            passive_ms = (time.perf_counter() - started) * 1000
            if frames * page_size > self.restart_after_bytes:
                # A restart keeps writers out until it is done; waiting for their turn, the decision
                # logs are let in the moment it ends, where SQLite's busy handler would sleep on.
                with writers_turn(self.path, timeout=2):
                    held = time.perf_counter()
                    connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                    restart_ms = (time.perf_counter() - held) * 1000
        except (sqlite3.OperationalError, OperationalError):
            return  # another worker's checkpointer is at it, or a writer held on past the busy timeout
        self.checkpoints += 1
        if frames > 0 and log.isEnabledFor(logging.DEBUG):  # the stall timeline (bench/stalls.py) reads these
            log.debug("wal checkpoint", extra={"fields": {
                "message": "wal checkpoint", "frames": frames, "at": time.time(), "passive_ms": round(passive_ms, 3),
                "restart_ms": None if restart_ms is None else round(restart_ms, 3)}})

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=2, check_same_thread=False)
        try:
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]  # fixed once the file exists
            while not self._stop.wait(self.interval):
                self.checkpoint(connection, page_size)
            self.checkpoint(connection, page_size)
        finally:
            connection.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (responses are built after the commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
