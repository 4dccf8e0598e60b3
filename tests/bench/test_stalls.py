"""The stall timeline reads what the service logs at DEBUG: if the decision log's or the checkpointer's
lines changed shape, bench/stalls.py would find no events and blame every slow answer on the CPU."""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import date

from app.db.session import WalCheckpointer, make_engine
from app.engine import Profile
from app.logs import JsonLineFormatter
from app.matching import service
from app.matching.decision_log import DecisionLog
from tests.bench import bench_script
from tests.databases import migrate


def test_the_timeline_finds_the_commits_and_checkpoint_restarts_the_service_logs(tmp_path, app, client) -> None:
    bench = bench_script("stalls")
    path = tmp_path / "huiqi.db"
    migrate(f"sqlite:///{path}")
    log_file = tmp_path / "server.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(JsonLineFormatter())
    # The session's app checkpoints its own database in the background meanwhile: not this timeline's.
    handler.addFilter(lambda record: record.threadName != "wal-checkpointer")
    huiqi = logging.getLogger("huiqi")
    level = huiqi.level
    huiqi.addHandler(handler)
    huiqi.setLevel(logging.DEBUG)
    engine = make_engine(f"sqlite:///{path}", background_checkpoints=True)
    decisions = DecisionLog(engine)
    decisions.start()
    try:
        began = time.time()
        profile = Profile.model_validate({"region_code": "320506"})
        decisions.submit(service.match(app.state.rules.current, profile, as_of=date(2025, 6, 30)).row).result(10)
        connection = sqlite3.connect(path, isolation_level=None)
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        WalCheckpointer(str(path), restart_after_bytes=0).checkpoint(connection, page_size)
        connection.close()
        ended = time.time()
    finally:
        decisions.close()
        engine.dispose()
        huiqi.removeHandler(handler)
        huiqi.setLevel(level)
        handler.close()

    events = bench.server_events(log_file)
    assert {event.kind for event in events} == {"commit", "passive checkpoint", "checkpoint restart"}
    assert all(began <= event.start <= event.end <= ended for event in events)
    held = bench.overlapping(began, ended, events, slow_commit_ms=1e9)  # an answer waiting all along
    assert [event.kind for event in held] == ["passive checkpoint", "checkpoint restart"]  # a fast commit: no
