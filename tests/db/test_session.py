"""The embedded SQLite database is set up for concurrent use: write-ahead log, foreign keys on."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.db.session import WalCheckpointer, make_engine, writers_turn


def test_an_sqlite_file_is_opened_in_write_ahead_log_mode_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'huiqi.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
    finally:
        engine.dispose()


def test_with_background_checkpoints_no_commit_checkpoints_and_the_checkpointer_copies_the_log(tmp_path) -> None:
    path = tmp_path / "huiqi.db"
    engine = make_engine(f"sqlite:///{path}", background_checkpoints=True)
    wal = Path(f"{path}-wal")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (body TEXT)"))
        for _ in range(300):  # ~2,400 pages: SQLite's own checkpoint would have run at 1,000
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:body)"), {"body": "x" * 32_000})
        # No commit copied the log back: it holds every row, and the database file none of them.
        assert wal.stat().st_size > 9_000_000 and path.stat().st_size < 100_000
        checkpointer = WalCheckpointer.for_engine(engine)
        assert checkpointer is not None
        checkpointer.interval = 0.01
        checkpointer.start()
        deadline = time.monotonic() + 10
        while path.stat().st_size < 9_000_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        checkpointer.stop()
        assert path.stat().st_size > 9_000_000 and checkpointer.checkpoints > 0  # copied by the thread
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 300
        # Past its bound the log starts over: the next commit is written at its beginning, and the file
        # does not grow however many rows follow.
        bounded = WalCheckpointer(str(path), restart_after_bytes=1)
        size = wal.stat().st_size
        with sqlite3.connect(path, isolation_level=None) as connection:
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            for _ in range(600):  # twice the rows the log holds
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t VALUES (:body)"), {"body": "x" * 32_000})
                bounded.checkpoint(connection, page_size)
        assert wal.stat().st_size <= size
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 900
    finally:
        engine.dispose()


def test_an_engine_without_background_checkpoints_keeps_sqlites_own(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'huiqi.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 1000
    finally:
        engine.dispose()
    assert WalCheckpointer.for_engine(make_engine("sqlite://")) is None  # in memory: no log to copy


def held_by_another(path: Path) -> int:
    """The writers' lock of `path` taken through another open file (as another process would hold it)."""
    descriptor = os.open(f"{path}.writer-lock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return descriptor


def free(path: Path) -> bool:
    """Whether another open file could take the writers' lock of `path` now."""
    descriptor = os.open(f"{path}.writer-lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)


def test_a_writer_waiting_for_its_turn_gets_it_when_the_holder_lets_go_and_keeps_it_until_done(tmp_path) -> None:
    database = tmp_path / "huiqi.db"
    holder = held_by_another(database)
    inside = threading.Event()
    leave = threading.Event()

    def writer() -> None:
        with writers_turn(str(database), timeout=10):
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert not inside.wait(0.2)  # the holder has it
    os.close(holder)
    assert inside.wait(5)  # handed over without the holder doing anything more
    assert not free(database)  # the waiter holds it now…
    leave.set()
    thread.join(5)
    assert free(database)  # …until its turn ends


def test_a_writer_that_waits_past_its_timeout_gives_up_and_keeps_no_lock(tmp_path) -> None:
    database = tmp_path / "huiqi.db"
    holder = held_by_another(database)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="writers' turn"), writers_turn(str(database), timeout=0.3):
        pass
    assert 0.3 <= time.monotonic() - started < 5
    os.close(holder)
    for waiting in [thread for thread in threading.enumerate() if thread.name == "writers-turn"]:
        waiting.join(5)  # the abandoned wait gets the lock once it is free…
    assert free(database)  # …and drops it at once


def test_a_writer_that_cannot_start_its_waiting_thread_is_refused_its_turn_not_left_hanging(tmp_path,
                                                                                           monkeypatch) -> None:
    database = tmp_path / "huiqi.db"
    holder = held_by_another(database)

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    with pytest.raises(OperationalError, match="writers' turn"), writers_turn(str(database), timeout=10):
        pass
    monkeypatch.undo()
    os.close(holder)
    assert free(database)
