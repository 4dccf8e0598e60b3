"""The decision writer: batches, read-your-writes, back-pressure, drain on close; and what the match
answer and the stored decision share (the same bytes)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from datetime import date
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from app.db.models import Decision
from app.db.session import make_engine, make_session_factory
from app.engine import Profile
from app.matching import service
from app.matching.writer import DecisionWriter, attach_read_barrier
from tests.conftest import ON_POSTGRES

PROFILE = {"region_code": "320506", "industry_code": "C3911", "employees": 80,
           "annual_revenue": 30000000, "export_revenue": 9000000, "activities": [], "entity_type": "enterprise"}


@pytest.fixture
def ruleset(app, client) -> Any:
    return app.state.rules.current


@pytest.fixture
def writer_for(database_url, client):  # type: ignore[no-untyped-def]
    """writer_for(**options) → a started writer on the test database (closed at the end), and its sessions."""
    made: list[tuple[DecisionWriter, Any]] = []

    def make(**options: Any) -> tuple[DecisionWriter, Any]:
        engine = make_engine(database_url)
        factory = make_session_factory(engine)
        writer = DecisionWriter(engine, **options)
        attach_read_barrier(factory, writer)
        writer.start()
        made.append((writer, engine))
        return writer, factory

    yield make
    for writer, engine in made:
        writer.close(timeout=10)
        engine.dispose()


def row(ruleset: Any) -> dict[str, Any]:
    profile = Profile.model_validate(PROFILE)
    answer_json, decided = service.decide_json(ruleset, profile, as_of=date(2024, 6, 30))
    return service.decision_row(decision_id=uuid.uuid4(), answer_json=answer_json, decided=decided,
                                profile=profile, as_of=date(2024, 6, 30))


def held_back(writer: DecisionWriter) -> threading.Event:
    """Make the writer thread wait before each insert until the returned event is set (at most 5 s)."""
    gate = threading.Event()
    original = writer._write

    def slow_write(batch: list[dict[str, Any]]) -> None:
        gate.wait(5)
        original(batch)

    writer._write = slow_write  # type: ignore[method-assign]
    return gate


def count(factory: Any) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Decision))


def test_the_hot_path_answer_equals_the_plain_answer(ruleset) -> None:
    """Serialising once (no loads/dumps round trip) sends exactly what `decide` would have."""
    profile = Profile.model_validate(PROFILE)
    answer_json, decided = service.decide_json(ruleset, profile, as_of=date(2024, 6, 30))
    plain, plain_versions = service.decide(ruleset, profile, as_of=date(2024, 6, 30))
    assert orjson.loads(answer_json) == plain
    assert decided["ruleset_version"] == plain["ruleset"]["version"] and decided["rule_versions"] == plain_versions
    assert decided["outcomes"] == {result["policy_id"]: result["status"] for result in plain["results"]}


def test_a_queued_decision_is_found_by_the_next_read(writer_for, ruleset) -> None:
    writer, factory = writer_for()
    gate = held_back(writer)
    rows = [row(ruleset) for _ in range(50)]
    for r in rows:
        assert writer.offer(r)
    threading.Timer(0.3, gate.set).start()  # the writer is held back; the read below must wait for it
    with factory() as session:  # no explicit flush: the read waits for what was queued before it
        stored = session.get(Decision, rows[-1]["id"])
        assert stored is not None
        assert stored.results == orjson.loads(str(rows[-1]["results"]))
        assert stored.profile == dict(PROFILE)
    assert count(factory) == 50
    assert writer.written == 50 and writer.lost == 0


def test_a_full_queue_makes_the_caller_write_its_own_row(writer_for, ruleset) -> None:
    writer, factory = writer_for(queue_size=1, put_timeout=0.0)
    # Hold the writer thread before its insert, and fill its queue meanwhile.
    gate = held_back(writer)
    first, second, third = row(ruleset), row(ruleset), row(ruleset)
    assert writer.offer(first)  # taken by the thread, which waits at the gate
    deadline = time.monotonic() + 5
    while writer._queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert writer.offer(second)  # fills the queue
    assert not writer.offer(third)
    writer.submit_blocking(third)  # no room within put_timeout: written here, at once
    assert writer.written_directly == 1
    gate.set()
    assert writer.flush(5)
    assert count(factory) == 3


def test_close_writes_everything_queued(writer_for, ruleset, database_url) -> None:
    writer, _ = writer_for()
    ids = []
    for _ in range(300):
        r = row(ruleset)
        ids.append(r["id"])
        assert writer.offer(r)
    writer.close(timeout=10)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        stored = session.scalars(select(Decision.id).where(Decision.id.in_(ids))).all()
    engine.dispose()
    assert len(stored) == 300


def test_a_row_whose_client_was_deleted_is_kept_without_it(writer_for, ruleset) -> None:
    writer, factory = writer_for()
    orphan = {**row(ruleset), "client_id": uuid.uuid4()}  # no such client: the foreign key refuses it
    good = row(ruleset)
    assert writer.offer(orphan) and writer.offer(good)
    assert writer.flush(5)
    with factory() as session:
        assert session.get(Decision, orphan["id"]).client_id is None
        assert session.get(Decision, good["id"]) is not None
    assert writer.lost == 0


def test_retrying_a_batch_already_in_writes_nothing_twice(writer_for, ruleset) -> None:
    writer, factory = writer_for()
    r = row(ruleset)
    assert writer.offer(r)
    assert writer.flush(5)
    assert writer.offer(dict(r))  # the same id again, as after a commit whose answer was lost
    assert writer.flush(5)
    assert count(factory) == 1 and writer.lost == 0


def test_match_logs_through_the_writer_and_reads_back_at_once(client, app) -> None:
    before = app.state.decision_writer.written
    answers = [client.post("/v1/match", json={"profile": PROFILE, "as_of": "2024-06-30"}) for _ in range(5)]
    for response in answers:
        assert response.status_code == 200
        decision_id = response.json()["decision_id"]
        stored = client.get(f"/v1/decisions/{decision_id}").json()
        assert stored["answer"] == {k: v for k, v in response.json().items() if k != "decision_id"}
    assert app.state.decision_writer.written >= before + 5


def test_match_is_refused_with_503_while_the_log_is_unavailable(client, app) -> None:
    writer = app.state.decision_writer
    writer.available = False
    try:
        response = client.post("/v1/match", json={"profile": PROFILE})
    finally:
        writer.available = True
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"] == "/problems/database-unavailable"


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's writers take turns through a file; PostgreSQL needs none")
def test_sqlite_writers_of_every_process_take_turns_through_a_file_lock(writer_for, ruleset) -> None:
    first, factory = writer_for()
    second, _ = writer_for()
    with first._turn():
        other = os.open(f"{first.engine.url.database}.writer-lock", os.O_RDWR)
        try:  # another holder (another process's writer) must wait for its turn
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
        before = count(factory)
        second.offer(row(ruleset))
        time.sleep(0.3)
        assert count(factory) == before  # the second writer waits for the turn…
    assert second.flush(timeout=10) and count(factory) == before + 1  # …and writes once it is free
