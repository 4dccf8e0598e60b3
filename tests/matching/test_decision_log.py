"""The decision log: an answer is given only once its decision is committed; concurrent requests share
a commit; a database that goes away refuses answers at once and is taken back when it answers; and
what the answer and the stored decision share (the same bytes)."""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import sqlite3
import threading
import time
import uuid
from datetime import date
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from app.db.models import Decision
from app.db.session import make_async_engine, make_engine, make_session_factory, writers_turn
from app.engine import RESULT_TEXT_FIELDS, Profile, build_ruleset
from app.errors import DatabaseUnavailableError
from app.matching import service
from app.matching.decision_log import DecisionLog
from tests.conftest import ON_POSTGRES, ROOT
from tests.helpers import run_coroutine

PROFILE = {"region_code": "320506", "industry_code": "C3911", "employees": 80,
           "annual_revenue": 30000000, "export_revenue": 9000000, "activities": [], "entity_type": "enterprise"}
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/test"  # the discard port: nothing listens


@pytest.fixture
def ruleset(app, client) -> Any:
    return app.state.rules.current


@pytest.fixture
def log_for(database_url, client):  # type: ignore[no-untyped-def]
    """log_for(url=None, **options) → a started decision log (closed at the end), and sessions on the test database."""
    made: list[tuple[DecisionLog, Any]] = []
    factory = make_session_factory(make_engine(database_url))

    def make(url: str | None = None, **options: Any) -> tuple[DecisionLog, Any]:
        url = url or database_url
        engine = make_engine(url, connect_timeout=1)
        if engine.dialect.name == "postgresql":  # as the service makes it (app/main.py)
            options.setdefault("loop_engine", functools.partial(make_async_engine, url, connect_timeout=1))
        decisions = DecisionLog(engine, **options)
        decisions.start()
        made.append((decisions, engine))
        return decisions, factory

    yield make
    for decisions, engine in made:
        decisions.close(timeout=10)
        engine.dispose()


def row(ruleset: Any) -> dict[str, Any]:
    return service.match(ruleset, Profile.model_validate(PROFILE), as_of=date(2024, 6, 30)).row


def stored_answer_of(r: dict[str, Any], ruleset: Any) -> bytes:
    """The answer that was sent for a row made by `row` (decided again: the same profile and date)."""
    return service.match(ruleset, Profile.model_validate(PROFILE), as_of=r["as_of"]).answer_json


def held_back(decisions: DecisionLog) -> threading.Event:
    """Make the log's thread wait before each commit until the returned event is set (at most 5 s)."""
    gate = threading.Event()
    original = decisions._commit

    def slow_commit(batch: list[Any]) -> None:
        gate.wait(5)
        original(batch)

    decisions._commit = slow_commit  # type: ignore[method-assign]
    return gate


def count(factory: Any) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Decision))


def test_the_answer_sent_is_the_answer_decided_and_stored(ruleset) -> None:
    """Serialising once (no loads/dumps round trip) sends exactly what `decide` would have, and stores it."""
    profile = Profile.model_validate(PROFILE)
    matched = service.match(ruleset, profile, as_of=date(2024, 6, 30))
    plain, plain_versions = service.decide(ruleset, profile, as_of=date(2024, 6, 30))
    assert matched.answer() == plain
    logged = orjson.loads(matched.row["results"])  # each rule version's texts are kept with the rule
    assert logged == {**plain, "results": [{k: v for k, v in result.items() if k not in RESULT_TEXT_FIELDS}
                                           for result in plain["results"]]}
    assert matched.row["rule_versions"] == plain_versions
    assert matched.row["outcomes"] == {result["policy_id"]: result["status"] for result in plain["results"]}
    body = orjson.loads(matched.body(company_id="c"))
    assert list(body)[:2] == ["decision_id", "company_id"] and body["decision_id"] == str(matched.decision_id)


def test_a_decision_is_in_the_table_when_its_answer_may_be_given(log_for, ruleset) -> None:
    decisions, factory = log_for()
    rows = [row(ruleset) for _ in range(20)]
    futures = [decisions.submit(r) for r in rows]
    for r, future in zip(rows, futures, strict=True):
        future.result(timeout=10)
        with factory() as session:  # another connection, no barrier: it is committed
            stored = session.get(Decision, r["id"])
            assert stored is not None and stored.profile == dict(PROFILE)
            assert stored.results == orjson.loads(r["results"])
            assert service.logged_answer(session, stored, current=ruleset) == orjson.loads(
                stored_answer_of(r, ruleset))


