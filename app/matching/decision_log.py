"""The decision log: every answer is stored before it is given, the decisions of concurrent requests
committed together (group commit).

A request decides, serialises its answer once, and hands the row to `store` (on an event loop) or
`submit` (on a thread, which gets a future); the request answers only once the row is committed. A
background thread takes whatever has gathered in its queue (under load, the requests that arrived while
the previous batch committed) and inserts it in one transaction, so a commit is shared by many answers
and a lone request pays one short commit.

An event loop commits its own requests' rows instead. Handed to the thread, every commit had two
threads take the interpreter's lock from each other several times (the driver lets go of it around each
call to the database): 11 futex calls a request on SQLite, and a match's CPU 1.00 ms where it is 0.79 ms
now (in-process, bench/README.md, session 8).
- On an SQLite file the loop commits the rows gathered in one turn of the loop (`_commit_gathered`) when
  that needs no waiting: the file is local, so a commit is the processor's work and the page cache's.
  When the writers' turn or SQLite's write lock is another's, the thread waits for it instead.
- On PostgreSQL a commit waits on the network: the loop awaits it on a connection of its own
  (`_commit_gathered_async`), one commit in flight at a time, the rows that gather meanwhile together in
  the next.
Rows whose commit on the loop fails for any reason go to the thread, which waits, retries and fails
them as below.

One failure rule follows for every entry point (the API, the form, a stored company's match, a batch):
no answer without its decision.
- While the database is unreachable, the batch's requests fail (503 with Retry-After) and `available`
  turns False: new requests are refused at once rather than queued behind a database that is not
  there, while the thread probes it, backing off, and turns `available` back on when it answers.
- The queue is bounded; a request that finds it full is refused the same way (the server is beyond
  what its database takes, and each waiting request already holds its answer in memory).
- Inserts are idempotent by id, so a commit whose acknowledgement was lost cannot be doubled.
- A row the database refuses for another reason (a client deleted between the answer and the insert)
  is stored as the deletion would have left it (ON DELETE SET NULL); any other refusal fails that
  request alone.
- `close()` (the lifespan's exit, after uvicorn has finished the requests in flight) stops the thread
  once the queue is empty; `close_on_loop()` before it closes the loop's own connection.
Readers never need to wait: an answered decision is already in the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from typing import Any, cast

from sqlalchemy import Connection, Engine, Insert, LargeBinary, Text, bindparam, func, text
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.models import Decision
from app.db.session import TurnTaken, writers_turn, writers_turn_if_free
from app.errors import DatabaseUnavailableError
from app.matching.service import DATABASE_UNAVAILABLE

log = logging.getLogger("huiqi.decisions")

DECISION_TABLE = Decision.__table__
_STOP = object()
_PROBE = object()  # a loop found the database not answering: the thread probes it until it does


@functools.cache
def _insert_statement(dialect_name: str) -> Insert:
    """The decision insert for a database. Idempotent by id: a batch whose commit succeeded but whose
    acknowledgement was lost is safe. The answer comes as the UTF-8 bytes it was sent in, which the
    database reads as text: as a Python str, Chinese text would be decoded from those bytes in the
    request and encoded back by the driver here, holding the interpreter's lock (a third of this
    thread's work, measured)."""
    if dialect_name == "postgresql":
        return pg_insert(DECISION_TABLE).on_conflict_do_nothing(index_elements=["id"]).values(
            results=func.convert_from(bindparam("results", type_=LargeBinary), "UTF8"))
    utf8_text = sql_cast(bindparam("results", type_=LargeBinary), Text)
    if dialect_name == "sqlite":
        return sqlite_insert(DECISION_TABLE).on_conflict_do_nothing(index_elements=["id"]).values(results=utf8_text)
    return DECISION_TABLE.insert().values(results=utf8_text)


