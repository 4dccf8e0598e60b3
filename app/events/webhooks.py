"""Partners' webhooks: registering a receiver, signing what is sent to it, and its delivery log.

A receiver gets one POST per event, the body the event as JSON and `Huiqi-Signature: t=<unix
time>,v1=<hex HMAC-SHA256 of "<t>." + body under the webhook's secret>` (README, Webhooks, has the
check in Python). Sending is app/events/delivery.py's, off every request path.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db.models import StatusEvent, Webhook, WebhookDelivery
from app.errors import DeliveryNotFoundError, WebhookNotFoundError, WebhookUrlRefusedError

SIGNATURE_HEADER = "Huiqi-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300  # what the README's check allows between signing and receiving
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The Huiqi-Signature header value of `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, body: bytes, header: str, *, tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
                     now: float | None = None) -> bool:
    """A receiver's check (as the README shows it): the HMAC matches, and it was signed within `tolerance`."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse a URL that is not plain http(s) to a named host, or whose host resolves to an address that
    is not public (loopback, private, link-local such as cloud metadata, reserved) unless allowed.
    Checked at registration and again before each delivery (a name may be re-pointed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlRefusedError("A webhook URL is an http:// or https:// URL with a host.", url=url)
    if parts.username or parts.password:
        raise WebhookUrlRefusedError("A webhook URL may not carry a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise WebhookUrlRefusedError(f"The webhook's host {parts.hostname!r} does not resolve ({exc}).") from None
    if allow_private:
        return
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if _internal(address):
            raise WebhookUrlRefusedError(
                f"The webhook's host {parts.hostname!r} is a private, loopback or reserved address ({address}); "
                "webhooks go to public addresses.", url=url)


def create_webhook(session: Session, *, client_id: uuid.UUID, url: str, secret: str | None,
                   allow_private: bool) -> Webhook:
    """Register a receiver of the client's events from now on; the secret is made up when not given."""
    check_destination(url, allow_private=allow_private)
    webhook = Webhook(client_id=client_id, url=url, secret=secret or f"whsec_{secrets.token_urlsafe(32)}",
                      last_event_id=session.scalar(select(func.coalesce(func.max(StatusEvent.id), 0))))
    session.add(webhook)
    session.flush()
    return webhook


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def get_webhook(session: Session, webhook_id: str, *, client_id: uuid.UUID) -> Webhook:
    """The client's webhook, or WebhookNotFoundError (another client's is not found either)."""
    uid = _uuid(webhook_id)
    webhook = session.get(Webhook, uid) if uid else None
    if webhook is None or webhook.client_id != client_id:
        raise WebhookNotFoundError(f"No webhook {webhook_id}.", webhook_id=webhook_id)
    return webhook


def list_webhooks(session: Session, *, client_id: uuid.UUID) -> list[Webhook]:
    """The client's webhooks, oldest first."""
    return list(session.scalars(select(Webhook).where(Webhook.client_id == client_id)
                                .order_by(Webhook.created_at, Webhook.id)))


def delete_webhook(session: Session, webhook_id: str, *, client_id: uuid.UUID) -> None:
    """Remove a webhook and its delivery log; nothing more is sent to it."""
    session.delete(get_webhook(session, webhook_id, client_id=client_id))


def list_deliveries(session: Session, webhook: Webhook, *, after: int = 0, limit: int = 100,
                    status: str | None = None) -> list[WebhookDelivery]:
    """The webhook's deliveries after delivery `after`, oldest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.id > after)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return list(session.scalars(query.order_by(WebhookDelivery.id).limit(limit)))


def redeliver(session: Session, webhook: Webhook, delivery_id: int, *, now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery again, whatever became of it: a new round of attempts, due now."""
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                            WebhookDelivery.webhook_id == webhook.id))
    if delivery is None:
        raise DeliveryNotFoundError(f"No delivery {delivery_id} of this webhook.", delivery_id=delivery_id)
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(
        status=PENDING, attempts=0, next_attempt_at=now or datetime.now(UTC), delivered_at=None)
        .execution_options(synchronize_session=False))
    session.refresh(delivery)
    return delivery
