"""The decision log's writer: one background thread inserting answered decisions in batches.

POST /v1/match answers without waiting for its insert: the decision id is made up front (uuid4), the
row goes into a bounded queue, and the writer thread inserts whatever has gathered in one transaction
per batch (under load the batches fill by themselves while the previous one commits). Nothing is
dropped:
- a full queue makes the request wait briefly for room, then write its own row (back-pressure);
- a failed batch (the database is down) is retried until it is in, and meanwhile `available` is
  False so new requests are refused with 503 rather than answered with a decision that cannot be
  logged; inserts are idempotent by id, so a batch whose commit was lost in transit may be retried;
- `close()` (the lifespan's exit, so also on SIGTERM through uvicorn's graceful shutdown) drains the
  queue and writes everything it can within the flush timeout; what the database did not take by then
  (down, or stuck) goes to the journal (app/matching/journal.py), written to the database at the next
  start (`replay_journal`);
- a row the database refuses for any other reason (none is known: inputs are validated so that every
  answer can be stored) goes to a file beside the journal (`.refused`) for an operator, never dropped.
Readers see their own process's decisions at once: `attach_read_barrier` makes any ORM statement on
the decision table wait for the rows queued before it (a few milliseconds under load). Another worker
process may not see a decision in the milliseconds before its batch commits.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, Insert, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.sql.util import find_tables

from app.db.models import Decision
from app.matching.journal import DecisionJournal
from app.matching.service import DATABASE_UNAVAILABLE as UNAVAILABLE

log = logging.getLogger("huiqi.decisions")

DECISION_TABLE = Decision.__table__
_STOP = object()


class DecisionWriter:
    """A bounded queue of decision rows (dicts of the `decision` table's columns) and its writer thread."""

    def __init__(self, engine: Engine, *, queue_size: int = 1_000, batch_size: int = 500,
                 put_timeout: float = 0.1, flush_timeout: float = 4.0, journal: DecisionJournal | None = None,
                 turn_timeout: float = 30.0) -> None:
        self.engine = engine
        self.journal = journal
        self.refused = DecisionJournal(journal.path.with_name(journal.path.name + ".refused")) if journal else None
        self.turn_timeout = turn_timeout
        self.batch_size = batch_size
        self.put_timeout = put_timeout
        self.flush_timeout = flush_timeout
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._done_changed = threading.Condition(self._lock)
        self._pending: dict[uuid.UUID, dict[str, Any]] = {}
        self._enqueued = 0  # rows queued so far; the thread takes them in this order
        self._done = 0  # rows of the queue written (or, at worst, given up at shutdown)
        self._closing_deadline: float | None = None
        self.available = True  # False while the database refuses the batch in hand
        self.written = 0
        self.written_directly = 0
        self.journaled = 0
        self.lost = 0
        # Idempotent by id: a batch whose commit succeeded but whose answer was lost is retried safely.
        self._statement: Insert
        if engine.dialect.name == "postgresql":
            self._statement = pg_insert(DECISION_TABLE).on_conflict_do_nothing(index_elements=["id"])
        elif engine.dialect.name == "sqlite":
            self._statement = sqlite_insert(DECISION_TABLE).on_conflict_do_nothing(index_elements=["id"])
        else:
            self._statement = DECISION_TABLE.insert()
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._turn_file = f"{database}.writer-lock" if database and database != ":memory:" else None
        self._thread = threading.Thread(target=self._run, name="decision-writer", daemon=True)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """On an SQLite file, the writers of every worker process take turns through a file lock before
        they begin. SQLite's own wait for its write lock polls with sleeps of up to 100 ms, while a writer
        that has just committed begins its next batch at once: under load one process's writer was kept
        out for seconds (measured: 3.9 s), its queue filled and requests waited. The kernel hands a
        released file lock to a waiting process. PostgreSQL needs no such thing."""
        if self._turn_file is None:
            yield
            return
        descriptor = os.open(self._turn_file, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            deadline = time.monotonic() + self.turn_timeout  # a stuck process must not hold us for ever
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OperationalError("writer turn", None, TimeoutError(self._turn_file)) from None
                    time.sleep(0.005)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    # -- producer side -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def offer(self, row: dict[str, Any]) -> bool:
        """Queue `row` if there is room (never blocks: safe on the event loop); False when full."""
        with self._lock:
            try:
                self._queue.put_nowait(row)
            except queue.Full:
                return False
            self._pending[row["id"]] = row
            self._enqueued += 1
            return True

    def submit_blocking(self, row: dict[str, Any]) -> None:
        """For a worker thread after `offer` failed: wait up to put_timeout for room, else insert `row`
        here in its own transaction (raises if the database refuses it: the caller answers 503)."""
        deadline = time.monotonic() + self.put_timeout
        while time.monotonic() < deadline:
            if self.offer(row):
                return
            time.sleep(0.005)
        with self._turn(), self.engine.begin() as conn:
            conn.execute(self._statement, [row])
        with self._lock:
            self.written_directly += 1

    def pending(self, decision_id: uuid.UUID) -> dict[str, Any] | None:
        """The queued row of `decision_id`, if it is not written yet."""
        with self._lock:
            return self._pending.get(decision_id)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every row queued before this call is written; False on timeout."""
        deadline = time.monotonic() + (self.flush_timeout if timeout is None else timeout)
        with self._lock:
            target = self._enqueued
            while self._done < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._done_changed.wait(remaining)
        return True

    def close(self, timeout: float | None = None) -> None:
        """Write everything queued, then stop the thread. After `timeout` (the database is down, or
        stuck), whatever is not written yet goes to the journal; without one, it is logged as lost."""
        timeout = self.flush_timeout if timeout is None else timeout
        if not self._thread.is_alive():
            return
        deadline = self._closing_deadline = time.monotonic() + timeout
        with self._lock:
            queued = self._enqueued - self._done
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)  # the thread is draining: room appears, unless it is stuck
        self._thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = list(self._pending.values())  # queued, or in a batch the database has not taken
        if left and self.journal is not None:
            self.journaled += self.journal.append(left)
        elif left:
            self.lost += len(left)
        log.info("decision writer stopped", extra={"fields": {
            "message": "decision writer stopped", "queued_at_close": queued, "written": self.written,
            "written_directly": self.written_directly, "journaled": self.journaled, "lost": self.lost}})

    def replay_journal(self) -> int:
        """At start-up, before the thread starts: write the journalled decisions (idempotent by id), then
        empty the journal. Raises if the database is unavailable (the journal is kept)."""
        if self.journal is None:
            return 0
        replayed = self.journal.replay(self._write_now)
        if replayed:
            log.warning("decision journal replayed", extra={"fields": {
                "message": "decision journal replayed", "decisions": replayed, "path": str(self.journal.path)}})
        return replayed

    def _write_now(self, rows: list[dict[str, Any]]) -> None:
        try:
            with self._turn(), self.engine.begin() as conn:
                conn.execute(self._statement, rows)
        except UNAVAILABLE:
            raise
        except DBAPIError:
            self._write_one_by_one(rows)

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < self.batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        delay = 0.05
        one_by_one = False
        while True:
            try:
                if one_by_one:
                    written = self._write_one_by_one(batch)
                else:
                    with self._turn(), self.engine.begin() as conn:
                        conn.execute(self._statement, batch)
                    written = len(batch)
                break
            except UNAVAILABLE as exc:
                if self.available:
                    log.warning("decision log: database unavailable, retrying", extra={"fields": {
                        "message": "decision log: database unavailable, retrying",
                        "error": type(exc).__name__, "queued": self._queue.qsize() + len(batch)}})
                self.available = False
                if self._closing_deadline is not None and time.monotonic() > self._closing_deadline:
                    return  # the batch stays pending: close() journals it
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except DBAPIError:
                one_by_one = True  # one bad row (never seen so far): find it, write the others
        with self._lock:
            for row in batch:
                self._pending.pop(row["id"], None)
            self._done += len(batch)
            self.written += written
            self._done_changed.notify_all()
        if not self.available:
            log.info("decision log: database available again", extra={"fields": {
                "message": "decision log: database available again"}})
            self.available = True

    def _write_one_by_one(self, batch: list[dict[str, Any]]) -> int:
        """Write a refused batch row by row (idempotent, so rows already in are skipped). A row whose
        client was deleted meanwhile is logged as the deletion would have left it (ON DELETE SET NULL);
        a row refused for any other reason is given up, and logged. Unavailability propagates."""
        written = 0
        for row in batch:
            for attempt in (row, {**row, "client_id": None, "company_id": None}):
                try:
                    with self._turn(), self.engine.begin() as conn:
                        conn.execute(self._statement, [attempt])
                except UNAVAILABLE:
                    raise
                except IntegrityError:
                    continue
                except DBAPIError:
                    self._give_up([row])
                else:
                    written += 1
                break
            else:
                self._give_up([row])
        return written

    def _give_up(self, rows: list[dict[str, Any]]) -> None:
        """Rows the database refused for a reason other than being unavailable: kept for an operator."""
        kept = self.refused.append(rows) if self.refused is not None else 0
        self.lost += len(rows) - kept
        log.error("decision log: decisions refused by the database", extra={"fields": {
            "message": "decision log: decisions refused by the database", "count": len(rows),
            "kept_in": str(self.refused.path) if kept and self.refused is not None else None,
            "decision_ids": [str(row["id"]) for row in rows]}})


def attach_read_barrier(factory: sessionmaker[Session], writer: DecisionWriter) -> None:
    """Make ORM statements on the decision table (reads, and the deletes of tests) first wait for the
    decisions this process has queued, so a just-answered decision is always found."""

    @event.listens_for(factory, "do_orm_execute")
    def _barrier(state: ORMExecuteState) -> None:
        if not writer.has_pending or not writer.available:
            return
        if any(getattr(table, "name", None) == DECISION_TABLE.name
               # ORMExecuteState types its statement as Executable; every one is also a ClauseElement
               for table in find_tables(state.statement, include_crud=True)):  # type: ignore[arg-type]
            writer.flush()
