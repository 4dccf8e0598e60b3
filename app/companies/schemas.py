"""Wire schemas of stored companies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.engine import Profile


class CompanyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile


class CompanyUpdate(CompanyCreate):
    """A full replacement of the stored profile (send the ETag in If-Match)."""


class CompanyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    profile: dict[str, Any] = Field(description="the profile as stored; absent fields are unknown")
    version: int = Field(description="incremented by every update; the ETag is this number, quoted")
    created_at: datetime
    updated_at: datetime


class CompanyPage(BaseModel):
    items: list[CompanyRead]
    total: int
    limit: int
    offset: int
