"""Registry benchmark: a million synthetic companies matched against the catalogue in SQL.

    .venv/bin/python bench/registry.py [--companies 1000000] [--sample 50000] [--backends sqlite,postgres]
                                       [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                       [--explain]

It builds a throwaway database on each backend (an SQLite file in a temp directory; a PostgreSQL
database it creates and drops), migrated by `alembic upgrade head`, and bulk-loads N companies with a
fixed seed: their `company` rows (profile JSON, valid credit codes) and their `company_fact` rows,
computed by the service's own `fact_columns`. Companies sit where the catalogue's measures apply
(Shenzhen, Jiangsu with Suzhou and Kunshan, Jiangxi, Shanxi, Lin'an) and, for about 40%, elsewhere.

Then, on each backend:
  - `reach`: every company against every rule in force, one SQL statement (the console's reach page);
    reported as wall time and companies x rules per second (first run, and best of three);
  - `impact`: one draft (js-sumao-loan with its export-share threshold raised from 10% to 30%) over
    every company, as the console's draft page runs it (best of three);
then the status events of rule changes (app/events: every rule decided and stored once, the baseline;
then js-sumao-loan loosened, then made stricter, each decided again and diffed in SQL, as a reload does);
and once, the baseline measured in the same run: the Python evaluator (`evaluate`, as the API answers
one company) over the first --sample companies, extrapolated per company x rule. Before timing, SQL
and Python must agree on every rule for every sampled company.

Targets on PostgreSQL: the million against the catalogue in under 20 s; one draft's impact under 2 s; the
events of a rule change under 30 s.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.db.models import Company, CompanyFact
from app.db.session import make_engine
from app.engine import Profile, RuleSet, compile_rule, evaluate, load_ruleset
from app.engine.credit_code import credit_check_character, organisation_check_character
from app.engine.facts import ACTIVITIES, CERTIFICATIONS
from app.engine.tables import Tables, load_tables
from app.registry import service as registry
from app.registry.facts import fact_columns
from app.registry.sql import rule_status
from tests.databases import migrate, scratch_database
from tests.helpers import SUMAO_LOOSER, SUMAO_STRICTER

AS_OF = date(2025, 6, 30)
SEED = 20251
CHUNK = 20_000
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DRAFT = ("js-sumao-loan", *SUMAO_STRICTER)  # SMEs -> micro firms only

# Where the companies are: the catalogue's regions, then the rest of the country.
REGION_SHARES = (
    ("440300", 0.18),  # Shenzhen
    ("320500", 0.10),  # Suzhou (Kunshan 320583 among its counties)
    ("320000", 0.14),  # the rest of Jiangsu
    ("360000", 0.08),  # Jiangxi
    ("140000", 0.07),  # Shanxi
    ("330112", 0.02),  # Lin'an
    (None, 0.41),      # elsewhere
)
COMPANY_COLUMNS = [c.name for c in Company.__table__.columns]
FACT_COLUMNS = [c.name for c in CompanyFact.__table__.columns]


# ------------------------------------------------------------------------------------ synthetic data


class Generator:
    """Synthetic companies from a fixed seed: plausible sizes, money correlated with size, gaps."""

    def __init__(self, tables: Tables, seed: int, serial: int = 0) -> None:
        self.tables = tables
        self.rng = random.Random(seed)
        children: dict[str | None, list[str]] = {}
        for code, region in tables.regions.items():
            children.setdefault(region.parent, []).append(code)
        self.leaves_under: dict[str | None, list[str]] = {}
        catalogue = {code for code, _ in REGION_SHARES if code}
        all_leaves = sorted(code for code in tables.regions if code not in children)
        for code in catalogue:
            under = sorted(c for c in all_leaves if code in tables.region_ancestors.get(c, ()))
            self.leaves_under[code] = under or [code]
        jiangsu_rest = [c for c in self.leaves_under["320000"] if c not in set(self.leaves_under["320500"])]
        self.leaves_under["320000"] = jiangsu_rest
        taken = set().union(*self.leaves_under.values())
        provinces_of_catalogue = {"440000", "320000", "360000", "140000"}
        self.leaves_under[None] = [c for c in all_leaves if c not in taken
                                   and not (tables.region_ancestors.get(c, frozenset()) & provinces_of_catalogue)
                                   and "330112" not in tables.region_ancestors.get(c, ())]
        self.region_keys = [code for code, _ in REGION_SHARES]
        self.region_weights = [share for _, share in REGION_SHARES]
        classes = sorted(code for code, industry in tables.industries.items() if industry.level == "class")
        self.industries = {
            "manufacturing": [c for c in classes if c.startswith("C")],
            "trade": [c for c in classes if c.startswith("F")],
            "software": [c for c in classes if c.startswith("I")],
            "other": [c for c in classes if c[0] not in "CFI"],
        }
        self.clusters = sorted(tables.clusters)
        self.serial = serial  # credit codes are numbered from here: unique across chunks

    def credit_code(self, region: str, entity_type: str = "enterprise") -> str:
        self.serial += 1
        body = f"{self.serial:08d}"
        first17 = ("91" if entity_type == "enterprise" else "92") + region + body + (organisation_check_character(body) or "0")
        return first17 + credit_check_character(first17)

    def profile(self) -> dict[str, Any]:
        rng = self.rng
        area = rng.choices(self.region_keys, self.region_weights)[0]
        region = rng.choice(self.leaves_under[area])
        kind = rng.choices(["manufacturing", "trade", "software", "other"], [0.4, 0.25, 0.1, 0.25])[0]
        employees = max(1, int(rng.lognormvariate(3.2, 1.3)))
        revenue = round(employees * rng.lognormvariate(13.0, 0.8), -3)
        exporter = rng.random() < (0.35 if kind == "manufacturing" else 0.12)
        entity_type = "enterprise" if rng.random() < 0.9 else "individual_business"  # the credit code says which
        profile: dict[str, Any] = {
            "name": f"合成企业{self.serial + 1:07d}有限公司",
            "credit_code": self.credit_code(region, entity_type),
            "region_code": region,
            "industry_code": rng.choice(self.industries[kind]),
            "entity_type": entity_type,
            "founded_on": (date(1992, 1, 1) + timedelta(days=rng.randrange(0, 12_000))).isoformat(),
            "employees": employees,
            "annual_revenue": revenue,
            "main_business_revenue": round(revenue * rng.uniform(0.6, 1.0), -3),
            "total_assets": round(revenue * rng.uniform(0.3, 2.5), -3),
            "rd_expense": round(revenue * rng.choice([0, 0, 0.01, 0.03, 0.06, 0.1]), -3),
            "rd_staff": int(employees * rng.choice([0, 0.05, 0.1, 0.3])),
            "export_revenue": round(revenue * rng.uniform(0.02, 0.8), -3) if exporter else 0,
            "import_value": round(revenue * rng.uniform(0, 0.3), -3) if rng.random() < 0.1 else 0,
            "invention_patents": rng.choice([0, 0, 0, 1, 2, 5, 12]),
            "listing_status": rng.choices(["unlisted", "preparing", "listed"], [0.95, 0.03, 0.02])[0],
            "certifications": rng.sample(CERTIFICATIONS, rng.choices([0, 1, 2], [0.7, 0.2, 0.1])[0]),
            "clusters": rng.sample(self.clusters, rng.choices([0, 1, 2], [0.6, 0.3, 0.1])[0]),
            "activities": rng.sample(ACTIVITIES, rng.choices([0, 1, 2, 3], [0.4, 0.3, 0.2, 0.1])[0]),
        }
        if rng.random() < 0.02:
            profile["valuation"] = round(revenue * rng.uniform(2, 20), -3)
        # Forms come back with gaps: what the owner did not know is unknown, not zero.
        optional = ["founded_on", "total_assets", "rd_expense", "rd_staff", "export_revenue", "import_value",
                    "invention_patents", "listing_status", "certifications", "clusters", "activities",
                    "industry_code", "employees", "annual_revenue", "main_business_revenue"]
        for field in rng.sample(optional, rng.choices([0, 1, 2, 4, 8], [0.45, 0.2, 0.15, 0.12, 0.08])[0]):
            profile.pop(field, None)
        return profile

    def rows(self, count: int) -> Iterator[tuple[uuid.UUID, Profile, dict[str, Any], dict[str, Any]]]:
        """(id, profile, company row, fact row) for `count` companies."""
        now = datetime(2025, 6, 1, tzinfo=UTC)
        for _ in range(count):
            profile = Profile.model_validate(self.profile())
            company_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
            stored = profile.model_dump(mode="json", exclude_none=True)
            company = {"id": company_id, "credit_code": profile.credit_code, "name": profile.name,
                       "region_code": profile.region_code, "profile": stored, "version": 1,
                       "created_at": now, "updated_at": now, "client_id": None}
            facts = {"company_id": company_id, **fact_columns(profile, self.tables)}
            yield company_id, profile, company, facts


def make_chunk(job: tuple[int, int]) -> list[tuple[uuid.UUID, Profile, dict[str, Any], dict[str, Any]]]:
    """Chunk `index` of `count` companies: its own seed, so chunks may be made in parallel."""
    index, count = job
    return list(Generator(load_tables(), SEED * 1000 + index, serial=index * CHUNK).rows(count))


# -------------------------------------------------------------------------------------------- loading


class PostgresLoader:
    """COPY through psycopg, one chunk at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, companies: list[dict[str, Any]], facts: list[dict[str, Any]]) -> None:
        raw = self.engine.raw_connection()
        try:
            with raw.cursor() as cursor:  # type: ignore[attr-defined]
                with cursor.copy(f"COPY company ({', '.join(COMPANY_COLUMNS)}) FROM STDIN") as copy:
                    for row in companies:
                        copy.write_row([json.dumps(row[c], ensure_ascii=False) if c == "profile" else row[c]
                                        for c in COMPANY_COLUMNS])
                with cursor.copy(f"COPY company_fact ({', '.join(FACT_COLUMNS)}) FROM STDIN") as copy:
                    for row in facts:
                        copy.write_row([row[c] for c in FACT_COLUMNS])
            raw.commit()
        finally:
            raw.close()

    def finish(self) -> None:
        raw = self.engine.raw_connection()
        try:
            raw.rollback()
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]  # VACUUM needs it
            with raw.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute("VACUUM ANALYZE company")
                cursor.execute("VACUUM ANALYZE company_fact")
        finally:
            raw.close()


