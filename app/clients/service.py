"""API clients: partners identified by a key; the key itself is shown once and only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ApiClient
from app.errors import ClientNotFoundError

SCOPES = ("companies:read", "companies:write", "decisions:read", "events:read", "webhooks:write", "admin")
KEY_PREFIX = "hq_"


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated client of one request (detached from the session)."""

    id: uuid.UUID
    name: str
    scopes: frozenset[str]


def hash_key(key: str) -> str:
    # A plain SHA-256 suffices: keys carry 256 bits of entropy, so there is nothing to brute-force,
    # and a fast hash keeps the lookup off the request's critical path (argon2 is for passwords).
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(session: Session, *, name: str, scopes: list[str]) -> tuple[ApiClient, str]:
    """Create a client; return it with its key, which is not stored and cannot be shown again."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, key_prefix=key[:10], key_hash=hash_key(key), scopes=sorted(set(scopes)))
    session.add(client)
    session.flush()
    return client, key


def get_client(session: Session, client_id: str | uuid.UUID) -> ApiClient:
    """Return the client with this id, or raise ClientNotFoundError."""
    try:
        uid = client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(client_id)
    except ValueError:
        raise ClientNotFoundError(f"No API client {client_id}.") from None
    client = session.get(ApiClient, uid)
    if client is None:
        raise ClientNotFoundError(f"No API client {client_id}.")
    return client


def list_clients(session: Session) -> list[ApiClient]:
    """Every client, oldest first."""
    return list(session.scalars(select(ApiClient).order_by(ApiClient.created_at)))


def revoke_client(session: Session, client_id: str | uuid.UUID, *, now: datetime | None = None) -> ApiClient:
    """Revoke a client's key (idempotent: the first revocation time is kept)."""
    client = get_client(session, client_id)
    if client.revoked_at is None:
        client.revoked_at = now or datetime.now(UTC)
    return client


def authenticate(session: Session, key: str) -> Caller | None:
    """Return the caller holding `key`, or None for an unknown or revoked key."""
    client = session.scalar(
        select(ApiClient).where(ApiClient.key_hash == hash_key(key), ApiClient.revoked_at.is_(None))
    )
    if client is None:
        return None
    return Caller(id=client.id, name=client.name, scopes=frozenset(client.scopes))
