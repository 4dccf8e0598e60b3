"""The console's searches: policies in the rule set being served (by words, region and benefit), and
logged decisions in the database (by company, credit code, a policy's outcome and dates in China)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from app.console.paging import Page, paginate
from app.db.models import Company, Decision
from app.engine import Rule, RuleSet

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def search_policies(ruleset: RuleSet, *, q: str = "", region: str = "", kind: str = "") -> list[Rule]:
    """Rules whose id or title contains `q`, covering `region` (a code prefix or a name), of `kind`."""
    needle = q.strip().lower()
    place = region.strip()
    tables = ruleset.tables
    found = []
    for rule in ruleset.rules.values():
        d = rule.definition
        if needle and not any(needle in text.lower() for text in (rule.id, d.title.zh, d.title.en)):
            continue
        if kind and d.benefit.kind != kind:
            continue
        if place and not any(_region_matches(place, code, tables) for code in d.region):
            continue
        found.append(rule)
    return sorted(found, key=lambda r: r.id)


def _region_matches(place: str, code: str, tables: Any) -> bool:
    """A code matches a rule region at, above or below it; a name matches by substring, in either language."""
    if place.isdigit():
        return tables.region_within(place, code) is not False  # at or below the rule's region, or holding it
    return place in tables.region_name(code, "zh") or place.lower() in tables.region_name(code, "en").lower()


@dataclass(frozen=True)
class DecisionQuery:
    company: str = ""
    credit_code: str = ""
    policy: str = ""
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _has_result(session: Session, policy: str, outcome: str) -> Any:
    """Decisions whose outcomes include `policy` (any, when empty) with `outcome` (any, when empty)."""
    if session.get_bind().dialect.name == "postgresql":
        outcomes = type_coerce(Decision.outcomes, JSONB)
        if policy:
            return outcomes.contains({policy: outcome}) if outcome else outcomes.has_key(policy)
        each = func.jsonb_each_text(outcomes).table_valued("key", "value")
    else:
        each = func.json_each(Decision.outcomes).table_valued("key", "value")
    conditions = [each.c.key == policy] if policy else []
    if outcome:
        conditions.append(each.c.value == outcome)
    return exists(select(literal(1)).select_from(each).where(and_(*conditions)))


def search_decisions(session: Session, query: DecisionQuery, *, page: int = 1,
                     per_page: int = 25) -> Page[Decision]:
    """Logged decisions matching every given filter, newest first."""
    statement = select(Decision).outerjoin(Company, Company.id == Decision.company_id)
    if query.company.strip():
        pattern = f"%{query.company.strip()}%"
        statement = statement.where(or_(Decision.profile["name"].as_string().ilike(pattern),
                                        Company.name.ilike(pattern)))
    if query.credit_code.strip():
        code = query.credit_code.strip().upper()
        statement = statement.where(or_(Decision.profile["credit_code"].as_string() == code,
                                        Company.credit_code == code))
    if query.policy or query.outcome:
        statement = statement.where(_has_result(session, query.policy, query.outcome))
    if query.date_from:
        statement = statement.where(Decision.created_at >= datetime.combine(query.date_from, time(), CHINA))
    if query.date_to:
        end = datetime.combine(query.date_to + timedelta(days=1), time(), CHINA)
        statement = statement.where(Decision.created_at < end)
    statement = statement.order_by(Decision.created_at.desc(), Decision.id)
    return paginate(session, statement, page=page, per_page=per_page)


def find_decision(session: Session, decision_id: str) -> Decision | None:
    try:
        return session.get(Decision, uuid.UUID(decision_id))
    except ValueError:
        return None
