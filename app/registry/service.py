"""Registry-wide matching in the database: how many stored companies each policy reaches, and what
a draft rule would change, computed by SQL over `company_fact` rather than row by row in Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.orm import Session

from app.db.models import Company, CompanyFact
from app.engine import Profile, Rule, RuleSet
from app.engine.tables import Tables, load_tables
from app.registry.facts import fact_columns, facts_version
from app.registry.sql import ELIGIBLE, INELIGIBLE, existing_on, region_prefilter, rule_condition, rule_status

FACTS = CompanyFact.__table__


def store_facts(session: Session, company_id: uuid.UUID, profile: Profile, tables: Tables | None = None) -> None:
    """Write (or rewrite) one company's fact row; called whenever its profile is stored."""
    session.execute(delete(FACTS).where(FACTS.c.company_id == company_id))
    session.execute(insert(FACTS).values(company_id=company_id, **fact_columns(profile, tables or load_tables())))


def refresh_stale_facts(session: Session, ruleset: RuleSet, *, batch: int = 2000) -> int:
    """Rebuild the fact rows that are missing or were derived with other standards tables; return how
    many. Run at start-up, so a revised standard (say, new SME thresholds) reaches the SQL path."""
    current = facts_version(ruleset.tables)
    stale = (
        select(Company.id, Company.profile)
        .outerjoin(FACTS, FACTS.c.company_id == Company.id)
        .where((FACTS.c.company_id.is_(None)) | (FACTS.c.facts_version != current))
    )
    count = 0
    for company_id, stored in session.execute(stale).all():
        try:
            profile = Profile.model_validate(stored)
        except ValidationError:
            continue  # a profile the current tables reject (a retired region code) cannot be matched
        store_facts(session, company_id, profile, ruleset.tables)
        count += 1
        if count % batch == 0:
            session.flush()
    return count


@dataclass(frozen=True, slots=True)
class Reach:
    policy_id: str
    eligible: int
    needs_info: int
    ineligible: int

    @property
    def total(self) -> int:
        return self.eligible + self.needs_info + self.ineligible


def reach(session: Session, ruleset: RuleSet, *, as_of: date) -> list[Reach]:
    """For every policy in force, how many stored companies are eligible, need information or are
    ineligible: one scan of the fact table with three counts per rule."""
    rules = [rule for rule in ruleset.rules.values() if rule.in_force(as_of)]
    if not rules:
        return []
    columns = []
    for rule in rules:
        condition = rule_condition(FACTS, rule, ruleset.tables, as_of=as_of)
        columns.append(func.count().filter(condition))
        columns.append(func.count().filter(~condition))
    row = session.execute(select(func.count(), *columns).select_from(FACTS).where(existing_on(FACTS, as_of))).one()
    total = row[0]
    results = []
    for index, rule in enumerate(rules):
        eligible, ineligible = row[1 + 2 * index], row[2 + 2 * index]
        results.append(Reach(rule.id, eligible, total - eligible - ineligible, ineligible))
    return results


def statuses(session: Session, rule: Rule, ruleset: RuleSet, *, as_of: date) -> dict[uuid.UUID, str]:
    """Every stored company's status under one rule, decided in SQL."""
    status = rule_status(FACTS, rule, ruleset.tables, as_of=as_of)
    return dict(session.execute(select(FACTS.c.company_id, status).where(existing_on(FACTS, as_of))).all())


@dataclass(frozen=True)
class Impact:
    """What publishing a draft would change: companies gaining or losing eligibility, by status pair."""

    policy_id: str
    as_of: date
    companies: int
    before: dict[str, int]
    after: dict[str, int]
    changes: list[dict[str, Any]]  # company_id, name, credit_code, region_code, before, after

    @property
    def gained(self) -> list[dict[str, Any]]:
        return [c for c in self.changes if c["after"] == ELIGIBLE]

    @property
    def lost(self) -> list[dict[str, Any]]:
        return [c for c in self.changes if c["before"] == ELIGIBLE]


def impact(session: Session, draft: Rule, ruleset: RuleSet, *, as_of: date, limit: int = 500) -> Impact:
    """Compare a draft rule with the published rule of the same id (or with nothing, for a new
    measure) over every stored company.

    A company outside the regions of both versions has the same status under each (ineligible, or
    not in force), so when those two agree only the companies inside are evaluated, found through the
    region indexes, and the rest are counted: the cost follows the measure's region, not the registry
    (bench/registry.py: a Jiangsu draft over a million companies)."""
    tables = ruleset.tables
    current = ruleset.rules.get(draft.id)
    draft_live = draft.in_force(as_of)
    current_live = current is not None and current.in_force(as_of)
    after = rule_status(FACTS, draft, tables, as_of=as_of) if draft_live else None
    before = rule_status(FACTS, current, tables, as_of=as_of) if current_live else None  # type: ignore[arg-type]
    none = literal("not_in_force")
    before_col, after_col = (before if before is not None else none), (after if after is not None else none)
    outside = (INELIGIBLE if current_live else "not_in_force", INELIGIBLE if draft_live else "not_in_force")
    regions = sorted(set(draft.definition.region) | set(current.definition.region if current else ()))
    inside = region_prefilter(FACTS, regions, tables) if outside[0] == outside[1] else None

    existing = existing_on(FACTS, as_of)
    counted = select(before_col.label("before"), after_col.label("after"), func.count()).select_from(FACTS).where(existing)
    if inside is not None:
        counted = counted.where(inside)
    counts: list[tuple[str, str, int]] = [
        (b, a, n) for b, a, n in session.execute(counted.group_by(before_col, after_col)).all()]
    total = sum(n for _, _, n in counts)
    if inside is not None:
        everyone = session.execute(select(func.count()).select_from(FACTS).where(existing)).scalar_one()
        counts.append((outside[0], outside[1], everyone - total))
        total = everyone
    before_counts: dict[str, int] = {}
    after_counts: dict[str, int] = {}
    for b, a, n in counts:
        if n:
            before_counts[b] = before_counts.get(b, 0) + n
            after_counts[a] = after_counts.get(a, 0) + n
    # The first `limit` changes by name, each name looked up by primary key: a join would have the
    # planner, which cannot guess how few rows change, scan the whole (wide) company table.
    name = select(Company.name).where(Company.id == FACTS.c.company_id).scalar_subquery()
    first = (
        select(FACTS.c.company_id, name.label("name"), FACTS.c.region_code,
               before_col.label("before"), after_col.label("after"))
        .where(before_col != after_col, existing)
        .order_by(name, FACTS.c.company_id)
        .limit(limit)
    )
    if inside is not None:
        first = first.where(inside)
    page = first.subquery()
    changed = (
        select(page.c.company_id, page.c.name, Company.credit_code, page.c.region_code, page.c.before,
               page.c.after)
        .join(Company, Company.id == page.c.company_id)
        .order_by(page.c.name, page.c.company_id)
    )
    changes = [dict(row._mapping) for row in session.execute(changed)]
    return Impact(draft.id, as_of, total, before_counts, after_counts, changes)

