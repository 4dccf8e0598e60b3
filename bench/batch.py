"""Batch benchmark: POST /v1/match/batch with 1,000 profiles, against the same 1,000 sent one by one
to POST /v1/match on one keep-alive connection, measured in the same run.

    .venv/bin/python bench/batch.py [--lines 1000] [--runs 3] [--backends sqlite,postgres] [--postgres-url URL]

The service runs as in production (uvicorn, 2 workers) on a fresh migrated and seeded database per
backend. The lines cycle through the 83 seed profiles (nothing is cached: each line is decided and
logged). Printed per backend: the batch's time to its last line (median of the runs), the one-by-one
time, their ratio, the lines answered over all batch runs, and whether every decision was stored. Target (issue 14): a batch of 1,000
profiles answered in under 1 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
ROOT = _HERE.parent
sys.path.insert(0, str(ROOT))

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Any

import httpx

from bench.http import AS_OF, app_env, count_decisions, database, postgres_reachable, seed_profiles, server


def batch_seconds(client: httpx.Client, requests: list[dict[str, Any]]) -> tuple[float, int]:
    """Time to the last line of one batch, and how many lines were answers."""
    started = time.perf_counter()
    answered = 0
    with client.stream("POST", "/v1/match/batch", json=requests) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            answered += "decision_id" in json.loads(line)
    return time.perf_counter() - started, answered


def one_by_one_seconds(client: httpx.Client, requests: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for request in requests:
        client.post("/v1/match", json=request).raise_for_status()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    profiles = seed_profiles()
    requests = [{"profile": profiles[n % len(profiles)], "as_of": AS_OF} for n in range(args.lines)]
    directory = Path(tempfile.mkdtemp(prefix="huiqi-bench-batch-"))
    print(f"{os.cpu_count()} CPUs; uvicorn --workers {args.workers}; {args.lines} lines; median of {args.runs} runs")
    print(f"{'backend':<10} {'batch s':>8} {'one by one s':>13} {'ratio':>6} {'answered':>9} {'stored':>7}")
    for backend in [b for b in args.backends.split(",") if b]:
        if backend == "postgres" and not postgres_reachable(args.postgres_url):
            print(f"{backend:<10} skipped: the server does not answer")
            continue
        with database(backend, directory, args.postgres_url) as url, \
                server("app.main:create_app", app_env(url), workers=args.workers,
                       log=directory / f"{backend}.log") as (base, _):
            before = count_decisions(url)
            with httpx.Client(base_url=base, timeout=60) as client:
                batch_seconds(client, requests[:50])  # warm-up, not counted
                one_by_one_seconds(client, requests[:50])
                runs = [batch_seconds(client, requests) for _ in range(args.runs)]
                single = one_by_one_seconds(client, requests)
            stored = count_decisions(url) - before
        batch = statistics.median(seconds for seconds, _ in runs)
        answered = sum(count for _, count in runs)
        expected = 100 + args.lines * (args.runs + 1)  # warm-ups, batches, one by one
        print(f"{backend:<10} {batch:>8.2f} {single:>13.2f} {single / batch:>5.1f}x {answered:>9} "
              f"{'all' if stored == expected else f'{stored}/{expected}':>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
