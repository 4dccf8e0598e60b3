"""The stall timeline: what the slowest answers were waiting for.

    .venv/bin/python bench/stalls.py [--backend sqlite] [--connections 16] [--duration 10] [--workers 2]
                                     [--postgres-url URL]

Runs the service as bench/http.py does (uvicorn, 2 workers, a fresh migrated and seeded database), with
its log at DEBUG: the decision log then writes a line for each commit (rows, how long it took, when it
ended) and the SQLite checkpointer one for each checkpoint that copied anything (the passive copy, and
the restart of the write-ahead log during which every writer waits). wrk loads the service at
`connections - 1` connections; beside it, a client of our own sends one request at a time on one more
connection and records when each one started and how long its answer took. Every request, wrk's or
the probe's, is a match answered only once its decision is committed.

Then it lays the probe's answers over the server's events, on one clock, and prints: the probe's
latency (p50, p99, max); the commits (rows each, duration) and checkpoints (passive, restarts); for the
answers slower than the probe's p99, how many overlapped a checkpoint restart, a commit slower than
`--slow-commit-ms`, a passive checkpoint, or nothing recorded (the CPU itself: the other connections'
requests, a collection, the scheduler); and the slowest answers one by one with what overlapped them.
Latency percentiles of this probe describe one connection among many, not the whole load (wrk's
figures, bench/http.py, do).
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
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Something the server did that writers (and so answers) may wait for, from `start` to `end`
    (seconds since the epoch)."""

    kind: str  # "commit" | "passive checkpoint" | "checkpoint restart"
    start: float
    end: float
    detail: str
    rows: int = 0  # a commit's decisions

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


def server_events(log: Path) -> list[Event]:
    """The decision log's commits and the checkpointer's checkpoints, from the server's JSON log lines."""
    events = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"decisions committed"' not in line and '"wal checkpoint"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a worker stopping
        end = record["at"]
        if record["message"] == "decisions committed":
            events.append(Event("commit", end - record["duration_ms"] / 1000, end, f"{record['rows']} rows",
                                rows=record["rows"]))
            continue
        restart = (record["restart_ms"] or 0) / 1000
        events.append(Event("passive checkpoint", end - restart - record["passive_ms"] / 1000, end - restart,
                            f"{record['frames']} frames"))
        if record["restart_ms"] is not None:
            events.append(Event("checkpoint restart", end - restart, end, "writers wait"))
    return sorted(events, key=lambda event: event.start)


# What an answer slower than p99 is put down to: the first of these it overlapped. Overlap is not
# cause: at many connections an answer that waited for the CPU overlaps whatever ran meanwhile, so
# compare runs, and the share of "nothing recorded".
CAUSES = ("checkpoint restart", "commit", "passive checkpoint", "nothing recorded")


