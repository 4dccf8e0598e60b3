"""Officials' accounts: created and disabled on the command line (python -m app officials), passwords
hashed with argon2id; a dummy hash to check against when there is no account, so that a sign-in takes
as long whether or not the username exists."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.console import audit
from app.db.models import Official, OfficialSession
from app.errors import InvalidCredentialsError, OfficialExistsError, OfficialNotFoundError

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create_official(session: Session, *, username: str, password: str) -> Official:
    """Create an official with an argon2id password hash."""
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise InvalidCredentialsError(
            "A username is 2 to 64 characters: lower-case letters, digits, '.', '_' or '-', starting with "
            "a letter or digit.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidCredentialsError(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(select(Official.id).where(Official.username == username)) is not None:
        raise OfficialExistsError(f"An official named {username!r} already exists.", username=username)
    official = Official(username=username, password_hash=hash_password(password))
    session.add(official)
    session.flush()
    audit.record_event(session, action=audit.OFFICIAL_CREATED, username=username, official_id=official.id,
                       details={"via": "command line"})
    return official


def disable_official(session: Session, *, username: str, now: datetime | None = None) -> Official:
    """Disable an official: no more sign-ins, and every open session ends."""
    username = normalise_username(username)
    official = session.scalar(select(Official).where(Official.username == username))
    if official is None:
        raise OfficialNotFoundError(f"No official named {username!r}.", username=username)
    if official.disabled_at is None:
        official.disabled_at = now or datetime.now(UTC)
        audit.record_event(session, action=audit.OFFICIAL_DISABLED, username=username, official_id=official.id,
                           details={"via": "command line"})
    for row in session.scalars(select(OfficialSession).where(OfficialSession.official_id == official.id)):
        session.delete(row)
    return official


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` is the one hashed; a malformed hash matches nothing."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_hash_outdated(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (re-hash it at the next sign-in)."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def dummy_password_hash() -> str:
    """A hash of no one's password, checked when there is no account so the answer takes as long."""
    return _hasher.hash(secrets.token_urlsafe(16))
