"""SIGTERM while PostgreSQL is down, and while it is stuck (its processes stopped with SIGSTOP: the
kernel still accepts and acknowledges, nothing answers), on a throwaway cluster: the process exits
within a container's 10 s stop grace, and every decision answered 200 is in the table (an answer is
given only once its decision is committed; a match the database did not take is refused with 503).
While the database is stuck, /readyz answers 503 within the connect timeout and no request hangs.

Each test prints its figures: answered, refused, and found in the table afterwards."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.databases import migrate
from tests.faults.conftest import Load, Server, decision_ids, make_key, serve
from tests.faults.test_postgres_outage import Cluster, cluster  # noqa: F401  (the fixture)
from tests.faults.test_shutdown import match

STOP_GRACE = 10  # seconds: Docker's and Kubernetes' default between SIGTERM and SIGKILL


def cluster_pids(data: Path) -> list[int]:
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    children = []
    for task in Path(f"/proc/{postmaster}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return [postmaster, *children]


@contextmanager
def frozen(made: Cluster) -> Iterator[None]:
    """Every process of the cluster stopped (SIGSTOP), then continued."""
    pids = cluster_pids(made.data)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def sigterm(server: Server) -> float:
    started = time.monotonic()
    assert server.stop(signal.SIGTERM, timeout=60) in (0, -signal.SIGTERM), server.output()[-3000:]
    return time.monotonic() - started


def answered(load: Load) -> set[uuid.UUID]:
    return {uuid.UUID(decision_id) for status, decision_id in load.outcomes if status == "200"}


def assert_stored(url: str, decided: set[uuid.UUID]) -> int:
    stored = decision_ids(url)
    missing = decided - stored
    assert not missing, f"{len(missing)} of {len(decided)} answered decisions are not stored"
    return len(stored)


def test_sigterm_with_the_database_stuck_loses_no_answered_decision(cluster: Cluster, tmp_path: Path) -> None:  # noqa: F811
    url = cluster.url
    migrate(url)
    key = make_key(url, "companies:write")
    wait_timeout = 4  # seconds: APP_DB_WAIT_TIMEOUT_SECONDS, lowered from 12 to keep the test short
    with serve(url, tmp_path, log_level="INFO", db_wait_timeout_seconds=str(wait_timeout)) as server:
        with Load(server.base, match, threads=4) as load:
            time.sleep(2)
            with frozen(cluster):
                time.sleep(1)
                with httpx.Client(base_url=server.base, timeout=30) as probe:
                    started = time.monotonic()
                    ready = probe.get("/readyz")
                    probe_took = time.monotonic() - started
                    started = time.monotonic()
                    stored = probe.post("/v1/companies", json={"profile": {"region_code": "440305"}},
                                        headers={"Authorization": f"Bearer {key}"})
                    store_took = time.monotonic() - started
                    started = time.monotonic()
                    matched = probe.post("/v1/match", json={"profile": {"region_code": "440305"}})
                    match_took = time.monotonic() - started
                took = sigterm(server)
                load.stop()
        assert ready.status_code == 503 and ready.headers["retry-after"]
        assert probe_took < 3 + 2, f"/readyz took {probe_took:.1f} s with the database stuck"
        # The key's lookup, then the insert: each wait for the server ends at the wait timeout.
        assert stored.status_code == 503 and stored.headers["retry-after"], stored.text
        assert store_took < 2 * wait_timeout + 2, f"a request took {store_took:.1f} s with the database stuck"
        # A match waits at most for the commit in hand (the wait timeout), then is refused at once.
        assert matched.status_code == 503 and matched.headers["retry-after"], matched.text
        assert match_took < wait_timeout + 2, f"a match took {match_took:.1f} s with the database stuck"
        assert took < STOP_GRACE, f"SIGTERM to exit took {took:.1f} s"
        statuses = [status for status, _ in load.outcomes]
        assert set(statuses) <= {"200", "503", "transport"}, set(statuses)
    decided = answered(load)
    found = assert_stored(url, decided)
    print(f"stuck: {len(decided)} answered, {statuses.count('503')} refused; SIGTERM to exit {took:.1f} s; "
          f"/readyz {probe_took:.1f} s; a company stored: 503 in {store_took:.1f} s; a match: 503 in "
          f"{match_took:.1f} s; {found} in the table, every answered one among them")


def test_sigterm_with_the_database_down_loses_no_answered_decision(cluster: Cluster, tmp_path: Path) -> None:  # noqa: F811
    url = cluster.url
    migrate(url)
    with serve(url, tmp_path, log_level="INFO") as server:
        with Load(server.base, match, threads=8) as load:
            time.sleep(2)
            cluster.stop()
            time.sleep(0.5)
            took = sigterm(server)
            load.stop()
        assert took < STOP_GRACE, f"SIGTERM to exit took {took:.1f} s"
    cluster.start()
    decided = answered(load)
    statuses = [status for status, _ in load.outcomes]
    assert set(statuses) <= {"200", "503", "transport"}, set(statuses)
    found = assert_stored(url, decided)
    print(f"down: {len(decided)} answered, {statuses.count('503')} refused; SIGTERM to exit {took:.1f} s; "
          f"{found} in the table, every answered one among them")
