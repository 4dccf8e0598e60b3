"""Officials' sessions, kept on the server: the cookie holds a random token, the table its HMAC under the
session secret (a stolen table opens no session); and the sign-in form's CSRF token, signed with the
same secret as there is no session yet."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.models import Official, OfficialSession
from app.settings import Settings

SESSION_COOKIE = "huiqi_console"
COOKIE_PATH = "/console"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A signed-in official and their live session."""

    official: Official
    session_row: OfficialSession

    @property
    def csrf_token(self) -> str:
        return self.session_row.csrf_token


def token_digest(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def start_official_session(session: Session, official: Official, *, settings: Settings,
                           now: datetime | None = None) -> tuple[str, OfficialSession]:
    """Open a session for `official`; return the cookie token (not stored) and the row."""
    now = now or datetime.now(UTC)
    session.execute(delete(OfficialSession).where(OfficialSession.expires_at <= now))  # tidy up, no more
    token = secrets.token_urlsafe(32)
    row = OfficialSession(
        id=token_digest(token, _secret(settings)), official_id=official.id,
        csrf_token=secrets.token_urlsafe(32), created_at=now,
        expires_at=now + timedelta(minutes=settings.session_minutes),
    )
    session.add(row)
    session.flush()
    return token, row


def find_official_session(session: Session, token: str, *, settings: Settings,
                          now: datetime | None = None) -> SignedIn | None:
    """The live session this token opens and its official; None if unknown, expired or disabled."""
    now = now or datetime.now(UTC)
    found = session.execute(
        select(OfficialSession, Official).join(Official, Official.id == OfficialSession.official_id)
        .where(OfficialSession.id == token_digest(token, _secret(settings)))
    ).first()
    if found is None:
        return None
    row, official = found
    if row.expires_at <= now or official.disabled_at is not None:
        return None
    return SignedIn(official=official, session_row=row)


def end_official_session(session: Session, row: OfficialSession) -> None:
    session.delete(row)


def _secret(settings: Settings) -> str:
    assert settings.session_secret is not None, "create_app supplies one (with_session_secret)"
    return settings.session_secret.get_secret_value()


def signed(value: str, settings: Settings) -> str:
    """An HMAC of `value` under the session secret (the sign-in form's CSRF token)."""
    return hmac.new(_secret(settings).encode(), b"sign-in:" + value.encode(), hashlib.sha256).hexdigest()
