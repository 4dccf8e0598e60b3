"""Wire schemas of status events and webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["eligible", "needs_info", "ineligible"]


class EventRead(BaseModel):
    """One change of a stored company's status under one measure. Also the body of a webhook delivery."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="increasing; pass the last one seen as `after` to resume")
    recorded_at: datetime
    company_id: uuid.UUID
    policy_id: str
    old_status: Status = Field(description="`ineligible` also stands for a measure the company was not decided under")
    new_status: Status
    cause: Literal["rule_change", "profile_change", "date_change"]
    rule_version: str = Field(description="the version of the measure's rule that decided `new_status`")
    previous_rule_version: str | None = None
    company_version: int | None = Field(None, description="for a profile change: the company's version (ETag)")


class EventPage(BaseModel):
    items: list[EventRead]
    next_after: int = Field(description="`after` for the next page: the last item's id (or the `after` sent)")
    has_more: bool = Field(description="more events follow now; when false, poll again later with `next_after`")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="http(s) URL receiving a POST per event")
    secret: str | None = Field(None, min_length=16, max_length=200,
                               description="signs each delivery; made up (and returned once) when omitted")


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="shown this once: keep it to verify `Huiqi-Signature`")


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int = Field(description="attempts in this round (a redelivery starts a new round)")
    next_attempt_at: datetime | None = Field(description="when the next attempt is due (pending only)")
    last_attempt_at: datetime | None
    last_status_code: int | None = Field(description="the receiver's HTTP status at the last attempt")
    last_error: str | None = Field(description="why the last attempt failed without a status (timeout, refused)")
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_after: int
    has_more: bool