class _Pending:
    """A row waiting for its commit, and who waits for it: a thread (a concurrent future) or a task on
    an event loop (an asyncio future, set on its loop)."""

    __slots__ = ("loop", "row", "stored")

    def __init__(self, row: dict[str, Any], loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.row = row
        self.loop = loop
        self.stored: Future[None] | asyncio.Future[None] = Future() if loop is None else loop.create_future()

    def settle(self, error: BaseException | None = None) -> None:
        """Tell the waiting request; one that went away (cancelled at shutdown) is not waiting."""
        _settle_all([self], error)


def _settle_all(batch: list[_Pending], error: BaseException | None = None) -> None:
    """Settle a batch: the waiters on each event loop in one call onto that loop (a call from another
    thread wakes the loop through a pipe, a system call each: once a batch, not a row)."""
    on_loops: dict[asyncio.AbstractEventLoop, list[Future[None] | asyncio.Future[None]]] = {}
    for pending in batch:
        if pending.loop is None:
            _resolve([pending.stored], error)
        else:
            on_loops.setdefault(pending.loop, []).append(pending.stored)
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    for loop, futures in on_loops.items():
        if loop is running:  # the loop committed them itself
            _resolve(futures, error)
            continue
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits there any more
            loop.call_soon_threadsafe(_resolve, futures, error)


def _resolve(futures: list[Future[None] | asyncio.Future[None]], error: BaseException | None = None) -> None:
    for future in futures:
        with contextlib.suppress(InvalidStateError, asyncio.InvalidStateError):  # cancelled: not waiting
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)


class _LoopSide:
    """One event loop's side of the log: the rows its requests gathered for the next commit and, on
    PostgreSQL, the task committing them and the loop's own connection (an asyncio connection belongs
    to the loop that opened it)."""

    __slots__ = ("connection", "engine", "gathered", "task")

    def __init__(self) -> None:
        self.gathered: list[_Pending] = []
        self.task: asyncio.Task[None] | None = None
        self.engine: AsyncEngine | None = None
        self.connection: AsyncConnection | None = None