def test_requests_waiting_together_share_one_commit(log_for, ruleset) -> None:
    decisions, factory = log_for()
    gate = held_back(decisions)
    first = decisions.submit(row(ruleset))  # taken by the thread, which waits at the gate
    deadline = time.monotonic() + 5
    while decisions._queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.001)
    waiting = [decisions.submit(row(ruleset)) for _ in range(50)]
    assert not any(f.done() for f in [first, *waiting])  # nobody is answered before the commit
    gate.set()
    for future in [first, *waiting]:
        future.result(timeout=10)
    assert decisions.batches == 2 and decisions.stored == 51
    assert count(factory) == 51


def counting_wakeups(loop: asyncio.AbstractEventLoop) -> list[int]:
    """Count the calls onto `loop` from other threads (each wakes it through a pipe): [count]."""
    wakeups = [0]
    wake = loop.call_soon_threadsafe

    def counted(*args: Any) -> Any:
        wakeups[0] += 1
        return wake(*args)

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign, assignment]
    return wakeups


@pytest.mark.skipif(ON_POSTGRES, reason="on PostgreSQL a loop commits beside the thread")
def test_on_sqlite_an_event_loop_s_rows_wait_for_the_writing_thread_and_are_answered_together(log_for, ruleset) -> None:
    """While the thread writes (here held at a gate), the rows of an event loop's requests wait in its
    queue and are answered together once their own commit is done."""
    decisions, factory = log_for()
    gate = held_back(decisions)
    first = decisions.submit(row(ruleset))  # taken by the thread, which waits at the gate
    deadline = time.monotonic() + 5
    while decisions._queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.001)

    async def waiting_together() -> tuple[list[Any], int]:
        wakeups = counting_wakeups(asyncio.get_running_loop())
        tasks = [asyncio.ensure_future(decisions.store(row(ruleset))) for _ in range(50)]
        gone = tasks.pop()  # its request goes away (the server stops): the others are answered all the same
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in tasks)  # nobody is answered before the commit
        gone.cancel()
        gate.set()
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10), wakeups[0]

    answers, wakeups = run_coroutine(waiting_together())
    first.result(timeout=10)
    assert answers == [None] * 49
    assert decisions.batches == 2 and count(factory) == 51  # the cancelled one's decision is stored too
    assert wakeups == 1  # the loop is woken once a commit, not once a decision


def test_rows_an_event_loop_fails_to_commit_are_committed_by_the_thread(log_for, ruleset) -> None:
    """A commit that fails on the loop for a reason other than the database (here its connection cannot
    be made; the thread's can) loses nothing: the thread commits the rows, their requests are answered,
    and the log stays available."""
    def no_connection() -> Any:
        raise RuntimeError("no connection")

    decisions, factory = log_for(loop_engine=no_connection)
    if not ON_POSTGRES:
        decisions._open_loop_connection = no_connection  # type: ignore[method-assign]
    rows = [row(ruleset) for _ in range(10)]

    async def stored() -> list[Any]:
        return await asyncio.wait_for(asyncio.gather(*(decisions.store(r) for r in rows)), 20)

    assert run_coroutine(stored()) == [None] * 10
    assert count(factory) == 10 and decisions.available


def test_an_event_loop_commits_its_requests_rows_itself(log_for, ruleset) -> None:
    """Without another thread: on SQLite the rows of one turn of the loop in one commit; on PostgreSQL
    one commit in flight at a time, awaited, the rows gathered meanwhile in the next."""
    decisions, factory = log_for()
    thread_commits = held_back(decisions)  # the thread would wait here: it must not be needed

    async def stored_together() -> tuple[list[Any], int]:
        wakeups = counting_wakeups(asyncio.get_running_loop())
        rows = [row(ruleset) for _ in range(30)]
        answers = await asyncio.wait_for(asyncio.gather(*(decisions.store(r) for r in rows)), 10)
        with factory() as session:  # committed when the requests may answer
            assert all(session.get(Decision, r["id"]) is not None for r in rows)
        await decisions.close_on_loop()
        return answers, wakeups[0]

    answers, wakeups = run_coroutine(stored_together())
    assert answers == [None] * 30 and count(factory) == 30
    assert decisions.batches == 1 if not ON_POSTGRES else 1 <= decisions.batches <= 2
    assert wakeups == 0  # no other thread was involved
    assert not thread_commits.is_set()


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's writers take turns through a file; PostgreSQL needs none")
@pytest.mark.parametrize("holder", ["writers' turn", "SQLite's write lock"])
def test_on_sqlite_an_event_loop_never_waits_for_another_writer(log_for, ruleset, holder) -> None:
    """With the file another writer's, the loop goes on serving while the thread waits for its turn."""
    decisions, factory = log_for()
    database = decisions.engine.url.database
    release = threading.Event()
    held = threading.Event()

    def other_writer() -> None:
        if holder == "writers' turn":  # another process's decision log, mid-commit
            with writers_turn(database, timeout=5):
                held.set()
                release.wait(10)
        else:  # any other writer of the file (an API write, a migration)
            other = sqlite3.connect(database, timeout=5)
            other.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(10)
            other.rollback()
            other.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert held.wait(5)

    async def served_meanwhile() -> int:
        stored = asyncio.ensure_future(decisions.store(row(ruleset)))
        ticks = 0
        while ticks < 20:  # the loop keeps turning while the row waits
            await asyncio.sleep(0.005)
            ticks += 1
        assert not stored.done()
        release.set()
        await asyncio.wait_for(stored, 10)
        return ticks

    try:
        assert run_coroutine(served_meanwhile()) == 20
    finally:
        release.set()
        writer.join()
    assert count(factory) == 1


