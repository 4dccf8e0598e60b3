"""Two minutes of moderate mixed load on the service under uvicorn (two workers): matches, company
writes and reads, decision reads. No error, no leak (each worker's resident memory after the warm-up
stays within 10%), and every decision answered is in the table once the service has stopped.

SOAK_SECONDS shortens or lengthens the run (default 120)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.conftest import SEEDS, Load, decision_ids, make_key, serve

SECONDS = float(os.environ.get("SOAK_SECONDS", "120"))
WARM_UP = min(30.0, SECONDS / 4)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def step_for(key: str) -> Any:
    headers = {"Authorization": f"Bearer {key}"}

    def step(client: httpx.Client, n: int) -> tuple[str, int, Any]:
        kind = ("match", "match", "match", "company", "decision", "match", "companies", "match")[n % 8]
        profile = SEEDS[n % len(SEEDS)]
        if kind == "match":
            response = client.post("/v1/match", json={"profile": profile, "as_of": "2025-06-30"})
            return kind, response.status_code, response.json().get("decision_id")
        if kind == "company":
            stored = {k: v for k, v in profile.items() if k not in ("credit_code", "name")}
            created = client.post("/v1/companies", json={"profile": stored}, headers=headers)
            if created.status_code != 201:
                return kind, created.status_code, created.text
            company = created.json()["id"]
            read = client.get(f"/v1/companies/{company}", headers=headers)
            changed = {**stored, "employees": stored["employees"] + n % 50} if "employees" in stored else stored
            updated = client.put(f"/v1/companies/{company}", json={"profile": changed},
                                 headers={**headers, "If-Match": read.headers["etag"]})
            return kind, max(read.status_code, updated.status_code), None
        if kind == "decision":
            answer = client.post("/v1/match", json={"profile": profile, "as_of": "2025-06-30"})
            if answer.status_code != 200:
                return kind, answer.status_code, answer.text
            decision_id = answer.json()["decision_id"]
            read = client.get(f"/v1/decisions/{decision_id}")  # at once, possibly on the other worker
            return kind, read.status_code if read.status_code != 404 else 404, decision_id
        response = client.get("/v1/companies", params={"limit": 20}, headers=headers)
        return kind, response.status_code, None

    return step


@pytest.mark.slow
def test_soak_mixed_load_no_error_no_leak_every_decision_written(migrated_database, tmp_path) -> None:
    key = make_key(migrated_database, "companies:read", "companies:write")
    samples: list[tuple[float, dict[int, int]]] = []
    with serve(migrated_database, tmp_path, workers=2) as server:
        workers = server.worker_pids()
        assert len(workers) == 2
        started = time.monotonic()
        with Load(server.base, step_for(key), threads=4, pause=0.005) as load:
            while (elapsed := time.monotonic() - started) < SECONDS:
                time.sleep(5)
                samples.append((elapsed, {pid: rss_kib(pid) for pid in workers}))
        assert server.stop() in (0, -15), server.output()[-3000:]
    outcomes = load.outcomes
    errors = [outcome for outcome in outcomes if outcome[1] >= 400]
    assert not errors, errors[:5]
    after_warm_up = [rss for at, rss in samples if at >= WARM_UP]
    for pid in workers:
        baseline, final = after_warm_up[0][pid], after_warm_up[-1][pid]
        peak = max(rss[pid] for rss in after_warm_up)
        assert final <= baseline * 1.10 and peak <= baseline * 1.15, (pid, [(round(at), rss[pid]) for at, rss in samples])
    decided = {uuid.UUID(ident) for kind, status, ident in outcomes if kind in ("match", "decision") and status == 200}
    stored = decision_ids(migrated_database)
    assert decided <= stored, f"{len(decided - stored)} answered decisions are missing"
    print(f"{len(outcomes)} operations in {SECONDS:.0f} s; {len(decided)} decisions; RSS (KiB) per worker "
          + "; ".join(f"{pid}: {after_warm_up[0][pid]} → {after_warm_up[-1][pid]}" for pid in workers))
