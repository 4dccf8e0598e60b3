"""Signing in: the password checked, every attempt in the audit log, and the throttle. Failures are
counted per (username, address) and per address before the password is checked, so guessing is paused
for that address only and nobody can lock an official out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.console import audit
from app.console.accounts import (
    dummy_password_hash,
    hash_password,
    normalise_username,
    password_hash_outdated,
    verify_password,
)
from app.db.base import UtcDateTime
from app.db.models import Official, SignInThrottle
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of a sign-in attempt: the official, or why not (and for how long when throttled)."""

    official: Official | None
    retry_after_minutes: int | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after_minutes is not None


def _throttle_keys(username: str, ip: str | None, settings: Settings) -> list[tuple[str, int]]:
    """What an attempt counts against: its username from its address, and its address. Never the
    username alone, so failures from elsewhere cannot lock a real official out; the per-address limit
    is higher, as an office shares one address."""
    address = ip or "unknown"
    return [(f"user:{username}@{address}", settings.max_failures_per_username),
            (f"ip:{address}", settings.max_failures_per_ip)]


def _count_attempt(session: Session, key: str, *, now: datetime, since: datetime) -> tuple[int, datetime]:
    """Add one attempt to `key` (a new window when its window has passed); return the count and the
    window's start. One statement: parallel attempts take the row's lock in turn, each seeing its own
    count (a count read before the attempt let 19 of 20 parallel attempts through a limit of 5)."""
    table = SignInThrottle.__table__
    dialect = session.get_bind().dialect.name
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    stale = table.c.window_start <= literal(since, UtcDateTime())
    statement = insert.values(key=key, window_start=now, attempts=1).on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"attempts": case((stale, 1), else_=table.c.attempts + 1),
              "window_start": case((stale, literal(now, UtcDateTime())), else_=table.c.window_start)},
    ).returning(table.c.attempts, table.c.window_start)
    attempts, started = session.execute(statement).one()
    return attempts, started


def _take_back_attempt(session: Session, keys: list[str]) -> None:
    """A successful sign-in was not a failure: its attempt no longer counts."""
    session.execute(update(SignInThrottle).where(SignInThrottle.key.in_(keys), SignInThrottle.attempts > 0)
                    .values(attempts=SignInThrottle.attempts - 1))


def throttled_for(session: Session, *, username: str, ip: str | None, settings: Settings,
                  now: datetime) -> tuple[int | None, list[str]]:
    """Count this attempt; return the minutes until its username and address may try again (None if
    it may try now), and the keys it was counted against."""
    window = timedelta(minutes=settings.failure_window_minutes)
    since = now - window
    session.execute(delete(SignInThrottle).where(SignInThrottle.window_start <= since))  # tidy up, no more
    waits = []
    keys = _throttle_keys(username, ip, settings)
    for key, limit in keys:
        attempts, started = _count_attempt(session, key, now=now, since=since)
        if attempts > limit:
            waits.append(started + window - now)
    wait = max(1, -(-int(max(waits).total_seconds()) // 60)) if waits else None
    return wait, [key for key, _ in keys]


def sign_in(session: Session, *, username: str, password: str, ip: str | None, settings: Settings,
            now: datetime | None = None) -> SignIn:
    """Check a username and password, recording the attempt; refuse outright while throttled."""
    now = now or datetime.now(UTC)
    username = normalise_username(username)[:64]
    wait, keys = throttled_for(session, username=username, ip=ip, settings=settings, now=now)
    if wait is not None:
        audit.record_event(session, action=audit.SIGN_IN_REFUSED, username=username, ip=ip, now=now,
                           details={"retry_after_minutes": wait})
        return SignIn(None, wait)
    official = session.scalar(select(Official).where(Official.username == username))
    if official is None or official.disabled_at is not None:
        # Hash anyway, so the answer takes as long as for a real account and does not reveal which exist.
        verify_password(dummy_password_hash(), password)
        reason = "unknown username" if official is None else "account disabled"
        audit.record_event(session, action=audit.SIGN_IN_FAILED, username=username, ip=ip, now=now,
                           official_id=official.id if official else None, details={"reason": reason})
        return SignIn(None)
    if not verify_password(official.password_hash, password):
        audit.record_event(session, action=audit.SIGN_IN_FAILED, username=username, ip=ip, now=now,
                           official_id=official.id, details={"reason": "wrong password"})
        return SignIn(None)
    _take_back_attempt(session, keys)
    if password_hash_outdated(official.password_hash):
        official.password_hash = hash_password(password)
    audit.record_event(session, action=audit.SIGN_IN, username=username, ip=ip, now=now, official_id=official.id)
    return SignIn(official)
