"""Every table of the service."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONType, UtcDateTime, WrittenJSONType


def utcnow() -> datetime:
    return datetime.now(UTC)


class Company(Base):
    """A stored company profile; `version` counts updates and is the ETag."""

    __tablename__ = "company"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The partner that stored it (None: seeds, the console): whose events feed and webhooks it reaches.
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("api_client.id", ondelete="SET NULL"), index=True
    )


class RuleVersion(Base):
    """One version of one rule file as it was first loaded; rows are never rewritten."""

    __tablename__ = "rule_version"
    __table_args__ = (UniqueConstraint("rule_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiClient(Base):
    """A partner holding an API key; only the key's SHA-256 is stored."""

    __tablename__ = "api_client"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Decision(Base):
    """One evaluation as answered: enough to show it again and to replay it."""

    __tablename__ = "decision"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    as_of: Mapped[date] = mapped_column(Date)
    ruleset_version: Mapped[str] = mapped_column(String(64))
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType)
    results: Mapped[dict[str, Any]] = mapped_column(WrittenJSONType)  # the contract answer, as sent
    # Each policy's status in `results` ({policy_id: status}), small and indexable: what decisions are
    # searched by, so a search never parses the answers.
    outcomes: Mapped[dict[str, str]] = mapped_column(JSONType)
    rule_versions: Mapped[dict[str, str]] = mapped_column(JSONType)
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("company.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("api_client.id", ondelete="SET NULL"), index=True
    )


class CompanyFact(Base):
    """A stored company's facts as typed columns, derived from its profile by the engine: what the
    registry-wide SQL path evaluates. NULL is unknown. Rebuilt when the standards tables change."""

    __tablename__ = "company_fact"

    company_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    facts_version: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(6))
    region_l1: Mapped[str | None] = mapped_column(String(6), index=True)  # province
    region_l2: Mapped[str | None] = mapped_column(String(6), index=True)  # city (or province-run county)
    region_l3: Mapped[str | None] = mapped_column(String(6))  # county / district
    industry_code: Mapped[str | None] = mapped_column(String(5))
    entity_type: Mapped[str | None] = mapped_column(String(32))
    listing_status: Mapped[str | None] = mapped_column(String(16))
    founded_on: Mapped[date | None] = mapped_column(Date)
    employees: Mapped[int | None] = mapped_column(Integer)
    rd_staff: Mapped[int | None] = mapped_column(Integer)
    invention_patents: Mapped[int | None] = mapped_column(Integer)
    annual_revenue: Mapped[float | None] = mapped_column(Double)
    main_business_revenue: Mapped[float | None] = mapped_column(Double)
    total_assets: Mapped[float | None] = mapped_column(Double)
    rd_expense: Mapped[float | None] = mapped_column(Double)
    export_revenue: Mapped[float | None] = mapped_column(Double)
    import_value: Mapped[float | None] = mapped_column(Double)
    valuation: Mapped[float | None] = mapped_column(Double)
    size_class: Mapped[str | None] = mapped_column(String(16))
    size_class_mask: Mapped[int | None] = mapped_column(Integer)  # the classes still possible, a bit each
    urban_district: Mapped[bool | None] = mapped_column(Boolean)
    industry_group: Mapped[str | None] = mapped_column(String(32))
    above_designated_size: Mapped[bool | None] = mapped_column(Boolean)
    above_quota: Mapped[bool | None] = mapped_column(Boolean)
    designated_size_line: Mapped[float | None] = mapped_column(Double)
    rd_intensity: Mapped[float | None] = mapped_column(Double)
    rd_staff_share: Mapped[float | None] = mapped_column(Double)
    export_share: Mapped[float | None] = mapped_column(Double)
    main_business_share: Mapped[float | None] = mapped_column(Double)
    domestic_revenue: Mapped[float | None] = mapped_column(Double)
    certifications_mask: Mapped[int | None] = mapped_column(BigInteger)
    clusters_mask: Mapped[int | None] = mapped_column(BigInteger)
    activities_mask: Mapped[int | None] = mapped_column(BigInteger)