def test_a_request_on_an_event_loop_is_refused_while_the_database_is_unreachable(log_for, ruleset) -> None:
    decisions, _ = log_for(UNREACHABLE)
    with pytest.raises(DatabaseUnavailableError):
        run_coroutine(asyncio.wait_for(decisions.store(row(ruleset)), 10))
    with pytest.raises(DatabaseUnavailableError):  # and at once after that
        run_coroutine(asyncio.wait_for(decisions.store(row(ruleset)), 0.5))


def test_a_batch_that_fails_for_no_database_reason_fails_its_requests_and_the_log_goes_on(log_for, ruleset) -> None:
    decisions, factory = log_for()
    original = decisions._insert

    def broken_once(rows: list[Any]) -> None:
        decisions._insert = original  # type: ignore[method-assign]
        raise TypeError("a bug")

    decisions._insert = broken_once  # type: ignore[method-assign]
    with pytest.raises(TypeError):
        decisions.submit(row(ruleset)).result(timeout=10)  # answered with the error, not left waiting
    after = row(ruleset)
    decisions.submit(after).result(timeout=10)
    with factory() as session:
        assert session.get(Decision, after["id"]) is not None


def test_a_full_log_refuses_at_once(log_for, ruleset) -> None:
    decisions, _ = log_for(queue_size=1)
    gate = held_back(decisions)
    decisions.submit(row(ruleset))
    deadline = time.monotonic() + 5
    while decisions._queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.001)
    queued = decisions.submit(row(ruleset))
    refused = decisions.submit(row(ruleset))
    with pytest.raises(DatabaseUnavailableError, match="full"):
        refused.result(timeout=0)
    gate.set()
    queued.result(timeout=10)


def test_close_commits_what_is_queued(log_for, ruleset, database_url) -> None:
    decisions, factory = log_for()
    futures = [decisions.submit(row(ruleset)) for _ in range(300)]
    decisions.close(timeout=10)
    assert all(f.done() and f.exception() is None for f in futures)
    assert count(factory) == 300


def test_a_row_whose_client_was_deleted_is_stored_without_it(log_for, ruleset) -> None:
    decisions, factory = log_for()
    orphan = {**row(ruleset), "client_id": uuid.uuid4()}  # no such client: the foreign key refuses it
    good = row(ruleset)
    futures = [decisions.submit(orphan), decisions.submit(good)]
    for future in futures:
        future.result(timeout=10)
    with factory() as session:
        assert session.get(Decision, orphan["id"]).client_id is None
        assert session.get(Decision, good["id"]) is not None


def test_the_same_decision_twice_is_stored_once(log_for, ruleset) -> None:
    decisions, factory = log_for()
    r = row(ruleset)
    decisions.submit(r).result(timeout=10)
    decisions.submit(dict(r)).result(timeout=10)  # as after a commit whose acknowledgement was lost
    assert count(factory) == 1


def test_an_unreachable_database_refuses_answers_until_it_answers_again(log_for, ruleset, database_url) -> None:
    decisions, factory = log_for(UNREACHABLE)
    refused_row = row(ruleset)
    lost = decisions.submit(refused_row)
    with pytest.raises(DatabaseUnavailableError) as refused:
        lost.result(timeout=10)
    assert int(refused.value.headers["Retry-After"]) > 0
    assert not decisions.available
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError):  # refused at once, not after another connect timeout
        decisions.submit(row(ruleset)).result(timeout=10)
    assert time.monotonic() - started < 0.5
    decisions.engine = make_engine(database_url)  # the database is back
    deadline = time.monotonic() + 10
    while not decisions.available and time.monotonic() < deadline:
        time.sleep(0.05)
    back = row(ruleset)
    decisions.submit(back).result(timeout=10)
    with factory() as session:
        assert session.get(Decision, back["id"]) is not None
        assert session.get(Decision, refused_row["id"]) is None  # refused, so never answered


