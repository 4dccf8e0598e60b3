"""/v1/events (scope `events:read`) and /v1/webhooks (scope `webhooks:write`): a partner's feed of the
status changes of the companies it stored, read by cursor or pushed to its webhooks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from app.deps import EventsReader, SessionDep, SettingsDep, WebhooksWriter
from app.events import service, webhooks
from app.events.schemas import (
    DeliveryPage,
    DeliveryRead,
    EventPage,
    EventRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from app.jsonbody import BoundedJSONRoute

router = APIRouter(tags=["events"], route_class=BoundedJSONRoute)

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an unknown or revoked one", **PROBLEM},
    403: {"description": "The API key lacks the scope", **PROBLEM},
}
NO_WEBHOOK: dict[int | str, dict[str, Any]] = {404: {"description": "No such webhook (of this client)", **PROBLEM}}
MAX_ID = 2**63 - 1
After = Annotated[int, Query(ge=0, le=MAX_ID, description="the last id seen (0: from the start)")]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many items")]


@router.get("/events", response_model=EventPage, summary="Status changes of the companies this client stored",
            responses=AUTH_ERRORS)
def list_events(session: SessionDep, caller: EventsReader, after: After = 0, limit: Limit = 100) -> Any:
    rows = service.list_events(session, client_id=caller.id, after=after, limit=limit + 1)
    items = [EventRead.model_validate(row) for row in rows[:limit]]
    return EventPage(items=items, next_after=items[-1].id if items else after, has_more=len(rows) > limit)


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, summary="Register a webhook",
             responses={**AUTH_ERRORS, 422: {"description": "Not an http(s) URL, or not a public address "
                                                            "(`/problems/webhook-url-refused`)", **PROBLEM}})
def create_webhook(data: WebhookCreate, session: SessionDep, caller: WebhooksWriter, settings: SettingsDep,
                   response: Response) -> Any:
    webhook = webhooks.create_webhook(session, client_id=caller.id, url=data.url, secret=data.secret,
                                      allow_private=settings.webhook_allow_private_addresses)
    response.headers["Location"] = f"/v1/webhooks/{webhook.id}"
    return WebhookCreated(id=webhook.id, url=webhook.url, created_at=webhook.created_at, secret=webhook.secret)


@router.get("/webhooks", response_model=list[WebhookRead], summary="This client's webhooks", responses=AUTH_ERRORS)
def list_webhooks(session: SessionDep, caller: WebhooksWriter) -> Any:
    return [WebhookRead.model_validate(row) for row in webhooks.list_webhooks(session, client_id=caller.id)]


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook and its delivery log",
               responses={**AUTH_ERRORS, **NO_WEBHOOK})
def delete_webhook(webhook_id: str, session: SessionDep, caller: WebhooksWriter) -> Response:
    webhooks.delete_webhook(session, webhook_id, client_id=caller.id)
    return Response(status_code=204)


def _delivery(row: Any) -> DeliveryRead:
    read = DeliveryRead.model_validate(row)
    return read if row.status == webhooks.PENDING else read.model_copy(update={"next_attempt_at": None})


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage, summary="A webhook's delivery log",
            responses={**AUTH_ERRORS, **NO_WEBHOOK})
def list_deliveries(
    webhook_id: str, session: SessionDep, caller: WebhooksWriter, after: After = 0, limit: Limit = 100,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|failed)$")] = None,
) -> Any:
    webhook = webhooks.get_webhook(session, webhook_id, client_id=caller.id)
    rows = webhooks.list_deliveries(session, webhook, after=after, limit=limit + 1, status=status)
    items = [_delivery(row) for row in rows[:limit]]
    return DeliveryPage(items=items, next_after=items[-1].id if items else after, has_more=len(rows) > limit)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202,
             response_model=DeliveryRead, summary="Send a delivery again (a new round of attempts)",
             responses={**AUTH_ERRORS, 404: {"description": "No such webhook, or no such delivery of it", **PROBLEM}})
def redeliver(webhook_id: str, delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, caller: WebhooksWriter) -> Any:
    webhook = webhooks.get_webhook(session, webhook_id, client_id=caller.id)
    return _delivery(webhooks.redeliver(session, webhook, delivery_id))
