"""SIGTERM under load: requests in flight are answered, and every answered decision is in the table
once the process has exited (the writer's queue is drained by the lifespan's exit), or, for what the
flush timeout left, once the next start has written the journal."""

from __future__ import annotations

import json
import signal
import time
import uuid
from typing import Any

import httpx

from tests.faults.conftest import SEEDS, Load, decision_ids, scalar, serve


def match(client: httpx.Client, n: int) -> tuple[str, Any]:
    try:
        response = client.post("/v1/match", json={"profile": SEEDS[n % len(SEEDS)], "as_of": "2025-06-30"})
    except httpx.TransportError as exc:  # after the listener closed: never sent, or never answered
        return "transport", type(exc).__name__
    return str(response.status_code), response.json().get("decision_id") if response.status_code == 200 else None


def test_sigterm_finishes_requests_in_flight_and_flushes_every_decision(migrated_database, tmp_path) -> None:
    # Batches of one row keep a queue behind the answers, so there is something to flush at exit.
    with serve(migrated_database, tmp_path, decision_batch_size="1", log_level="INFO") as server:
        with Load(server.base, match, threads=8) as load:
            time.sleep(3)
            answered_before = sum(1 for status, _ in load.outcomes if status == "200")
            # uvicorn shuts down gracefully, then re-raises the signal: the exit status is -SIGTERM.
            assert server.stop(signal.SIGTERM, timeout=60) in (0, -signal.SIGTERM), server.output()
            time.sleep(0.5)
        statuses = {status for status, _ in load.outcomes}
        assert statuses <= {"200", "transport"}, (statuses, server.output())
        decided = [decision_id for status, decision_id in load.outcomes if status == "200"]
        assert len(decided) >= answered_before > 50
    # What the flush timeout (4 s, to fit a 10 s stop grace) left in the queue is in the journal.
    stopped = next(json.loads(line) for line in server.output().splitlines() if "decision writer stopped" in line)
    logged = scalar(migrated_database, "SELECT count(*) FROM decision")
    written = stopped["written"] + stopped["written_directly"]
    # (a batch in flight at the flush timeout is journalled, and may still commit before the exit)
    assert stopped["lost"] == 0 and (written == logged or (stopped["journaled"] and written <= logged))
    # a request answered as the connection closed is logged, not counted
    assert logged + stopped["journaled"] >= len(decided)
    if stopped["journaled"]:
        with serve(migrated_database, tmp_path):  # the next start writes the journal
            pass
    stored = decision_ids(migrated_database)
    missing = [d for d in decided if uuid.UUID(d) not in stored]
    assert not missing, f"{len(missing)} answered decisions were not written"
    print(f"{len(decided)} answered, {logged} written before exit, {stopped['journaled']} journalled "
          f"({stopped['queued_at_close']} still queued at SIGTERM), {len(stored)} stored after the next start")
