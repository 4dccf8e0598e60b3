"""The policy catalogue: the loaded rule set, and the versions of each rule the service has seen."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db.models import RuleVersion
from app.engine import Profile, Rule, RuleSet
from app.engine.tables import Tables
from app.errors import PolicyNotFoundError, UnknownActivityError

# Validated as Profile validates the field: its type is built at run time, from the vocabulary.
_ACTIVITIES_FIELD = Profile.model_fields["activities"]
assert _ACTIVITIES_FIELD.annotation is not None
_activities: TypeAdapter[list[str] | None] = TypeAdapter(_ACTIVITIES_FIELD.annotation)


def covers(rule: Rule, region_code: str, tables: Tables) -> bool:
    """Whether the rule applies, or may apply, to a company registered at `region_code`: the code is in
    the rule's region, or a larger area holding part of it."""
    return any(tables.region_within(region_code, area) is not False for area in rule.definition.region)


def mentions_activity(rule: Rule, activity: str) -> bool:
    """Whether any of the rule's conditions names the activity (as the quoted id the rules use)."""
    needle = f'"{activity}"'
    return any(needle in criterion.when for criterion in rule.definition.criteria)


def list_policies(
    ruleset: RuleSet, *, region: str | None = None, benefit_kind: str | None = None,
    activity: str | None = None, in_force_on: date | None = None,
) -> list[Rule]:
    """The rules matching every given filter, by id."""
    if activity is not None:
        try:
            _activities.validate_python([activity])
        except ValidationError:
            raise UnknownActivityError(f"{activity!r} is not an activity id of the contract.",
                                       activity=activity) from None
    rules: Iterable[Rule] = ruleset.rules.values()
    if region is not None:
        rules = [r for r in rules if covers(r, region, ruleset.tables)]
    if benefit_kind is not None:
        rules = [r for r in rules if r.definition.benefit.kind == benefit_kind]
    if activity is not None:
        rules = [r for r in rules if mentions_activity(r, activity)]
    if in_force_on is not None:
        rules = [r for r in rules if r.in_force(in_force_on)]
    return sorted(rules, key=lambda r: r.id)


def get_policy(ruleset: RuleSet, policy_id: str) -> Rule:
    """Return the rule with this id, or raise PolicyNotFoundError."""
    rule = ruleset.rules.get(policy_id)
    if rule is None:
        raise PolicyNotFoundError(f"No policy {policy_id!r} in rule set {ruleset.version}.", policy_id=policy_id)
    return rule


def list_versions(session: Session, policy_id: str) -> list[RuleVersion]:
    """Every version of a rule the service has loaded, newest first."""
    return list(session.scalars(
        select(RuleVersion).where(RuleVersion.rule_id == policy_id)
        .order_by(RuleVersion.first_seen_at.desc(), RuleVersion.id.desc())
    ))


_VERSION_BATCH = 500  # rows per INSERT: 2,500 bound values, well under SQLite's limit


def record_rule_versions(session: Session, ruleset: RuleSet, *, now: datetime | None = None) -> int:
    """Store each rule's text under its version unless already stored; never rewrite a stored version.

    Returns how many versions were new. Safe when several workers start at once (ON CONFLICT DO NOTHING).
    """
    now = now or datetime.now(UTC)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new = 0
    rules = list(ruleset.rules.values())
    for start in range(0, len(rules), _VERSION_BATCH):  # multi-row inserts: 10,000 rules start in seconds
        statement = insert(RuleVersion).values([
            {"rule_id": rule.id, "version": rule.version, "file_name": rule.file_name,
             "content": rule.source_text, "first_seen_at": now}
            for rule in rules[start:start + _VERSION_BATCH]
        ]).on_conflict_do_nothing(index_elements=["rule_id", "version"]).returning(RuleVersion.id)
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT run through the ORM.
        new += len(session.execute(statement).all())
    return new


def rule_texts(session: Session, versions: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The stored file texts of exactly these rule versions, and the ids whose version is not stored."""
    rows = session.scalars(select(RuleVersion).where(RuleVersion.rule_id.in_(list(versions))))
    found = {row.rule_id: row for row in rows if versions.get(row.rule_id) == row.version}
    missing = sorted(set(versions) - set(found))
    return {row.file_name: row.content for row in found.values()}, missing