def overlapping(start: float, end: float, events: list[Event], *, slow_commit_ms: float) -> list[Event]:
    """The events during [start, end] that may have held an answer: checkpoints, and commits slower than
    the bound (a passive checkpoint keeps no writer out, but syncs the files writers append to)."""
    return [event for event in events if event.start < end and event.end > start
            and (event.kind != "commit" or event.ms > slow_commit_ms)]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def report(answers: list[tuple[float, float]], events: list[Event], *, slow_commit_ms: float, slowest: int) -> None:
    """Print the timeline's summary; `answers` are the probe's (start, seconds)."""
    latencies = [seconds * 1000 for _, seconds in answers]
    origin = answers[0][0]
    p99 = percentile(latencies, 0.99)
    print(f"probe: {len(answers):,} answers, p50 {percentile(latencies, 0.5):.2f} ms, p99 {p99:.2f} ms, "
          f"max {max(latencies):.1f} ms")
    commits = [event for event in events if event.kind == "commit"]
    if commits:
        rows = [event.rows for event in commits]
        durations = [event.ms for event in commits]
        print(f"commits: {len(commits):,}, rows each p50 {percentile(rows, 0.5):.0f} max {max(rows)}; "
              f"duration p50 {percentile(durations, 0.5):.2f} ms, p99 {percentile(durations, 0.99):.2f} ms, "
              f"max {max(durations):.1f} ms; {sum(1 for d in durations if d > slow_commit_ms)} over {slow_commit_ms:g} ms")
    for kind in ("passive checkpoint", "checkpoint restart"):
        durations = [event.ms for event in events if event.kind == kind]
        if durations:
            print(f"{kind}s: {len(durations):,}, p50 {percentile(durations, 0.5):.1f} ms, "
                  f"max {max(durations):.1f} ms, {sum(durations):.0f} ms in all")
    slow = [(start, seconds) for start, seconds in answers if seconds * 1000 > p99]
    causes = dict.fromkeys(CAUSES, 0)
    for start, seconds in slow:
        kinds = {event.kind for event in overlapping(start, start + seconds, events, slow_commit_ms=slow_commit_ms)}
        causes[next((cause for cause in CAUSES if cause in kinds), "nothing recorded")] += 1
    print(f"answers slower than p99 ({len(slow)}), by the first of these they overlapped: "
          + ", ".join(f"{count} {cause}" for cause, count in causes.items()))
    print(f"slowest {slowest} (seconds into the run, latency, what overlapped it):")
    for start, seconds in sorted(answers, key=lambda answer: -answer[1])[:slowest]:
        held = overlapping(start, start + seconds, events, slow_commit_ms=slow_commit_ms)
        said = "; ".join(f"{event.kind} {event.ms:.1f} ms ({event.detail}) from +{event.start - origin:.3f} s"
                         for event in held) or "nothing recorded"
        print(f"  +{start - origin:7.3f} s {seconds * 1000:7.1f} ms  {said}")


def main() -> int:
    # Here, not at the top: under pytest `bench` is tests/bench, and its test reads the functions above.
    from bench.http import (
        app_env,
        database,
        load_files,
        postgres_reachable,
        server,
        timed_requests,
        wrk_command,
    )

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--connections", type=int, default=16, help="in all: wrk's and the probe's one")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the probe, under wrk's load")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slow-commit-ms", type=float, default=5.0)
    parser.add_argument("--slowest", type=int, default=10)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    if shutil.which("wrk") is None and args.connections > 1:
        print("wrk is not installed: `make bench-http` installs Debian's package", file=sys.stderr)
        return 2
    if args.backend == "postgres" and not postgres_reachable(args.postgres_url):
        print(f"PostgreSQL not reachable at {args.postgres_url}", file=sys.stderr)
        return 2
    directory = Path(tempfile.mkdtemp(prefix="huiqi-bench-stalls-"))
    try:
        script, bodies, lines = load_files(directory)
        log = directory / "server.log"
        with database(args.backend, directory, args.postgres_url) as url, \
                server("app.main:create_app", app_env(url, APP_LOG_LEVEL="DEBUG"), workers=args.workers,
                       log=log) as (base, _):
            timed_requests(f"{base}/v1/match", lines[0].encode(), seconds=1.0)  # warm-up
            load = None
            if args.connections > 1:
                load = subprocess.Popen(wrk_command(f"{base}/v1/match", concurrency=args.connections - 1,
                                                    seconds=args.duration + 2, script=script, bodies=bodies),
                                        stdout=subprocess.DEVNULL)
                time.sleep(1.0)  # wrk at full load before the probe starts
            answers = timed_requests(f"{base}/v1/match", lines[0].encode(), seconds=args.duration)
            if load is not None:
                load.wait()
        print(f"{args.backend}, uvicorn --workers {args.workers}, {args.connections} connections "
              f"({args.connections - 1} wrk, 1 probe), {args.duration:g} s")
        report(answers, server_events(log), slow_commit_ms=args.slow_commit_ms, slowest=args.slowest)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
