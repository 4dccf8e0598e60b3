"""PostgreSQL stopped under load and started again, on a throwaway cluster this test makes (initdb and
pg_ctl on a spare port under a temporary directory; never the machine's shared server).

During the outage every request is answered quickly: 200 when it needs no database (the catalogue),
else 503 problem+json with Retry-After; never a 500, never a hang. The service recovers by itself when
the server is back, and nothing is half-done: every decision answered with 200 and every company
answered with 201 is stored, and every stored company has its facts row (written in the same
transaction)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import migrate
from tests.faults.conftest import SEEDS, Load, decision_ids, make_key, rows, serve
from tests.servers import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


class Cluster:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args),
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._pg_ctl("-l", str(self.directory / "server.log"), "-o",
                     f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")


def as_postgres(*argv: str) -> list[str]:
    """initdb refuses to run as root: run the cluster as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"initdb not found in {PG_BIN} (set PG_BIN): cannot make a throwaway PostgreSQL cluster")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses to run as root")
    directory = Path(tempfile.mkdtemp(prefix="huiqi-pg-outage-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        initdb = subprocess.run(as_postgres(str(PG_BIN / "initdb"), "-D", str(directory / "data"), "-A", "trust",
                                            "-U", "postgres", "-E", "UTF8", "--no-sync"),
                                capture_output=True, text=True, timeout=120, check=False)
        if initdb.returncode != 0:
            pytest.skip(f"initdb failed, cannot make a throwaway cluster: {initdb.stderr.strip()[-300:]}")
        made = Cluster(directory, free_port())
        made.start()
        try:
            yield made
        finally:
            subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(made.data), "-m", "immediate", "stop"),
                           capture_output=True, timeout=60, check=False)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def step_for(key: str) -> Any:
    headers = {"Authorization": f"Bearer {key}"}

    def step(client: httpx.Client, n: int) -> tuple[str, int, float, Any, dict[str, str]]:
        kind = ("match", "match", "company", "policies")[n % 4]
        started = time.monotonic()
        if kind == "match":
            response = client.post("/v1/match", json={"profile": SEEDS[n % len(SEEDS)], "as_of": "2025-06-30"})
        elif kind == "company":
            profile = {k: v for k, v in SEEDS[n % len(SEEDS)].items() if k not in ("credit_code", "name")}
            response = client.post("/v1/companies", json={"profile": profile}, headers=headers)
        else:
            response = client.get("/v1/policies", params={"limit": 5})
        elapsed = time.monotonic() - started
        body = response.json()
        ident = body.get("decision_id") or body.get("id") if response.status_code in (200, 201) else body
        return kind, response.status_code, elapsed, ident, dict(response.headers)

    return step


def test_requests_during_an_outage_get_503_and_the_service_recovers(cluster: Cluster, tmp_path: Path) -> None:
    url = cluster.url
    migrate(url)
    key = make_key(url, "companies:read", "companies:write")
    with serve(url, tmp_path, db_connect_timeout_seconds="2", db_retry_after_seconds="3") as server:
        with Load(server.base, step_for(key), threads=4, pause=0.01) as load:
            time.sleep(3)
            before = len(load.outcomes)
            cluster.stop()
            outage_started = len(load.outcomes)
            time.sleep(4)
            outage = load.outcomes[outage_started:]
            cluster.start()
            back = time.monotonic()
            recovered = None
            while time.monotonic() - back < 30:
                tail = load.outcomes[-8:]
                if len(tail) == 8 and all(status in (200, 201) for _, status, *_ in tail):
                    recovered = time.monotonic() - back
                    break
                time.sleep(0.2)
            time.sleep(2)
        assert server.stop() in (0, -15), server.output()
    outcomes = load.outcomes
    assert before > 20
    statuses = {status for _, status, *_ in outcomes}
    assert statuses <= {200, 201, 503}, (statuses, server.output()[-3000:])
    failed = [(kind, status, headers) for kind, status, _, _, headers in outage if status == 503]
    assert failed, "no request met the outage"
    for kind, _, headers in failed:
        assert headers["content-type"] == "application/problem+json", kind
        assert int(headers["retry-after"]) == 3
    # The catalogue needs no database: it keeps answering.
    assert any(kind == "policies" and status == 200 for kind, status, *_ in outage)
    slowest = max(elapsed for _, _, elapsed, *_ in outcomes)
    assert slowest < 10, f"a request took {slowest:.1f} s"
    assert recovered is not None, "the service did not recover within 30 s of the database's return"
    # Nothing half-done, nothing answered and lost.
    decided = {uuid.UUID(ident) for kind, status, _, ident, _ in outcomes if kind == "match" and status == 200}
    created = {uuid.UUID(ident) for kind, status, _, ident, _ in outcomes if kind == "company" and status == 201}
    assert decided and created
    assert decided <= decision_ids(url)
    companies = {row[0] for row in rows(url, "SELECT id FROM company")}
    assert created <= companies
    orphans = rows(url, "SELECT c.id FROM company c LEFT JOIN company_fact f ON f.company_id = c.id "
                        "WHERE f.company_id IS NULL")
    assert not orphans
    print(f"{len(outcomes)} requests; {len(failed)} answered 503 during the outage; recovered "
          f"{recovered:.1f} s after the database came back; slowest {slowest:.2f} s")