@pytest.mark.parametrize("lang", ["both", "en"])
def test_a_logged_answer_reads_back_as_sent_when_its_rule_versions_no_longer_serve(client, app, lang) -> None:
    """The texts of rule versions that are not being served come from the rules' stored texts."""
    sent = client.post("/v1/match", json={"profile": PROFILE, "as_of": "2024-06-30", "lang": lang}).json()
    one_rule = next(iter(sorted((ROOT / "rules").glob("*.yaml"))))
    current = build_ruleset({one_rule.name: one_rule.read_text(encoding="utf-8")})  # every other rule is gone
    with app.state.session_factory() as session:
        stored = session.get(Decision, uuid.UUID(sent["decision_id"]))
        assert service.logged_answer(session, stored, current=current) == {
            k: v for k, v in sent.items() if k != "decision_id"}


def test_match_answers_with_a_decision_readable_at_once(client, app) -> None:
    answers = [client.post("/v1/match", json={"profile": PROFILE, "as_of": "2024-06-30"}) for _ in range(5)]
    for response in answers:
        assert response.status_code == 200
        decision_id = response.json()["decision_id"]
        stored = client.get(f"/v1/decisions/{decision_id}").json()
        assert stored["answer"] == {k: v for k, v in response.json().items() if k != "decision_id"}


def test_match_is_refused_with_503_while_the_log_is_unavailable(client, app) -> None:
    decisions = app.state.decision_log
    decisions.available = False
    try:
        response = client.post("/v1/match", json={"profile": PROFILE})
    finally:
        decisions.available = True
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"] == "/problems/database-unavailable"


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's writers take turns through a file; PostgreSQL needs none")
def test_sqlite_logs_of_every_process_take_turns_through_a_file_lock(log_for, ruleset) -> None:
    first, factory = log_for()
    second, _ = log_for()
    with first._turn():
        other = os.open(f"{first.engine.url.database}.writer-lock", os.O_RDWR)
        try:  # another holder (another process's log) must wait for its turn
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
        before = count(factory)
        waiting = second.submit(row(ruleset))
        time.sleep(0.3)
        assert not waiting.done() and count(factory) == before  # the second log waits for the turn…
    waiting.result(timeout=10)  # …and commits once it is free
    assert count(factory) == before + 1


@pytest.mark.postgres
@pytest.mark.parametrize("synchronous", [False, True])
def test_on_postgresql_decision_commits_wait_for_the_disk_only_when_configured(database_url, ruleset,
                                                                                synchronous) -> None:
    from sqlalchemy import event

    engine = make_engine(database_url)
    settings: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO decision"):
            settings.append(conn.exec_driver_sql("SHOW synchronous_commit").scalar_one())

    decisions = DecisionLog(engine, synchronous_commit=synchronous)
    decisions.start()
    try:
        decisions.submit(row(ruleset)).result(timeout=10)
    finally:
        decisions.close()
        engine.dispose()
    assert settings == ["on" if synchronous else "off"]


@pytest.mark.postgres
def test_a_connection_the_server_dropped_while_idle_is_replaced_without_refusing_anyone(log_for, ruleset,
                                                                                         database_url) -> None:
    from sqlalchemy import text as sql

    decisions, factory = log_for()

    def restart() -> None:  # the server ends the log's sessions, the thread's and the loop's (a restart, say)
        with make_engine(database_url).connect() as admin:
            admin.execute(sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

    async def across_a_restart() -> dict[str, Any]:
        await decisions.store(row(ruleset))  # the loop's connection is open…
        decisions.submit(row(ruleset)).result(timeout=10)  # …and the thread's
        restart()
        after = row(ruleset)
        await asyncio.wait_for(decisions.store(after), 10)
        await decisions.close_on_loop()
        return after

    after_on_loop = run_coroutine(across_a_restart())
    after = row(ruleset)
    decisions.submit(after).result(timeout=10)
    assert decisions.available
    with factory() as session:
        assert session.get(Decision, after["id"]) is not None
        assert session.get(Decision, after_on_loop["id"]) is not None
