"""Memory benchmark: peak resident memory (RSS) of one service worker, against bare Python + FastAPI.

    .venv/bin/python bench/memory.py [--rules 10000] [--requests 2000]

Each case runs in a fresh process and prints its peak RSS (VmHWM) and its RSS at the end:
  - `baseline`: Python with FastAPI and uvicorn imported and an empty app made (the floor of any worker);
  - `catalogue`: a worker as uvicorn runs it: the app made, its lifespan run (the rules/ catalogue
    loaded and recorded, the writer started) on a fresh migrated SQLite file, then `--requests`
    POST /v1/match calls (seed profiles) through the ASGI app, so the answer path and the decision
    log have been exercised;
  - `N synthetic rules`: the same with bench/engine.py's synthetic rule set (`--rules` files, fixed
    seed) instead of the catalogue, and synthetic profiles.
Then each case's peak against the baseline's (× and MiB above it).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on sys.path, where bench/http.py would shadow the
# standard library's `http` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from typing import Any

ROOT = _HERE.parent
sys.path.insert(0, str(ROOT))


def memory_kib() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0])
    return fields


def write_synthetic_rules(directory: Path, count: int) -> list[dict[str, Any]]:
    """Write bench/engine.py's synthetic rule files (and the source they quote); return profiles for them."""
    from app.engine.tables import load_tables
    from bench.engine import SEED, rule_regions, synthetic_places, synthetic_profiles, synthetic_rules

    places = synthetic_places(load_tables())
    rng = random.Random(SEED + count)
    regions = rule_regions(count, rng, places)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in synthetic_rules(count, rng, regions, places.divisions).items():
        (directory / name).write_text(text, encoding="utf-8")
    (directory / "sources").mkdir(exist_ok=True)
    shutil.copy(ROOT / "rules" / "sources" / "source-article.txt", directory / "sources")
    profiles = synthetic_profiles(500, random.Random(SEED), places.counties, places.classes)
    return [profile.model_dump(mode="json", exclude_none=True) for profile in profiles]


async def call(app: Any, body: bytes) -> int:
    """One POST /v1/match through the ASGI app, as uvicorn would make it."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/match", "raw_path": b"/v1/match", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    delivered = False
    status = 0
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()  # as uvicorn does: a disconnect only once the response is out
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif not message.get("more_body", False):
            finished.set()

    await app(scope, receive, send)
    return status


def child(case: str, database_url: str, rules_dir: str, bodies_file: str, requests: int) -> None:
    started = time.perf_counter()
    if case == "baseline":
        import fastapi
        import uvicorn  # noqa: F401  (a worker imports it)

        fastapi.FastAPI()
        print(json.dumps({**memory_kib(), "seconds": time.perf_counter() - started, "rules": 0, "answer_kib": 0}))
        return
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(database_url=database_url, rules_dir=Path(rules_dir), rate_limit=0, log_level="WARNING")
    app = create_app(settings)
    bodies = Path(bodies_file).read_bytes().splitlines()

    async def run() -> tuple[int, float]:
        async with app.router.lifespan_context(app):
            loaded = time.perf_counter() - started
            for n in range(requests):
                status = await call(app, bodies[n % len(bodies)])
                assert status == 200, status
            return len(app.state.rules.current.rules), loaded

    rules, loaded = asyncio.run(run())
    measured = memory_kib()  # before the sample answer below, which loads the rule set again
    from datetime import date

    from app.engine import load_ruleset
    from app.matching import service
    from app.matching.schemas import MatchRequest

    sample = MatchRequest.model_validate_json(bodies[0])
    matched = service.match(load_ruleset(Path(rules_dir)), sample.profile, as_of=date(2025, 6, 30))
    print(json.dumps({**measured, "seconds": loaded, "rules": rules, "answer_kib": len(matched.answer_json) / 1024}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=10_000, help="synthetic rules in the second case")
    parser.add_argument("--requests", type=int, default=2_000, help="matches answered before measuring")
    parser.add_argument("--synthetic-requests", type=int, default=50,
                        help="matches answered on the synthetic set (each answer lists every rule in force: "
                             "with 10,000 rules an answer is megabytes and takes a good part of a second)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, url, rules_dir, bodies, requests = args.child
        child(case, url, rules_dir, bodies, int(requests))
        return 0

    import yaml
    from alembic import command
    from alembic.config import Config

    directory = Path(tempfile.mkdtemp(prefix="huiqi-bench-memory-"))
    try:
        seeds = yaml.safe_load((ROOT / "seeds" / "companies.yaml").read_text(encoding="utf-8"))["companies"]
        seed_bodies = directory / "seed-bodies.jsonl"
        seed_bodies.write_text("\n".join(
            json.dumps({"profile": {k: v for k, v in c.items() if k != "key"}, "as_of": "2025-06-30"},
                       ensure_ascii=False, default=str) for c in seeds), encoding="utf-8")
        synthetic_dir = directory / "synthetic-rules"
        synthetic_bodies = directory / "synthetic-bodies.jsonl"
        synthetic_bodies.write_text("\n".join(
            json.dumps({"profile": profile, "as_of": "2025-06-30"}, ensure_ascii=False)
            for profile in write_synthetic_rules(synthetic_dir, args.rules)), encoding="utf-8")

        def database(name: str) -> str:
            url = f"sqlite:///{directory / name}"
            config = Config(str(ROOT / "alembic.ini"))
            config.set_main_option("script_location", str(ROOT / "migrations"))
            config.attributes["database_url"] = url
            config.attributes["configure_logger"] = False
            command.upgrade(config, "head")
            return url

        cases = [("baseline", "python + fastapi + uvicorn", "", "", seed_bodies, 0),
                 ("service", "catalogue (rules/)", database("catalogue.db"), str(ROOT / "rules"), seed_bodies,
                  args.requests),
                 ("service", f"{args.rules:,} synthetic rules", database("synthetic.db"), str(synthetic_dir),
                  synthetic_bodies, args.synthetic_requests)]
        print(f"one worker process each; then {args.requests:,} matches answered on the catalogue, "
              f"{args.synthetic_requests:,} on the synthetic set, before measuring; Python {sys.version.split()[0]}")
        header = (f"{'case':<28} {'rules':>7} {'start s':>8} {'answer KiB':>10} {'peak RSS MiB':>13} {'RSS MiB':>8} "
                  f"{'peak / baseline':>16}")
        print(header)
        print("-" * len(header))
        baseline = None
        for case, label, url, rules_dir, bodies, requests in cases:
            result = subprocess.run(
                [sys.executable, __file__, "--child", case, url or "-", rules_dir or "-", str(bodies),
                 str(requests)], capture_output=True, text=True, cwd=ROOT, check=False,
                env={**os.environ, "APP_LOG_LEVEL": "WARNING"},
            )
            if result.returncode != 0:
                print(result.stderr[-3000:], file=sys.stderr)
                return 1
            measured = json.loads(result.stdout.strip().splitlines()[-1])
            peak, rss = measured["VmHWM"] / 1024, measured["VmRSS"] / 1024
            baseline = baseline or peak
            print(f"{label:<28} {measured['rules']:>7,} {measured['seconds']:>8.1f} {measured['answer_kib']:>10,.0f} "
                  f"{peak:>13.1f} {rss:>8.1f} "
                  f"{peak / baseline:>8.1f}x +{peak - baseline:>5.0f}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