def _sqlite_value(value: Any) -> Any:
    # As SQLAlchemy stores them on SQLite: UUIDs as 32 hex digits, dates as ISO text, JSON as text.
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


class SqliteLoader:
    """executemany of one prepared INSERT per table, in one transaction per chunk."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")

    def load(self, companies: list[dict[str, Any]], facts: list[dict[str, Any]]) -> None:
        with self.conn:
            for table, columns, rows in (("company", COMPANY_COLUMNS, companies),
                                         ("company_fact", FACT_COLUMNS, facts)):
                self.conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    [[_sqlite_value(row[c]) for c in columns] for row in rows])

    def finish(self) -> None:
        self.conn.execute("ANALYZE")
        self.conn.close()


# ----------------------------------------------------------------------------------------- measuring


def timed(function: Callable[[], Any], runs: int) -> tuple[Any, list[float]]:
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, times


def sql_statuses(session: Session, ruleset: RuleSet, rules: list[Any], ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, str], str]:
    """Status of each sampled company under each rule, decided in SQL (the check, not the timing)."""
    facts = CompanyFact.__table__
    columns = [rule_status(facts, rule, ruleset.tables, as_of=AS_OF) for rule in rules]
    found: dict[tuple[uuid.UUID, str], str] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        for row in session.execute(select(facts.c.company_id, *columns).where(facts.c.company_id.in_(chunk))):
            for rule, status in zip(rules, row[1:], strict=True):
                found[(row[0], rule.id)] = status
    return found


def measure_events(engine: Engine, ruleset: RuleSet) -> list[tuple[str, float, int]]:
    """Status events after rule changes, as a reload computes them: the baseline (every rule decided for
    every company, stored without events), then js-sumao-loan loosened (large firms let in), then made
    stricter (micro firms only), each decided again over the registry and diffed in SQL. Returns
    (what, seconds, events) per step."""
    from sqlalchemy.orm import sessionmaker

    from app.events import service as events

    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    start = time.perf_counter()
    refresh = events.refresh_statuses(sessions, ruleset, as_of=AS_OF)
    steps = [(f"baseline: {len(refresh.policies)} rules, no events", time.perf_counter() - start, refresh.events)]
    current = ruleset.rules[DRAFT[0]]
    for label, (old, new) in (("looser (large firms in)", SUMAO_LOOSER), ("stricter (micro only)", SUMAO_STRICTER)):
        changed = compile_rule(current.source_text.replace(old, new, 1), current.file_name, tables=ruleset.tables)
        start = time.perf_counter()
        with sessions() as session:
            count = events.decide_policy(session, changed.id, changed, ruleset, as_of=AS_OF)
            session.commit()
        steps.append((f"{DRAFT[0]} {label}", time.perf_counter() - start, count))
    return steps


def explain(engine: Engine, ruleset: RuleSet) -> None:
    """Print PostgreSQL's plan, with timings, of the reach statement as the service sends it."""
    from sqlalchemy import event

    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "count(" in statement:
            import psycopg

            statements.append(psycopg.ClientCursor(cursor.connection).mogrify(statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            registry.reach(session, ruleset, as_of=AS_OF)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statements[-1])
            plan = [row[0] for row in cursor.fetchall()]
    finally:
        raw.close()
    print("\n".join("    " + line[:160] for line in plan) + "\n")


# --------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=50_000, help="companies the Python baseline evaluates")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL's plan of the reach statement")
    parser.add_argument("--no-events", action="store_true", help="skip the status events after rule changes")
    args = parser.parse_args()
    sample_size = min(args.sample, args.companies)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    ruleset = load_ruleset(ROOT / "rules")
    in_force = [rule for rule in ruleset.rules.values() if rule.in_force(AS_OF)]
    current = ruleset.rules[DRAFT[0]]
    draft = compile_rule(current.source_text.replace(DRAFT[1], DRAFT[2], 1), current.file_name,
                         tables=ruleset.tables)
    print(f"{args.companies:,} companies, {len(in_force)} of {len(ruleset.rules)} rules in force on {AS_OF}; "
          f"seed {SEED}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory(prefix="huiqi-bench-") as tmp, \
            (scratch_database(Path(tmp), args.postgres_url, prefix="huiqi_bench") if "postgres" in backends
             else _nothing()) as pg_url:
        engines: dict[str, Engine] = {}
        loaders: dict[str, Any] = {}
        if "sqlite" in backends:
            path = Path(tmp) / "registry.db"
            url = f"sqlite:///{path}"
            migrate(url)
            engines["sqlite"] = make_engine(url)
            loaders["sqlite"] = SqliteLoader(path)
        if "postgres" in backends:
            assert pg_url is not None
            migrate(pg_url)
            engines["postgres"] = make_engine(pg_url)
            loaders["postgres"] = PostgresLoader(engines["postgres"])

        # ---- generate (two processes; the tables make the facts) and load, chunk by chunk
        sample: list[tuple[uuid.UUID, Profile]] = []
        load_s = dict.fromkeys(loaders, 0.0)
        jobs = [(index, min(CHUNK, args.companies - index * CHUNK)) for index in range(-(-args.companies // CHUNK))]
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(2) as pool:
            for batch in pool.imap(make_chunk, jobs):
                if len(sample) < sample_size:
                    sample.extend((cid, profile) for cid, profile, _, _ in batch[: sample_size - len(sample)])
                companies = [company for _, _, company, _ in batch]
                facts = [fact for _, _, _, fact in batch]
                for name, loader in loaders.items():
                    start = time.perf_counter()
                    loader.load(companies, facts)
                    load_s[name] += time.perf_counter() - start
        for name, loader in loaders.items():
            start = time.perf_counter()
            loader.finish()
            load_s[name] += time.perf_counter() - start
        print(f"generated and loaded in {time.perf_counter() - started:.0f} s (profiles validated, facts by "
              "fact_columns, in two processes); of which loading "
              + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in load_s.items()))

        # ---- the baseline: the Python evaluator on the sample
        profiles = [profile for _, profile in sample]

        def evaluate_sample() -> None:
            for profile in profiles:  # one at a time, as the API answers; nothing kept
                evaluate(ruleset, profile, as_of=AS_OF)

        gc.collect()
        gc.freeze()  # the sample and the rule set are long-lived: not the evaluator's garbage to scan
        _, python_times = timed(evaluate_sample, args.runs)
        python_s = min(python_times)
        decisions = {cid: evaluate(ruleset, p, as_of=AS_OF) for cid, p in sample}
        expected = {(cid, result.rule.id): result.status for cid, d in decisions.items() for result in d.results}
        python_ns = python_s / (len(profiles) * len(in_force)) * 1e9

        # ---- SQL on each backend
        table: list[tuple[str, str, float, float, float, float]] = []
        event_rows: list[tuple[str, str, float, int]] = []
        for name, engine in engines.items():
            with Session(engine) as session:
                agreed = sql_statuses(session, ruleset, in_force, [cid for cid, _ in sample])
                disagreements = sum(agreed[key] != status for key, status in expected.items())
                if disagreements:
                    print(f"{name}: SQL and Python disagree on {disagreements:,} company x rule pairs")
                    return 1
                reach, reach_times = timed(lambda: registry.reach(session, ruleset, as_of=AS_OF), args.runs)
                impact, impact_times = timed(lambda: registry.impact(session, draft, ruleset, as_of=AS_OF),
                                             args.runs)
            assert sum(r.total for r in reach) == args.companies * len(in_force)
            table.append((name, "reach", reach_times[0], min(reach_times), 0, 0))
            table.append((name, "impact", impact_times[0], min(impact_times), 0, 0))
            eligible = sum(r.eligible for r in reach)
            needs_info = sum(r.needs_info for r in reach)
            print(f"{name}: SQL = Python on all {len(sample):,} sampled companies x {len(in_force)} rules; "
                  f"{eligible:,} eligible and {needs_info:,} needs_info pairs in all; draft "
                  f"{DRAFT[0]} ({DRAFT[1].strip()} -> {DRAFT[2].strip()}): {len(impact.lost):,}+ lose, "
                  f"{len(impact.gained):,}+ gain (first 500 changes listed)")
            if args.explain and name == "postgres":
                explain(engine, ruleset)
            if not args.no_events:
                for what, seconds, count in measure_events(engine, ruleset):
                    event_rows.append((name, what, seconds, count))
            engine.dispose()

        pairs = args.companies * len(in_force)
        print()
        header = (f"{'backend':<10} {'what':<32} {'first run':>10} {'best':>9} {'pairs/s':>12} {'ns/pair':>8}")
        print(header)
        print("-" * len(header))
        for name, what, first, best, _, _ in table:
            label = (f"reach: {args.companies:,} x {len(in_force)} rules" if what == "reach"
                     else f"impact: 1 draft x {args.companies:,}")
            work = pairs if what == "reach" else args.companies
            print(f"{name:<10} {label:<32} {first:>9.2f}s {best:>8.2f}s {work / best:>12,.0f} "
                  f"{best / work * 1e9:>8.1f}")
        extrapolated = python_ns * pairs / 1e9
        print(f"{'python':<10} {f'evaluate: {len(profiles):,} x {len(in_force)} rules':<32} {python_times[0]:>9.2f}s "
              f"{python_s:>8.2f}s {1e9 / python_ns:>12,.0f} {python_ns:>8.1f}")
        print(f"{'':<10} {f'(extrapolated to {args.companies:,})':<32} {extrapolated:>9.1f}s")
        if event_rows:
            print(f"\n{'backend':<10} {'status events after a rule change':<48} {'time':>8} {'events':>10}")
            for name, what, seconds, count in event_rows:
                print(f"{name:<10} {what:<48} {seconds:>7.2f}s {count:>10,}")
        print(f"\nload average {os.getloadavg()[0]:.1f} at the end (other work on the machine slows every figure)")
        print("Targets (PostgreSQL): reach under 20 s for 1,000,000 companies; one draft's impact under 2 s; "
              "a rule change's status events under 30 s.")
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
