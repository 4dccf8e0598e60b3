"""Stored company profiles, with optimistic concurrency on `version`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import CursorResult, Executable, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import Company
from app.engine import Profile
from app.engine.tables import region_prefix
from app.errors import (
    CompanyNotFoundError,
    CreditCodeTakenError,
    PreconditionFailedError,
    StoredProfileInvalidError,
)
from app.registry import service as registry_service


def _stored(profile: Profile) -> dict[str, Any]:
    return profile.model_dump(mode="json", exclude_none=True)


def _columns(profile: Profile) -> dict[str, Any]:
    return {"profile": _stored(profile), "credit_code": profile.credit_code, "name": profile.name,
            "region_code": profile.region_code}


def _uuid(company_id: str | uuid.UUID) -> uuid.UUID:
    try:
        return company_id if isinstance(company_id, uuid.UUID) else uuid.UUID(str(company_id))
    except ValueError:
        raise CompanyNotFoundError(f"No company {company_id}.", company_id=str(company_id)) from None


def find_by_credit_code(session: Session, credit_code: str) -> Company | None:
    """The company registered under this credit code, if any."""
    return session.scalar(select(Company).where(Company.credit_code == credit_code))


def _check_credit_code_free(session: Session, profile: Profile, *, own_id: uuid.UUID | None = None) -> None:
    if profile.credit_code is None:
        return
    other = find_by_credit_code(session, profile.credit_code)
    if other is not None and other.id != own_id:
        raise CreditCodeTakenError("Another company is stored under this credit code.",
                                   company_id=str(other.id))


def create_company(session: Session, profile: Profile, *, client_id: uuid.UUID | None = None) -> Company:
    """Store a new company (for the partner `client_id`, when one stores it); CreditCodeTakenError if
    its credit code is already stored."""
    _check_credit_code_free(session, profile)
    company = Company(**_columns(profile), client_id=client_id)
    session.add(company)
    try:
        session.flush()
    except IntegrityError:  # a concurrent insert won the race for the credit code
        raise CreditCodeTakenError("Another company is stored under this credit code.") from None
    registry_service.store_facts(session, company.id, profile)
    return company


def get_company(session: Session, company_id: str | uuid.UUID) -> Company:
    """Return the company, or raise CompanyNotFoundError."""
    company = session.get(Company, _uuid(company_id))
    if company is None:
        raise CompanyNotFoundError(f"No company {company_id}.", company_id=str(company_id))
    return company


def list_companies(
    session: Session, *, region: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Company], int]:
    """A page of companies (oldest first) and the total; `region` keeps those at or below that code."""
    query = select(Company)
    if region is not None and region_prefix(region):
        query = query.where(Company.region_code.startswith(region_prefix(region)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Company.created_at, Company.id).limit(limit).offset(offset))
    return list(rows), total


def update_company(
    session: Session, company_id: str | uuid.UUID, profile: Profile, *, expected_versions: set[int] | None
) -> Company:
    """Replace the profile if the stored version is one of `expected_versions` (None: any version).

    The version check and the write are one UPDATE, so of two concurrent updates made from the same
    version exactly one succeeds and the other gets PreconditionFailedError.
    """
    uid = _uuid(company_id)
    _check_credit_code_free(session, profile, own_id=uid)
    statement = (
        update(Company).where(Company.id == uid)
        .values(**_columns(profile), version=Company.version + 1, updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    if expected_versions is not None:
        statement = statement.where(Company.version.in_(expected_versions))
    try:
        updated = _rowcount(session, statement)
    except IntegrityError:
        raise CreditCodeTakenError("Another company is stored under this credit code.") from None
    if not updated:
        current = get_company(session, uid)  # raises CompanyNotFoundError when it is gone
        raise PreconditionFailedError(
            "The company was changed since you read it: read it again, then retry with its new ETag.",
            current_version=current.version,
        )
    registry_service.store_facts(session, uid, profile)
    return session.get_one(Company, uid, populate_existing=True)


def _rowcount(session: Session, statement: Executable) -> int:
    """The rows an UPDATE or DELETE matched. Session.execute returns a CursorResult for these, though
    it is typed as returning any Result."""
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


def delete_company(session: Session, company_id: str | uuid.UUID, *, expected_versions: set[int] | None) -> None:
    """Delete the company (if its version is one of `expected_versions`, when given)."""
    uid = _uuid(company_id)
    statement = delete(Company).where(Company.id == uid).execution_options(synchronize_session=False)
    if expected_versions is not None:
        statement = statement.where(Company.version.in_(expected_versions))
    if not _rowcount(session, statement):
        current = get_company(session, uid)
        raise PreconditionFailedError("The company was changed since you read it.",
                                      current_version=current.version)


def upsert_company(session: Session, profile: Profile) -> tuple[Company, str]:
    """Create or update the company with this profile's credit code; say 'created', 'updated' or 'unchanged'."""
    existing = find_by_credit_code(session, profile.credit_code) if profile.credit_code else None
    if existing is None:
        return create_company(session, profile), "created"
    if existing.profile == _stored(profile):
        return existing, "unchanged"
    return update_company(session, existing.id, profile, expected_versions={existing.version}), "updated"


def profile_of(company: Company) -> Profile:
    """The stored profile as the engine's Profile (validated again: the standards tables may have moved)."""
    try:
        return Profile.model_validate(company.profile)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise StoredProfileInvalidError(
            f"The stored profile no longer validates ({fields}); update the company.", company_id=str(company.id)
        ) from None
