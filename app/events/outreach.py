"""Outreach (免申即享's 数据比对 → 意愿确认): for one measure, the stored companies that became eligible
since a day and still are, and officials' marks on them (contacted, confirmed). HTTP-free; the console
(app/console/outreach.py) shows it and writes the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.companies import service as companies_service
from app.db.models import Company, CompanyStatus, Outreach, StatusEvent
from app.events.service import insert_for

STATES = ("contacted", "confirmed")
OUTREACH_MARKED, OUTREACH_EXPORTED = "outreach_marked", "outreach_exported"  # their audit log actions


@dataclass(frozen=True, slots=True)
class NewlyEligible:
    company: Company
    event: StatusEvent  # the latest change that made it eligible
    outreach: Outreach | None


def newly_eligible(session: Session, policy_id: str, *, since: datetime,
                   limit: int = 500) -> tuple[list[NewlyEligible], int]:
    """The companies that became eligible for `policy_id` at or after `since` and are eligible now,
    most recent first (at most `limit`), and how many there are."""
    latest = (
        select(StatusEvent.company_id, func.max(StatusEvent.id).label("event_id"))
        .where(StatusEvent.policy_id == policy_id, StatusEvent.new_status == "eligible",
               StatusEvent.recorded_at >= since)
        .group_by(StatusEvent.company_id)
    ).subquery()
    still = and_(CompanyStatus.company_id == latest.c.company_id, CompanyStatus.policy_id == policy_id,
                 CompanyStatus.status == "eligible")
    base = select(latest.c.event_id).join(CompanyStatus, still)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        select(Company, StatusEvent, Outreach)
        .join(latest, latest.c.company_id == Company.id)
        .join(StatusEvent, StatusEvent.id == latest.c.event_id)
        .join(CompanyStatus, still)
        .outerjoin(Outreach, and_(Outreach.company_id == Company.id, Outreach.policy_id == policy_id))
        .order_by(StatusEvent.id.desc())
        .limit(limit)
    ).all()
    return [NewlyEligible(company, event, outreach) for company, event, outreach in rows], total


def mark(session: Session, *, company_id: str, policy_id: str, state: str, official_id: uuid.UUID,
         now: datetime | None = None) -> Company:
    """Record that an official contacted the company about the measure, or that it confirmed."""
    assert state in STATES, state
    company = companies_service.get_company(session, company_id)
    values = {"state": state, "official_id": official_id, "updated_at": now or datetime.now(UTC)}
    statement = insert_for(session, Outreach.__table__).values(company_id=company.id, policy_id=policy_id, **values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[Outreach.__table__.c.company_id, Outreach.__table__.c.policy_id], set_=values))
    return company
