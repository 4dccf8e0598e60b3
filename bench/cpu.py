"""CPU per match request, in-process: the service's ASGI app called directly (no sockets, no HTTP
parsing), on a fresh migrated SQLite file, against the bare floor (bench/bare_app.py) called
the same way in the same run.

    .venv/bin/python bench/cpu.py [--requests 3000] [--concurrency 16] [--instructions]

Each target answers the 83 seed profiles in turn (POST /v1/match, every decision logged and committed as
in production), after a warm-up. It prints the process's CPU time per request (every thread: the
request's, the decision log's, the SQLite checkpointer's) and the ratio to the floor.

With `--instructions` it runs itself again under valgrind's callgrind, instrumenting only the measured
requests, and prints the instructions executed per request, per thread. Instructions do not depend on
what else the machine runs, so two versions of the code can be compared on a busy machine where
timings cannot (this is how the answer path was tuned for issue 13: bench/README.md). About a minute;
`valgrind` is Debian's package.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
ROOT = _HERE.parent
sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, MutableMapping
from typing import Any

import yaml

AS_OF = "2025-06-30"  # as bench/http.py asks
ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Coroutine[Any, Any, None]]


def request_bodies() -> list[bytes]:
    seeds = yaml.safe_load((ROOT / "seeds" / "companies.yaml").read_text(encoding="utf-8"))["companies"]
    return [json.dumps({"profile": {k: v for k, v in c.items() if k != "key"}, "as_of": AS_OF},
                       ensure_ascii=False, default=str).encode() for c in seeds]


async def post(app: ASGIApp, body: bytes) -> int:
    """One POST /v1/match through the whole ASGI stack; its status."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/v1/match", "raw_path": b"/v1/match", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
             "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: ASGIApp, bodies: list[bytes], *, requests: int, concurrency: int) -> None:
    """`requests` POSTs from `concurrency` clients at once, each going through the bodies in turn."""
    async def client(offset: int, count: int) -> None:
        for i in range(count):
            status = await post(app, bodies[(offset * 7 + i) % len(bodies)])
            if status != 200:
                raise SystemExit(f"POST /v1/match answered {status}")

    await asyncio.gather(*(client(k, requests // concurrency) for k in range(concurrency)))


@contextlib.asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[None]:
    """The app's lifespan, as uvicorn runs it: started (rules loaded, decision log open), then stopped."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put))
    for event in ("startup", "shutdown"):
        await inbox.put({"type": f"lifespan.{event}"})
        answer = await outbox.get()
        if answer["type"] != f"lifespan.{event}.complete":
            raise SystemExit(f"lifespan {event}: {answer}")
        if event == "startup":
            yield
    await task


def toggle_instrumentation(on: bool) -> None:
    if os.environ.get("BENCH_CPU_CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                       check=True, capture_output=True)


async def measure(app: ASGIApp, bodies: list[bytes], args: argparse.Namespace) -> float:
    """CPU seconds per request of the measured requests (after a warm-up of 300)."""
    await drive(app, bodies, requests=300, concurrency=args.concurrency)
    toggle_instrumentation(True)
    started = time.process_time()
    await drive(app, bodies, requests=args.requests, concurrency=args.concurrency)
    spent = time.process_time() - started
    await asyncio.sleep(0.2)  # the last commit's thread work, counted by callgrind too
    toggle_instrumentation(False)
    return spent / (args.requests // args.concurrency * args.concurrency)


async def measure_service(directory: Path, bodies: list[bytes], args: argparse.Namespace) -> float:
    app = service_app(directory)
    async with running(app):
        return await measure(app, bodies, args)


def service_app(directory: Path) -> ASGIApp:
    from app.main import create_app
    from app.settings import Settings
    from tests.databases import migrate

    url = f"sqlite:///{directory}/bench.sqlite"
    migrate(url)
    settings = Settings(database_url=url, rules_dir=ROOT / "rules", seeds_file=ROOT / "seeds" / "companies.yaml",
                        rate_limit=100_000_000)
    stderr, sys.stderr = sys.stderr, (directory / "server.log").open("w")  # its JSON log, one line a request
    try:
        return create_app(settings)
    finally:
        sys.stderr = stderr


def instructions(args: argparse.Namespace) -> int:
    """Run the measurement of the service again under callgrind; print instructions per request."""
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    directory = Path(tempfile.mkdtemp(prefix="huiqi-bench-cpu-"))
    try:
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes",
                   f"--callgrind-out-file={directory}/callgrind.out", sys.executable, __file__, "--service-only",
                   "--requests", str(args.requests), "--concurrency", str(args.concurrency)]
        subprocess.run(command, check=True, env={**os.environ, "BENCH_CPU_CALLGRIND": "1"},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        counted = args.requests // args.concurrency * args.concurrency
        per_thread = []
        for out in sorted(directory.glob("callgrind.out*")):
            annotated = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True).stdout
            total = re.search(r"^([\d,]+) \S* *PROGRAM TOTALS", annotated, re.MULTILINE)
            if total:
                per_thread.append(int(total.group(1).replace(",", "")))
        per_thread = [count for count in per_thread if count]
        main, *others = per_thread  # callgrind numbers threads in the order they started: the loop's first
        print(f"instructions per request: {sum(per_thread) / counted / 1e6:.2f} M in all; the request thread "
              f"{main / counted / 1e6:.2f} M, other threads (decision log, checkpointer) "
              f"{sum(others) / counted / 1e6:.2f} M ({counted:,} requests at {args.concurrency} at once)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind")
    parser.add_argument("--service-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions:
        return instructions(args)
    bodies = request_bodies()
    directory = Path(tempfile.mkdtemp(prefix="huiqi-bench-cpu-"))
    try:
        service = asyncio.run(measure_service(directory, bodies, args))
        if args.service_only:
            return 0
        from bench.bare_app import app as bare

        floor = asyncio.run(measure(bare, bodies, args))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"CPU per request, in-process ({args.requests:,} requests, {args.concurrency} at once): "
          f"match {service * 1000:.3f} ms, bare floor {floor * 1000:.3f} ms, match / floor {service / floor:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