class DecisionLog:
    """The decision rows (dicts of the `decision` table's columns) waiting for their commit: gathered by each
    event loop, which commits them itself, or queued for the committing thread."""

    def __init__(self, engine: Engine, *, queue_size: int = 1_000, batch_size: int = 500,
                 retry_after: int = 5, turn_timeout: float = 30.0, synchronous_commit: bool = False,
                 loop_engine: Callable[[], AsyncEngine] | None = None) -> None:
        """`loop_engine` makes the asyncio engine of an event loop's commits on PostgreSQL (without it
        the thread commits every row there)."""
        self.engine = engine
        # On PostgreSQL, whether a commit waits for its WAL to reach the disk (2-3 ms a commit here).
        # Off, a decision survives a crash of this service at once, and one of the database server
        # once its WAL writer has flushed (within 3 x wal_writer_delay, 600 ms by default): what
        # SQLite's synchronous=NORMAL promises for a power cut. The database is never corrupted.
        self.synchronous_commit = synchronous_commit
        self._connection: Connection | None = None  # the log's own, kept open (see _insert)
        self.batch_size = batch_size
        self.retry_after = retry_after
        self.turn_timeout = turn_timeout
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self.available = True  # False from a failed commit until the database answers again
        self.stored = 0
        self.batches = 0
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._turn_database = database if database and database != ":memory:" else None
        self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
        # Commits on the event loops (see the module's docstring). On SQLite, one writer of the log's
        # connections at a time, the thread or a loop.
        self._loop_engine = loop_engine if self._turn_database is None else None
        self.commits_on_loops = self._turn_database is not None or self._loop_engine is not None
        self._writing = threading.Lock()
        self._loop_sides: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSide] = weakref.WeakKeyDictionary()
        self._loop_connection: Connection | None = None

    # -- requests' side ----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def submit(self, row: dict[str, Any]) -> Future[None]:
        """Queue `row` for the next commit (never blocks: safe on the event loop). The future is done
        when the row is committed, or fails with DatabaseUnavailableError: then the answer is not given."""
        pending = _Pending(row)
        self._enqueue(pending)
        return cast(Future[None], pending.stored)

    async def store(self, row: dict[str, Any]) -> None:
        """Store `row` and wait, without holding the event loop, until it is committed."""
        loop = asyncio.get_running_loop()
        pending = _Pending(row, loop)
        if self.commits_on_loops and self.available and self._thread.is_alive():  # not after close()
            side = self._loop_sides.get(loop)
            if side is None:
                side = self._loop_sides[loop] = _LoopSide()
            side.gathered.append(pending)
            if len(side.gathered) == 1 and side.task is None:
                if self._loop_engine is None:
                    # After the callbacks ready now: the rows of the requests this turn of the loop serves.
                    loop.call_soon(self._commit_gathered, side)
                else:
                    side.task = loop.create_task(self._commit_gathered_async(side))
        else:
            self._enqueue(pending)
        await cast(asyncio.Future[None], pending.stored)

    def _commit_gathered(self, side: _LoopSide) -> None:
        """On SQLite: commit the rows the loop gathered in this turn, on the loop, if that needs no
        waiting; else hand them to the thread."""
        batch, side.gathered = side.gathered, []
        if self.available and self._writing.acquire(blocking=False):
            try:
                if self._commit_at_once(batch):
                    return
            finally:
                self._writing.release()
        for pending in batch:
            self._enqueue(pending)

    def _commit_at_once(self, batch: list[_Pending]) -> bool:
        """Commit `batch` now if no other writer holds the file: True once committed and its requests told.
        False when the writers' turn or SQLite's write lock is another's, or the commit fails for any
        reason: nothing is committed and the thread's waits, retries and error handling take over."""
        started = time.perf_counter()
        try:
            with writers_turn_if_free(cast(str, self._turn_database)):
                conn = self._loop_connection or self._open_loop_connection()
                with conn.begin():
                    conn.execute(_insert_statement(conn.dialect.name), [pending.row for pending in batch])
        except TurnTaken:
            return False
        except Exception as exc:  # noqa: BLE001  (the thread decides what it means)
            if not _is_busy(exc):
                self._discard_loop_connection()
            return False
        self._stored(batch)
        self._log_commit(len(batch), started)
        return True

    def _open_loop_connection(self) -> Connection:
        conn = self.engine.connect()
        # No wait for SQLite's write lock on the loop: another writer's (an API write, a migration)
        # fails the try at once, and the thread waits for it instead. Set on the driver's connection:
        # through SQLAlchemy it would begin a transaction first, which waits for that lock.
        cast(sqlite3.Connection, conn.connection.driver_connection).execute("PRAGMA busy_timeout = 0")
        self._loop_connection = conn
        return conn

    def _discard_loop_connection(self) -> None:
        if self._loop_connection is not None:
            with contextlib.suppress(Exception):
                self._loop_connection.invalidate()
            self._loop_connection = None

    async def _commit_gathered_async(self, side: _LoopSide) -> None:
        """On PostgreSQL: commit what the loop gathers, one commit in flight at a time, until nothing
        is left; the rows of a commit that fails go to the thread."""
        try:
            while side.gathered:
                batch, side.gathered = side.gathered, []
                if not (self.available and await self._commit_async(side, batch)):
                    for pending in batch:
                        self._enqueue(pending)
        finally:
            side.task = None

    async def _commit_async(self, side: _LoopSide, batch: list[_Pending]) -> bool:
        """Commit `batch` on the loop's connection: True once its requests are told (committed, or refused
        when the server did not answer: waiting again in the thread would double their wait); False when it
        fails otherwise (nothing is committed, or the insert's idempotence makes the thread's retry safe).
        The loop engine's connections bound each wait for the server (BoundedAsyncConnection)."""
        started = time.perf_counter()
        try:
            conn = side.connection or await self._open_async(side)
            async with conn.begin():
                await conn.execute(_insert_statement(conn.dialect.name), [pending.row for pending in batch])
        except OperationalError as exc:
            await _discard_async(side)
            if exc.connection_invalidated:  # dropped while idle (the server restarted): the thread tries afresh
                return False
            self._refuse(batch, exc)  # down or stuck: what the thread's own try would find
            return True
        except Exception:  # noqa: BLE001  (the thread decides what it means)
            await _discard_async(side)
            return False
        self._stored(batch)
        self._log_commit(len(batch), started)
        return True

    async def _open_async(self, side: _LoopSide) -> AsyncConnection:
        if side.engine is None:
            side.engine = cast(Callable[[], AsyncEngine], self._loop_engine)()
        conn = await side.engine.connect()
        if not self.synchronous_commit:
            await conn.exec_driver_sql("SET synchronous_commit = off")  # as the thread's connection
        await conn.commit()
        side.connection = conn
        return conn

    async def close_on_loop(self) -> None:
        """Close the running loop's own connection (the lifespan's exit, before `close`)."""
        side = self._loop_sides.pop(asyncio.get_running_loop(), None)
        if side is None:
            return
        if side.task is not None:
            with contextlib.suppress(Exception):
                await side.task
        if side.connection is not None:
            with contextlib.suppress(Exception):
                await side.connection.close()
        if side.engine is not None:
            await side.engine.dispose()

    def _enqueue(self, pending: _Pending) -> None:
        if not self.available or not self._thread.is_alive():
            pending.stored.set_exception(self._unavailable())
            return
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            pending.stored.set_exception(self._unavailable("the decision log is full"))

    def store_blocking(self, row: dict[str, Any]) -> None:
        """`store` for a worker thread (the synchronous routes)."""
        self.submit(row).result()

    def _unavailable(self, why: str = "the decision log's database is not reachable") -> DatabaseUnavailableError:
        return DatabaseUnavailableError(f"The answer was not given: {why}; retry in {self.retry_after} s.",
                                        retry_after=self.retry_after)

    def close(self, timeout: float = 3.0) -> None:
        """Commit what is queued, then stop the thread. uvicorn calls the lifespan's exit after the
        requests in flight, so nothing should be waiting; a thread stuck on a frozen database is not
        waited for beyond `timeout` (it is a daemon, and no answer depends on it any more)."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)
        self._thread.join(timeout)
        self._fail_queued()
        if self._writing.acquire(timeout=timeout):  # not while a commit is stuck on a frozen database
            self._discard_loop_connection()
            self._writing.release()
        if not self._thread.is_alive():
            self._discard()
        log.info("decision log stopped", extra={"fields": {
            "message": "decision log stopped", "stored": self.stored, "batches": self.batches}})

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if item is _PROBE:
                if not self.available:
                    self._wait_for_database()
                continue
            batch = [item]
            stop = False
            while len(batch) < self.batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                if item is not _PROBE:  # the batch's commit finds out whether the database answers
                    batch.append(item)
            try:
                with self._writing:
                    self._commit(batch)
            except Exception as exc:
                # A bug, not the database: without this the thread would end, and the batch's
                # requests would wait for ever. They fail (a 500 each); the log goes on.
                log.exception("decision batch failed", extra={"fields": {
                    "message": "decision batch failed", "rows": len(batch), "error": type(exc).__name__}})
                _settle_all(batch, exc)
            if not self.available:
                self._wait_for_database()
            if stop:
                return

    def _commit(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            self._insert([pending.row for pending in batch])
        except DATABASE_UNAVAILABLE as exc:
            self._refuse(batch, exc)
            return
        except DBAPIError:
            self._commit_one_by_one(batch)
            return
        self._stored(batch)
        self._log_commit(len(batch), started)

    @staticmethod
    def _log_commit(rows: int, started: float) -> None:
        if log.isEnabledFor(logging.DEBUG):  # the stall timeline (bench/stalls.py) reads these
            log.debug("decisions committed", extra={"fields": {
                "message": "decisions committed", "rows": rows, "at": time.time(),
                "duration_ms": round((time.perf_counter() - started) * 1000, 3)}})

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert `rows` in one transaction, on the log's own connection: kept open, it spares each
        commit a pool checkout and its liveness ping (on PostgreSQL a third of a commit's time). A
        connection found broken (the server restarted while it sat idle) is replaced once before the
        error counts."""
        for attempt in (1, 2):
            conn = self._open()
            try:
                with self._turn(), conn.begin():
                    conn.execute(_insert_statement(conn.dialect.name), rows)
                return
            except DBAPIError as exc:
                if exc.connection_invalidated or isinstance(exc, DATABASE_UNAVAILABLE):
                    self._discard()
                    if exc.connection_invalidated and attempt == 1:
                        continue
                raise

    def _open(self) -> Connection:
        if self._connection is None:
            conn = self.engine.connect()
            if self.engine.dialect.name == "postgresql" and not self.synchronous_commit:
                conn.exec_driver_sql("SET synchronous_commit = off")  # this connection's commits only
            conn.commit()
            self._connection = conn
        return self._connection

    def _discard(self) -> None:
        """Drop the connection for good (never back to the pool, where its setting would stay)."""
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.invalidate()
            self._connection = None

    def _stored(self, batch: list[_Pending]) -> None:
        self.stored += len(batch)
        self.batches += 1
        _settle_all(batch)

    def _commit_one_by_one(self, batch: list[_Pending]) -> None:
        """A refused batch, row by row: a row whose client or company was deleted meanwhile is stored
        without it; a row refused for any other reason (none is known) fails its own request."""
        for pending in batch:
            row = pending.row
            for attempt in (row, {**row, "client_id": None, "company_id": None}):
                try:
                    self._insert([attempt])
                except DATABASE_UNAVAILABLE as exc:
                    self._refuse([pending], exc)
                except IntegrityError:
                    continue
                except DBAPIError as exc:
                    log.error("decision refused by the database", extra={"fields": {
                        "message": "decision refused by the database", "decision_id": str(row["id"]),
                        "error": type(exc.orig).__name__}})
                    pending.settle(exc)
                else:
                    self._stored([pending])
                break
            else:
                pending.settle(self._unavailable("the decision could not be stored"))

    def _refuse(self, batch: list[_Pending], exc: Exception) -> None:
        """The database went away during `batch`'s commit (on the thread or on a loop): its requests, and
        the queued ones, are refused now rather than after the outage, and the thread probes the database
        until it answers."""
        if self.available:
            log.warning("decision log: database unavailable", extra={"fields": {
                "message": "decision log: database unavailable", "error": type(exc).__name__}})
        self.available = False
        _settle_all(batch, self._unavailable())
        self._fail_queued()
        if threading.current_thread() is not self._thread:  # the thread probes after its own batch anyway
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_PROBE)

    def _fail_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is _STOP:
                self._queue.put_nowait(_STOP)  # room: this one was just taken out
                return
            if item is not _PROBE:
                item.settle(self._unavailable())

    def _wait_for_database(self) -> None:
        """Probe until the database answers (backing off to once a second), then take requests again.
        A stop request ends the wait."""
        delay = 0.05
        while True:
            time.sleep(delay)
            try:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except DATABASE_UNAVAILABLE:
                delay = min(delay * 2, 1.0)
                if self._stop_requested():
                    return
                continue
            break
        log.info("decision log: database available again", extra={"fields": {
            "message": "decision log: database available again"}})
        self.available = True

    def _stop_requested(self) -> bool:
        with self._queue.mutex:
            return any(item is _STOP for item in self._queue.queue)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """On an SQLite file, the logs of every worker process (and the checkpointers' restarts of the log) take
        turns (app/db/session.py `writers_turn`). PostgreSQL needs no such thing."""
        if self._turn_database is None:
            yield
            return
        with writers_turn(self._turn_database, timeout=self.turn_timeout):
            yield


def _is_busy(exc: Exception) -> bool:
    """SQLite's write lock was another connection's (SQLITE_BUSY, in any of its extended forms)."""
    code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


async def _discard_async(side: _LoopSide) -> None:
    """Drop a loop's connection after a failure: its state is unknown (a commit may have timed out)."""
    if side.connection is not None:
        with contextlib.suppress(Exception):
            await side.connection.invalidate()
        side.connection = None
