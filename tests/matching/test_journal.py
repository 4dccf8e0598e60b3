"""The decision journal: what the database did not take before the process had to exit is kept in a
local file, and written to the database at the next start, exactly and once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from app.db.models import Decision
from app.db.session import make_engine, make_session_factory
from app.matching.journal import DecisionJournal, dump_row, load_row
from app.matching.writer import DecisionWriter
from tests.conftest import ON_POSTGRES
from tests.matching.test_writer import row


@pytest.fixture
def ruleset(app, client) -> Any:
    return app.state.rules.current


def stored(factory: Any, ids: list[Any]) -> dict[Any, Decision]:
    with factory() as session:
        return {d.id: d for d in session.scalars(select(Decision).where(Decision.id.in_(ids)))}


def test_a_row_survives_the_journal_exactly(ruleset: Any) -> None:
    original = row(ruleset)
    back = load_row(dump_row(original))
    assert back == original
    assert str(back["results"]) == str(original["results"])  # the bytes as sent


def test_what_the_database_does_not_take_at_close_is_journalled_and_stored_at_the_next_start(
        database_url: str, ruleset: Any, tmp_path: Path) -> None:
    journal = DecisionJournal(tmp_path / "decisions.journal")
    engine = make_engine(database_url)

    def down(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO DECISION"):
            raise OperationalError(statement, None, ConnectionRefusedError("the database is down"))

    event.listen(engine, "before_cursor_execute", down)
    writer = DecisionWriter(engine, journal=journal, flush_timeout=0.5)
    writer.start()
    rows = [row(ruleset) for _ in range(7)]
    assert all(writer.offer(r) for r in rows)
    started = time.monotonic()
    writer.close()
    assert time.monotonic() - started < 5  # the flush timeout, not a wait for the database
    assert writer.journaled == 7 and writer.lost == 0
    assert len(journal.path.read_bytes().splitlines()) == 7
    engine.dispose()

    engine = make_engine(database_url)  # the next start, with the database back
    factory = make_session_factory(engine)
    try:
        again = DecisionWriter(engine, journal=journal)
        assert again.replay_journal() == 7
        assert journal.path.read_bytes() == b""
        found = stored(factory, [r["id"] for r in rows])
        assert set(found) == {r["id"] for r in rows}
        assert all(orjson_equal(found[r["id"]].results, r["results"]) for r in rows)
        # Replaying the same lines again (a start that died before emptying the file) doubles nothing.
        journal.append(rows)
        assert again.replay_journal() == 7
        assert len(stored(factory, [r["id"] for r in rows])) == 7
    finally:
        with factory() as session:
            for r in rows:
                session.execute(Decision.__table__.delete().where(Decision.id == r["id"]))
            session.commit()
        engine.dispose()


def orjson_equal(stored_answer: Any, sent: Any) -> bool:
    import orjson

    return stored_answer == orjson.loads(str(sent))


def test_a_torn_last_line_is_skipped(ruleset: Any, tmp_path: Path) -> None:
    journal = DecisionJournal(tmp_path / "decisions.journal")
    journal.append([row(ruleset)])
    with journal.path.open("ab") as file:
        file.write(dump_row(row(ruleset))[:100])  # power lost mid-write
    written: list[Any] = []
    assert journal.replay(written.extend) == 1
    assert len(written) == 1


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only")
def test_a_server_that_does_not_answer_is_given_up_on_our_side(database_url: str) -> None:
    """No statement timeout on the server, which answers after 5 s: the connection's own bound of 0.5 s
    ends the wait, closes the connection, and the pool replaces it."""
    engine = make_engine(database_url, wait_timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="did not answer"), engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 4
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()
