"""Status events: which stored companies changed status under which measure, and why.

`company_status` holds each stored company's status per measure as last decided; every change of it is
one `status_event` row, written in the same transaction, keyed by (company, policy, revision) so that
the same change is recorded once however many processes see it. Three causes:

- a rule change (a new rule set served at start, on reload or SIGHUP): each measure whose rule file,
  standards tables or in-force state differ from what its statuses were decided with is decided again
  for the whole registry in SQL (app/registry/sql.py), and the diff with the stored statuses is one
  INSERT … SELECT, never a loop over companies;
- a profile change (a company stored or replaced): that one company is evaluated by the engine;
- a date change (`python -m app events refresh`, run daily): every measure is decided again for the
  day, as for a rule change, so that a firm reaching an age a measure asks for, or a measure coming
  into or out of force, is news too.

Event inserts are serialised (a PostgreSQL advisory lock; SQLite has one writer), so event ids grow in
commit order and a reader resuming after id N never misses a later-committed smaller id. A second
process taking the lock after the first finds the statuses already changed: nothing to record.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, case, func, literal, or_, select, text, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db.base import UtcDateTime
from app.db.models import Company, CompanyFact, CompanyStatus, PolicyStatusRun, StatusEvent
from app.engine import Profile, ProfileDateError, Rule, RuleSet, evaluate
from app.registry.facts import facts_version
from app.registry.sql import INELIGIBLE, existing_on, region_prefilter, rule_status

log = logging.getLogger("huiqi.events")

RULE_CHANGE, PROFILE_CHANGE, DATE_CHANGE = "rule_change", "profile_change", "date_change"
FACTS = CompanyFact.__table__
STATUS = CompanyStatus.__table__
EVENTS = StatusEvent.__table__
RUNS = PolicyStatusRun.__table__
# pg_advisory_xact_lock key of the event log: any 64-bit number no other code uses ("huiqi ev").
EVENTS_LOCK = 0x6875_6971_6920_6576


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT with ON CONFLICT clauses, in the dialect of the session's database."""
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def lock_events(session: Session) -> None:
    """Hold the event log until this transaction ends: ids are then given out in commit order."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENTS_LOCK})


def _upsert_statuses(session: Session, rows: Any) -> None:
    """Write (company_id, policy_id, status, rule_version, revision, changed_at) rows, a select or values."""
    statement = insert_for(session, STATUS)
    columns = ["company_id", "policy_id", "status", "rule_version", "revision", "changed_at"]
    # SQLite parses INSERT … SELECT … ON CONFLICT only when the SELECT has a WHERE clause.
    statement = statement.from_select(columns, rows.where(true())) if not isinstance(rows, list) else statement.values(rows)
    session.execute(statement.on_conflict_do_update(
        index_elements=[STATUS.c.company_id, STATUS.c.policy_id],
        set_={name: statement.excluded[name] for name in columns[2:]}))


# ---------------------------------------------------------------------------------------------------
# Rule changes: whole measures, in SQL
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refresh:
    """What deciding the registry again under a rule set did."""

    policies: list[str]  # the measures decided again
    events: int
    baseline: bool  # the first decision ever: statuses stored, no events


def _run_key(rule: Rule | None, tables_version: str, as_of: date) -> tuple[str, str, bool]:
    if rule is None:
        return "", tables_version, False
    return rule.version, tables_version, rule.in_force(as_of)


def _stale(run: Any, rule: Rule | None, tables_version: str, as_of: date) -> bool:
    if run is None:
        return rule is not None
    if rule is None:
        return bool(run.rule_version)
    return (run.rule_version, run.facts_version, rule.in_force(run.as_of)) != _run_key(rule, tables_version, as_of)


def refresh_statuses(sessions: Callable[[], Session], ruleset: RuleSet, *, as_of: date,
                     force: bool = False, cause: str = RULE_CHANGE) -> Refresh:
    """Decide again every measure whose statuses were decided with another rule, other standards tables
    or another in-force state (all of them with `force`), recording each change as an event of `cause`;
    one transaction per measure. The first time ever only the statuses are stored (a baseline, not news)."""
    tables_version = facts_version(ruleset.tables)
    with sessions() as session:
        runs = {run.policy_id: run for run in session.execute(select(RUNS)).all()}
    baseline = not runs
    todo: list[tuple[str, Rule | None]] = [
        (rule.id, rule) for rule in ruleset.rules.values()
        if force or _stale(runs.get(rule.id), rule, tables_version, as_of)]
    todo += [(policy_id, None) for policy_id, run in runs.items()
             if policy_id not in ruleset.rules and _stale(run, None, tables_version, as_of)]
    events = 0
    for policy_id, rule in sorted(todo, key=lambda item: item[0]):
        with sessions() as session:
            events += decide_policy(session, policy_id, rule, ruleset, as_of=as_of, silent=baseline, force=force,
                                    cause=cause)
            session.commit()
    if todo:
        log.info("statuses decided again", extra={"fields": {
            "message": "statuses decided again", "policies": len(todo), "events": events, "baseline": baseline}})
    return Refresh([policy_id for policy_id, _ in todo], events, baseline)


def decide_policy(session: Session, policy_id: str, rule: Rule | None, ruleset: RuleSet, *, as_of: date,
                  silent: bool = False, force: bool = False, now: datetime | None = None,
                  cause: str = RULE_CHANGE) -> int:
    """Decide one measure (None: gone from the rule set) for every stored company and record the
    changes; return how many events. Skipped when another process has just done it."""
    now = now or datetime.now(UTC)
    tables_version = facts_version(ruleset.tables)
    lock_events(session)
    run = session.execute(select(RUNS).where(RUNS.c.policy_id == policy_id)).first()
    if not force and not _stale(run, rule, tables_version, as_of):
        return 0  # decided by another process while this one waited for the lock
    held = select(STATUS.c.company_id).where(STATUS.c.policy_id == policy_id, STATUS.c.status != INELIGIBLE)
    if rule is not None and rule.in_force(as_of):
        decided = case((existing_on(FACTS, as_of), rule_status(FACTS, rule, ruleset.tables, as_of=as_of)),
                       else_=literal(INELIGIBLE))
        # Outside the measure's regions every company is ineligible: only those inside, and those
        # whose stored status is something else, need deciding.
        inside = region_prefilter(FACTS, list(rule.definition.region), ruleset.tables)
        fresh = select(FACTS.c.company_id, decided.label("status")).where(or_(inside, FACTS.c.company_id.in_(held)))
    else:
        fresh = select(STATUS.c.company_id, literal(INELIGIBLE).label("status")).where(
            STATUS.c.policy_id == policy_id, STATUS.c.status != INELIGIBLE)
    new = fresh.subquery("fresh")
    old_status = func.coalesce(STATUS.c.status, INELIGIBLE)
    changes = (
        select(new.c.company_id, old_status.label("old_status"), new.c.status.label("new_status"),
               (func.coalesce(STATUS.c.revision, 0) + 1).label("revision"),
               STATUS.c.rule_version.label("previous_rule_version"))
        .select_from(new.outerjoin(STATUS, and_(STATUS.c.company_id == new.c.company_id,
                                                STATUS.c.policy_id == policy_id)))
        .where(new.c.status != old_status)
    ).subquery("changes")
    version = rule.version if rule is not None else ""
    at = literal(now, UtcDateTime())
    count = 0
    if silent:
        _upsert_statuses(session, select(changes.c.company_id, literal(policy_id), changes.c.new_status,
                                         literal(version), changes.c.revision, at))
    else:
        before = session.scalar(select(func.coalesce(func.max(EVENTS.c.id), 0)))
        owner = select(Company.client_id).where(Company.id == changes.c.company_id).scalar_subquery()
        columns = ["recorded_at", "company_id", "client_id", "policy_id", "old_status", "new_status", "revision",
                   "cause", "rule_version", "previous_rule_version"]
        rows = select(at, changes.c.company_id, owner, literal(policy_id), changes.c.old_status,
                      changes.c.new_status, changes.c.revision, literal(cause), literal(version),
                      changes.c.previous_rule_version)
        session.execute(insert_for(session, EVENTS).from_select(columns, rows.where(true())).on_conflict_do_nothing())
        ours = and_(EVENTS.c.id > before, EVENTS.c.policy_id == policy_id)  # the lock is held: no one else's
        count = session.scalar(select(func.count()).select_from(EVENTS).where(ours)) or 0
        _upsert_statuses(session, select(
            EVENTS.c.company_id, EVENTS.c.policy_id, EVENTS.c.new_status, EVENTS.c.rule_version, EVENTS.c.revision,
            EVENTS.c.recorded_at).where(ours))
    key = {"rule_version": version, "facts_version": tables_version, "as_of": as_of, "computed_at": now}
    statement = insert_for(session, RUNS).values(policy_id=policy_id, **key)
    session.execute(statement.on_conflict_do_update(index_elements=[RUNS.c.policy_id], set_=key))
    return count


# ---------------------------------------------------------------------------------------------------
# Profile changes: one company, by the engine
# ---------------------------------------------------------------------------------------------------


def record_profile_change(session: Session, company: Company, ruleset: RuleSet, *, as_of: date,
                          now: datetime | None = None) -> int:
    """Decide one stored company under every measure of `ruleset` and record what changed; return how
    many events. A profile the engine cannot read now (a retired region code) is left as it was."""
    try:
        evaluation = evaluate(ruleset, Profile.model_validate(company.profile), as_of=as_of)
    except (ValidationError, ProfileDateError):
        return 0
    now = now or datetime.now(UTC)
    decided = {result.policy_id: result.status for result in evaluation.results}
    lock_events(session)
    stored = {row.policy_id: row for row in session.execute(
        select(STATUS).where(STATUS.c.company_id == company.id)).all()}
    events = []
    for policy_id, rule in ruleset.rules.items():
        row = stored.get(policy_id)
        old, new = (row.status if row else INELIGIBLE), decided.get(policy_id, INELIGIBLE)
        if old != new:
            events.append({"recorded_at": now, "company_id": company.id, "client_id": company.client_id,
                           "policy_id": policy_id, "old_status": old, "new_status": new,
                           "revision": (row.revision if row else 0) + 1, "cause": PROFILE_CHANGE,
                           "rule_version": rule.version, "previous_rule_version": row.rule_version if row else None,
                           "company_version": company.version})
    if not events:
        return 0
    recorded = session.execute(insert_for(session, EVENTS).values(events).on_conflict_do_nothing()
                               .returning(EVENTS.c.policy_id)).scalars().all()
    _upsert_statuses(session, [
        {"company_id": e["company_id"], "policy_id": e["policy_id"], "status": e["new_status"],
         "rule_version": e["rule_version"], "revision": e["revision"], "changed_at": now}
        for e in events if e["policy_id"] in set(recorded)])
    return len(recorded)


# ---------------------------------------------------------------------------------------------------
# Reading the log
# ---------------------------------------------------------------------------------------------------


def list_events(session: Session, *, client_id: uuid.UUID, after: int = 0, limit: int = 100) -> list[StatusEvent]:
    """The events of the companies `client_id` stored, after event `after`, oldest first."""
    return list(session.scalars(
        select(StatusEvent).where(StatusEvent.client_id == client_id, StatusEvent.id > after)
        .order_by(StatusEvent.id).limit(limit)))
