"""The audit log: what officials did (and what was tried in their name), appended and read, nothing
else; the database refuses UPDATE and DELETE on audit_event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.console.paging import Page, paginate
from app.db.models import AuditEvent

SIGN_IN, SIGN_IN_FAILED, SIGN_IN_REFUSED, SIGN_OUT = "sign_in", "sign_in_failed", "sign_in_refused", "sign_out"
DRAFT_EVALUATED, REPLAY, BATCH_MATCHED = "draft_evaluated", "replay", "batch_matched"
OFFICIAL_CREATED, OFFICIAL_DISABLED = "official_created", "official_disabled"


def record_event(session: Session, *, action: str, username: str, official_id: uuid.UUID | None = None,
                 ip: str | None = None, details: Mapping[str, Any] | None = None,
                 now: datetime | None = None) -> AuditEvent:
    """Append one event to the audit log."""
    event = AuditEvent(recorded_at=now or datetime.now(UTC), official_id=official_id, username=username[:64],
                       action=action, details=dict(details or {}), ip=ip)
    session.add(event)
    session.flush()
    return event


def list_events(session: Session, *, page: int = 1, per_page: int = 50) -> Page[AuditEvent]:
    """The audit log, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.recorded_at.desc(), AuditEvent.id.desc())
    return paginate(session, query, page=page, per_page=per_page)
