"""SIGTERM under load: requests in flight are answered, and every answered decision is in the table
when the process has exited (an answer is given only once its decision is committed)."""

from __future__ import annotations

import json
import signal
import time
import uuid
from typing import Any

import httpx

from tests.faults.conftest import SEEDS, Load, decision_ids, serve


def match(client: httpx.Client, n: int) -> tuple[str, Any]:
    try:
        response = client.post("/v1/match", json={"profile": SEEDS[n % len(SEEDS)], "as_of": "2025-06-30"})
    except httpx.TransportError as exc:  # after the listener closed: never sent, or never answered
        return "transport", type(exc).__name__
    return str(response.status_code), response.json().get("decision_id") if response.status_code == 200 else None


def test_sigterm_finishes_requests_in_flight_and_every_answered_decision_is_stored(migrated_database,
                                                                                    tmp_path) -> None:
    with serve(migrated_database, tmp_path, log_level="INFO") as server:
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
    stopped = next(json.loads(line) for line in server.output().splitlines() if "decision log stopped" in line)
    stored = decision_ids(migrated_database)
    missing = [d for d in decided if uuid.UUID(d) not in stored]
    assert not missing, f"{len(missing)} answered decisions were not stored"
    # a request answered as the connection closed is stored, not counted
    assert stopped["stored"] == len(stored) >= len(decided)
    print(f"{len(decided)} answered, {len(stored)} stored in {stopped['batches']} commits")
