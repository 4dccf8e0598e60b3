"""HTTP benchmark: POST /v1/match under uvicorn against the HTTP floor measured in the same run.

    .venv/bin/python bench/http.py [--duration 10] [--concurrency 1,16,64] [--workers 2]
                                   [--backends sqlite,postgres] [--postgres-url URL]
                                   [--openfisca-python bench/.venv-openfisca/bin/python]

Each server runs as in production: uvicorn, `--workers 2`, no reload, no access log, the app's own
JSON request log on (to a file), the rate limit on but set too high to trigger. The targets:
  - `openfisca` (the peer): OpenFisca's web API, the best-known open rules-as-code service
    (openfisca-core[web-api] with openfisca-country-template, installed by `make bench-http` in its own
    environment, bench/.venv-openfisca), `openfisca serve --workers N`, answering POST /calculate for a
    two-variable situation; skipped when that environment is missing;
  - `bare`: bench/bare_app.py, a FastAPI endpoint that returns a constant JSON body: a real match
    answer (same bytes on the wire), so the ratio measures what our code costs, not the transfer;
  - `match sqlite`: the service on a fresh migrated and seeded SQLite file;
  - `match postgres`: the service on a throwaway PostgreSQL database (created, migrated, seeded,
    dropped at the end); skipped when the server does not answer;
  - `bare + N ms` (calibration): the floor again, spinning on the CPU in each request for the N ms
    a match cost beyond the floor's (server CPU per request, first match target, highest level):
    what any endpoint of a match's CPU cost reaches on this machine, database or not.
The load generator is wrk (Debian's package; `make bench-http` installs it) in its own process,
sharing the machine's cores with the server, driving the 83 seed profiles of seeds/companies.yaml in
turn at each concurrency level (a warm-up first, not counted). It prints, per target and level,
requests/s, latency p50/p95/p99, errors (non-2xx, timeouts, socket errors), the server's CPU time per
request, and the requests in flight that wrk's own figures imply (throughput x mean latency, by
Little's law at most the connections open: where it is far above, wrk's latencies are not to be
trusted, as happens here with large answers); after each target, p50/p99 at one connection measured
by a client of our own ("own"). Then, per match target: its throughput as a share of the floor's; its
throughput and p99 against OpenFisca's; the server CPU a request that twice OpenFisca's throughput
would leave at each level above one connection (`cpu_budget`), beside what it used; and the number of
decisions logged against the number of answers (every answered decision must be in the table once the
server has stopped).

Targets on a 2-core machine (issue 13): at c=1, 16 and 64 a p99 no worse than OpenFisca's (under 5 ms
at c=1), throughput at c=16 and c=64 at least twice OpenFisca's, zero errors, every answered decision
logged.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, and its name would shadow the
# standard library's `http` package for everything imported below (uvicorn, urllib, httpx).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
ROOT = _HERE.parent
sys.path.insert(0, str(ROOT))

import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from tests.databases import migrate, scratch_database
from tests.servers import free_port, serving, uvicorn_process

PYTHON = sys.executable
AS_OF = "2025-06-30"

OPENFISCA_PYTHON = ROOT / "bench" / ".venv-openfisca" / "bin" / "python"
# A two-variable /calculate situation of the country template: one person's salary, and the income
# tax and basic income the web API computes for that month.
OPENFISCA_SITUATION = {
    "persons": {"Ari": {"salary": {"2025-06": 4000}, "income_tax": {"2025-06": None},
                        "basic_income": {"2025-06": None}}},
    "households": {"h": {"adults": ["Ari"]}},
}

WRK_SCRIPT = r"""
-- Requests are formatted once per thread; each thread starts at its own offset in the profiles.
local requests = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, line)
  end
  n = math.random(#requests)
end
request = function()
  n = n % #requests + 1
  return requests[n]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
"""


def seed_profiles() -> list[dict[str, Any]]:
    """The profiles of seeds/companies.yaml (without their keys), as JSON reads them: dates as strings."""
    seeds = yaml.safe_load((ROOT / "seeds" / "companies.yaml").read_text(encoding="utf-8"))["companies"]
    return [json.loads(json.dumps({k: v for k, v in c.items() if k != "key"}, default=str)) for c in seeds]


def match_requests() -> list[str]:
    """A POST /v1/match body per seed profile, on AS_OF: what every benchmark of the match asks."""
    return [json.dumps({"profile": profile, "as_of": AS_OF}, ensure_ascii=False) for profile in seed_profiles()]



def app_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "APP_DATABASE_URL": database_url, "APP_RULES_DIR": str(ROOT / "rules"),
           "APP_SEEDS_FILE": str(ROOT / "seeds" / "companies.yaml"), "APP_LOG_LEVEL": "INFO",
           # On, so its cost is measured, but out of reach: wrk is one client from one address.
           "APP_RATE_LIMIT": "100000000", **extra}
    env.pop("DATABASE_URL", None)
    return env


@contextmanager
def database(kind: str, directory: Path, postgres_url: str) -> Iterator[str]:
    """A fresh database, migrated and seeded: an SQLite file, or a PostgreSQL database dropped afterwards."""
    with scratch_database(directory, postgres_url if kind == "postgres" else None, prefix="huiqi_bench") as url:
        migrate(url)
        subprocess.run([PYTHON, "-m", "app", "seed"], cwd=ROOT, env=app_env(url), check=True, capture_output=True)
        yield url


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001  (any failure: skip the PostgreSQL target)
        return False
    finally:
        engine.dispose()


@contextmanager
def server(target: str, env: dict[str, str], *, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """uvicorn as in production; yields the base URL and its pid once it answers; stops it gracefully."""
    with uvicorn_process(target, env, log, workers=workers, ready_path="/healthz",
                         extra_args=("--log-level", "warning")) as (process, base):
        yield base, process.pid


@contextmanager
def openfisca_server(python: Path, *, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """OpenFisca's web API on the country template, as its documentation serves it (gunicorn workers)."""
    port = free_port()
    command = [str(python.parent / "openfisca"), "serve", "--country-package", "openfisca_country_template",
               "--port", str(port), "--workers", str(workers)]
    base = f"http://127.0.0.1:{port}"
    with serving(command, None, log, ready_url=f"{base}/spec", workers=workers) as process:
        yield base, process.pid


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of `pid` and its descendants so far: the server's own cost, whatever else
    the machine is running."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return total


def load_files(directory: Path) -> tuple[Path, Path, list[str]]:
    """wrk's script and the match request bodies it sends in turn, written in `directory`; and the bodies."""
    script = directory / "match.lua"
    script.write_text(WRK_SCRIPT)
    lines = match_requests()
    bodies = directory / "bodies.jsonl"
    bodies.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return script, bodies, lines


def wrk_command(url: str, *, concurrency: int, seconds: float, script: Path, bodies: Path) -> list[str]:
    """wrk at `concurrency` connections (two threads at most: the machine's cores) for `seconds`."""
    return ["wrk", "-t", str(min(concurrency, 2)), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "5s", "-s", str(script), url, "--", str(bodies)]


def wrk(url: str, *, concurrency: int, seconds: float, script: Path, bodies: Path) -> dict[str, Any]:
    result = subprocess.run(wrk_command(url, concurrency=concurrency, seconds=seconds, script=script, bodies=bodies),
                            capture_output=True, text=True, check=True)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["errors"] = sum(stats[k] for k in ("connect", "read", "write", "status", "timeout"))
    # Little's law: requests in flight = throughput x mean latency, at most the connections open. wrk's
    # latency figures break it on this machine for large answers (1,003 req/s with a 39 ms mean at one
    # connection: 39 in flight), so each row says how far they can be trusted.
    stats["in_flight"] = stats["rps"] * stats["mean"] / 1e6
    return stats


def probe(url: str, body: bytes, *, requests: int = 2000) -> dict[str, float]:
    """Latency at one connection measured by a client of our own: the check on wrk's figures."""
    latencies = sorted(seconds for _, seconds in timed_requests(url, body, requests=requests))
    return {"p50": latencies[len(latencies) // 2] * 1000, "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            "max": latencies[-1] * 1000}


def timed_requests(url: str, body: bytes, *, requests: int | None = None,
                   seconds: float | None = None) -> list[tuple[float, float]]:
    """POST `body` to `url` one request at a time on one connection (raw socket, the request written at
    once, the answer read to its Content-Length), `requests` times or for `seconds`: when each request
    started (seconds since the epoch) and how long its answer took (seconds)."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    timed: list[tuple[float, float]] = []
    connection: socket.socket | None = None
    deadline = time.perf_counter() + seconds if seconds is not None else None
    while requests is None or len(timed) < requests:
        start = time.perf_counter()
        if deadline is not None and start > deadline:
            break
        wall = time.time()
        if connection is None:  # a server that closes after each answer (OpenFisca's gunicorn) pays its connect
            connection = socket.create_connection((host, int(port)))
        connection.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            received += connection.recv(65536)
        head, rest = received.split(b"\r\n\r\n", 1)
        headers = {line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip()
                   for line in head.split(b"\r\n")[1:] if b":" in line}
        while len(rest) < int(headers[b"content-length"]):
            rest += connection.recv(65536)
        timed.append((wall, time.perf_counter() - start))
        if headers.get(b"connection", b"").lower() == b"close":
            connection.close()
            connection = None
    if connection is not None:
        connection.close()
    return timed


def answer_body(base: str, profile_line: bytes) -> bytes:
    request = urllib.request.Request(f"{base}/v1/match", data=profile_line,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def count_decisions(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM decision")).scalar_one())
    finally:
        engine.dispose()


def cpu_budget(stats: dict[str, Any], rps: float) -> float:
    """The server CPU a request (ms) that would leave room for `rps` on this machine, from a saturated run:
    there every core is busy, so a request costs cores / req/s in all: the server's share, and what wrk,
    the kernel and (on PostgreSQL) the database server spend on it. That rest stays as it is; the
    server's share must shrink to what is left."""
    cores = os.cpu_count() or 1
    others = cores * 1000 / stats["rps"] - stats["cpu_ms"]
    return cores * 1000 / rps - others


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per level")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per level, not counted")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--openfisca-python", type=Path, default=OPENFISCA_PYTHON,
                        help="the Python of an environment with openfisca-core[web-api] and the country template")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: `make bench-http` installs Debian's package", file=sys.stderr)
        return 2
    levels = [int(c) for c in args.concurrency.split(",")]
    backends = [b for b in args.backends.split(",") if b]

    directory = Path(tempfile.mkdtemp(prefix="huiqi-bench-http-"))
    script, bodies, lines = load_files(directory)

    print(f"{os.cpu_count()} CPUs; uvicorn --workers {args.workers}; wrk in its own process; "
          f"{args.duration:g} s per level after {args.warmup:g} s warm-up; {len(lines)} seed profiles")
    header = (f"{'target':<16} {'conns':>5} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} "
              f"{'server CPU ms/req':>17} {'in flight':>9}")
    results: dict[tuple[str, int], dict[str, Any]] = {}
    answered: dict[str, int] = {}

    def run(name: str, base: str, pid: int, path: str = "/v1/match", requests: Path = bodies) -> None:
        for level in levels:
            warm = wrk(f"{base}{path}", concurrency=level, seconds=args.warmup, script=script, bodies=requests)
            answered[name] = answered.get(name, 0) + warm["requests"] - warm["status"]
            cpu = tree_cpu_seconds(pid)
            stats = wrk(f"{base}{path}", concurrency=level, seconds=args.duration, script=script, bodies=requests)
            stats["cpu_ms"] = (tree_cpu_seconds(pid) - cpu) * 1000 / max(stats["requests"], 1)
            results[(name, level)] = stats
            answered[name] += stats["requests"] - stats["status"]
            print(f"{name:<16} {level:>5} {stats['rps']:>8.0f} {stats['p50'] / 1000:>7.2f} "
                  f"{stats['p95'] / 1000:>7.2f} {stats['p99'] / 1000:>7.2f} {stats['errors']:>6} "
                  f"{stats['cpu_ms']:>17.3f} {stats['in_flight']:>9.1f}", flush=True)
        first = requests.read_bytes().splitlines()[0]
        own = probe(f"{base}{path}", first)
        results[(name, 0)] = own
        print(f"{name:<16} {'own':>5} {'':>8} {own['p50']:>7.2f} {'':>7} {own['p99']:>7.2f}    "
              f"(our own client, one connection, 2,000 requests; max {own['max']:.1f} ms)", flush=True)

    try:
        targets: list[tuple[str, str]] = [("match sqlite", "sqlite")] if "sqlite" in backends else []
        if "postgres" in backends:
            if postgres_reachable(args.postgres_url):
                targets.append(("match postgres", "postgres"))
            else:
                print(f"(PostgreSQL not reachable at {args.postgres_url}: that target is skipped)")
        # The floor answers with the bytes the service sends for the first seed profile.
        with database("sqlite", directory, args.postgres_url) as url, \
                server("app.main:create_app", app_env(url), workers=1, log=directory / "answer.log") as (base, _):
            body_file = directory / "answer.json"
            body_file.write_bytes(answer_body(base, lines[0].encode()))
        print(f"answer body: {body_file.stat().st_size:,} bytes; request bodies: "
              f"{min(map(len, lines))}-{max(map(len, lines))} bytes\n")
        print(header)
        print("-" * len(header))
        peer = "openfisca"
        if args.openfisca_python.exists():
            situation = directory / "openfisca.jsonl"
            situation.write_text(json.dumps(OPENFISCA_SITUATION) + "\n", encoding="utf-8")
            with openfisca_server(args.openfisca_python, workers=args.workers, log=directory / "openfisca.log") \
                    as (base, pid):
                run(peer, base, pid, path="/calculate", requests=situation)
        else:
            print(f"({args.openfisca_python} not found: the OpenFisca peer is skipped; `make bench-http` installs it)")
        with server("bench.bare_app:app", {**os.environ, "BENCH_BARE_BODY": str(body_file)},
                    workers=args.workers, log=directory / "bare.log") as (base, pid):
            run("bare (floor)", base, pid)
        logged: dict[str, int] = {}
        for name, kind in targets:
            sub = directory / kind
            sub.mkdir(exist_ok=True)
            with database(kind, sub, args.postgres_url) as url:
                with server("app.main:create_app", app_env(url), workers=args.workers,
                            log=sub / "server.log") as (base, pid):
                    run(name, base, pid)
                # The server has stopped: every decision answered with 200 must be in the table.
                logged[name] = count_decisions(url)
        if targets:
            # Calibration: the floor again, now burning on each request the CPU a match cost beyond the
            # floor's (at the highest level). What it reaches is what any endpoint of that cost reaches here.
            top = levels[-1]
            burn = max(0.0, results[(targets[0][0], top)]["cpu_ms"] - results[("bare (floor)", top)]["cpu_ms"])
            calibration = f"bare + {burn:.2f} ms"
            with server("bench.bare_app:app", {**os.environ, "BENCH_BARE_BODY": str(body_file),
                                               "BENCH_BARE_BURN_MS": f"{burn:.4f}"},
                        workers=args.workers, log=directory / "calibration.log") as (base, pid):
                run(calibration, base, pid)
            targets_and_calibration: list[tuple[str, str | None]] = [*targets, (calibration, None)]
        else:
            targets_and_calibration = []
        print()
        for name, _ in targets_and_calibration:
            ratios = ", ".join(
                f"c={level}: {results[(name, level)]['rps'] / results[('bare (floor)', level)]['rps']:.0%}"
                for level in levels)
            print(f"{name}: throughput / floor  {ratios}")
            if (peer, levels[0]) in results:
                versus = ", ".join(
                    f"c={level}: {results[(name, level)]['rps'] / results[(peer, level)]['rps']:.1f}x req/s, "
                    f"p99 {results[(name, level)]['p99'] / 1000:.1f} vs {results[(peer, level)]['p99'] / 1000:.1f} ms"
                    for level in levels)
                print(f"{name}: against OpenFisca  {versus}")
                budgets = ", ".join(
                    f"c={level}: {cpu_budget(results[(name, level)], 2 * results[(peer, level)]['rps']):.2f} ms "
                    f"(used {results[(name, level)]['cpu_ms']:.2f})" for level in levels if level > 1)
                if budgets:
                    print(f"{name}: server CPU a request that 2x OpenFisca's req/s leaves  {budgets}")
        for name, rows in logged.items():
            # wrk counts the answers it read; requests still in flight when it stops (at most one per
            # connection) are answered and logged too, uncounted.
            print(f"{name}: {rows:,} decisions logged for {answered[name]:,} answers counted by wrk "
                  f"({'ok' if rows >= answered[name] else 'MISSING ' + str(answered[name] - rows)})")
        print("\nTargets: p99 no worse than OpenFisca's at every level (< 5 ms at c=1); req/s at c=16 and c=64 "
              ">= 2x OpenFisca's; zero errors; every answered decision logged.")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