class Official(Base):
    """A government official who signs in to the console; created and disabled from the command line."""

    __tablename__ = "official"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, with its parameters and salt
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OfficialSession(Base):
    """A signed-in console session. The cookie carries a random token; only its HMAC is stored."""

    __tablename__ = "official_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    official_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("official.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SignInThrottle(Base):
    """Sign-in attempts of one key ("user:<username>@<address>" or "ip:<address>") in its current window,
    counted by one INSERT … ON CONFLICT DO UPDATE … RETURNING, so parallel attempts each see their own
    count; a successful sign-in takes its attempt back."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer)


class AuditEvent(Base):
    """One official action. Append-only: the code never updates or deletes a row, and database
    triggers (see the migration) refuse UPDATE and DELETE."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    official_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("official.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)  # as typed, for failed sign-ins too
    action: Mapped[str] = mapped_column(String(40), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45), index=True)


# Event ids are 64-bit on PostgreSQL; SQLite's INTEGER PRIMARY KEY is its rowid (64-bit already).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class CompanyStatus(Base):
    """A stored company's current status under one measure, as last decided (app/events). A row exists
    once the company was anything but ineligible; no row is ineligible at revision 0. `revision` counts
    the row's changes: each change is one StatusEvent, keyed by the revision it made."""

    __tablename__ = "company_status"

    company_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    rule_version: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PolicyStatusRun(Base):
    """For each measure, what its statuses in `company_status` were last decided with: the rule version,
    the facts version and the day. A served rule set whose rule differs is decided again."""

    __tablename__ = "policy_status_run"

    policy_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    rule_version: Mapped[str] = mapped_column(String(64))  # "" once the measure left the rule set
    facts_version: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StatusEvent(Base):
    """One change of a stored company's status under one measure: what partner apps read from
    /v1/events and receive by webhook. Unique by (company, policy, revision), so the same change
    recorded by two processes is one row."""

    __tablename__ = "status_event"
    __table_args__ = (UniqueConstraint("company_id", "policy_id", "revision"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    company_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("company.id", ondelete="CASCADE"), index=True)
    # Copied from the company, so a partner's feed is one index range (client_id, id).
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_client.id", ondelete="SET NULL"))
    policy_id: Mapped[str] = mapped_column(String(100))
    old_status: Mapped[str] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    cause: Mapped[str] = mapped_column(String(16))  # "rule_change" | "profile_change"
    rule_version: Mapped[str] = mapped_column(String(64))
    previous_rule_version: Mapped[str | None] = mapped_column(String(64))
    company_version: Mapped[int | None] = mapped_column(Integer)


Index("ix_status_event_client_id_id", StatusEvent.client_id, StatusEvent.id)
Index("ix_status_event_policy_id_new_status_recorded_at", StatusEvent.policy_id, StatusEvent.new_status,
      StatusEvent.recorded_at)


class Webhook(Base):
    """A partner's receiver of its events. The secret signs each delivery, so it is kept as it was given
    (not hashed) and shown only when the webhook is made. `last_event_id` is how far its deliveries
    have been queued."""

    __tablename__ = "webhook"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_event_id: Mapped[int] = mapped_column(_BIG_ID, default=0)


class WebhookDelivery(Base):
    """One event to one webhook: pending until the receiver answers 2xx (delivered) or the attempts
    run out (failed); `next_attempt_at` is when it is due, or until when a sender holds it."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    webhook_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("webhook.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(_BIG_ID, ForeignKey("status_event.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


Index("ix_webhook_delivery_status_next_attempt_at", WebhookDelivery.status, WebhookDelivery.next_attempt_at)
Index("ix_webhook_delivery_webhook_id_id", WebhookDelivery.webhook_id, WebhookDelivery.id)


class Outreach(Base):
    """An official's follow-up of a firm newly eligible for a measure (the console's outreach page):
    contacted, then confirmed. Every change is in the audit log too."""

    __tablename__ = "outreach"

    company_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # contacted | confirmed
    official_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("official.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
