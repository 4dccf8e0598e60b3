"""Webhook deliveries, sent by one background thread per worker process, never on a request's path.

Each round: (1) queue a delivery per new event of each webhook's client (`webhook.last_event_id` is
how far it got; unique (webhook, event), so two processes queue it once); (2) claim the due deliveries
by pushing their `next_attempt_at` past the send (`FOR UPDATE SKIP LOCKED` on PostgreSQL: other
processes take others); (3) send them, a few receivers at once, each receiver's in order, stopping at
its first failure, so a dead receiver costs one timeout a round and nobody else's time; (4) record
each attempt, retrying a failure after exponential backoff with full jitter until the attempts run out.
"""

from __future__ import annotations

import logging
import random
import threading
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.models import StatusEvent, Webhook, WebhookDelivery
from app.errors import WebhookUrlRefusedError
from app.events.schemas import EventRead
from app.events.service import insert_for
from app.events.webhooks import DELIVERED, FAILED, PENDING, SIGNATURE_HEADER, check_destination, signature
from app.settings import Settings

log = logging.getLogger("huiqi.webhooks")
CLAIM_BATCH = 50
QUEUE_BATCH = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    webhook_id: uuid.UUID
    event_id: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: it could lead past the address check."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxies from the environment either: the receiver is reached directly, at the address checked.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def backoff(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th failure: full jitter, uniform in [0, min(cap, base·2^(n-1))]."""
    return (rng or random).uniform(0, min(cap, base * 2 ** max(0, attempts - 1)))


class DeliveryWorker:
    """The sender of one process: start() at start-up, stop() at shutdown; run_once() does one round."""

    def __init__(self, sessions: Callable[[], Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=settings.webhook_senders, thread_name_prefix="webhook")
        self._failing = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhook-deliveries", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop after the round in flight (a send is bounded by the webhook timeout); what is left stays
        pending in the database for the next start, or for another process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
                if self._failing:
                    log.info("webhook deliveries resumed", extra={"fields": {"message": "webhook deliveries resumed"}})
                self._failing = False
            except Exception as exc:  # noqa: BLE001  (the database is down or stuck: try again next round, log once)
                busy = False
                if not self._failing:
                    log.warning("webhook deliveries paused", extra={"fields": {
                        "message": "webhook deliveries paused", "error": type(exc).__name__}})
                self._failing = True
            if not busy:
                self._stop.wait(self.settings.webhook_poll_seconds)

    def run_once(self, now: datetime | None = None) -> bool:
        """One round; True when it sent something (there may be more waiting)."""
        queued = self.queue_new_events()
        claimed = self.claim(now or datetime.now(UTC))
        if claimed:
            self.send_all(claimed)
        return bool(claimed) or queued

    def queue_new_events(self) -> bool:
        """A pending delivery for each event after each webhook's cursor; True when any was queued."""
        with self.sessions() as session:
            if session.scalar(select(Webhook.id).limit(1)) is None:
                return False
            hooks = select(Webhook.id, Webhook.client_id, Webhook.last_event_id)
            if session.get_bind().dialect.name == "postgresql":
                hooks = hooks.with_for_update(skip_locked=True)
            queued = False
            now = datetime.now(UTC)
            for webhook_id, client_id, last in session.execute(hooks).all():
                events = list(session.scalars(
                    select(StatusEvent.id).where(StatusEvent.client_id == client_id, StatusEvent.id > last)
                    .order_by(StatusEvent.id).limit(QUEUE_BATCH)))
                if not events:
                    continue
                session.execute(insert_for(session, WebhookDelivery.__table__).values([
                    {"webhook_id": webhook_id, "event_id": event_id, "status": PENDING, "attempts": 0,
                     "next_attempt_at": now, "created_at": now} for event_id in events]).on_conflict_do_nothing())
                session.execute(update(Webhook).where(Webhook.id == webhook_id).values(last_event_id=events[-1]))
                queued = True
            session.commit()
            return queued

    def claim(self, now: datetime) -> list[Claimed]:
        """Take the due deliveries for the length of a send (others skip them meanwhile)."""
        table = WebhookDelivery.__table__
        with self.sessions() as session:
            due = (select(table.c.id).where(table.c.status == PENDING, table.c.next_attempt_at <= now)
                   .order_by(table.c.next_attempt_at, table.c.id).limit(CLAIM_BATCH))
            if session.scalar(due.limit(1)) is None:
                return []
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            held_until = now + timedelta(seconds=self.settings.webhook_timeout_seconds * (CLAIM_BATCH + 2))
            rows = session.execute(update(table).where(table.c.id.in_(due)).values(next_attempt_at=held_until)
                                   .returning(table.c.id, table.c.webhook_id, table.c.event_id, table.c.attempts)).all()
            session.commit()
        return sorted((Claimed(*row) for row in rows), key=lambda c: c.event_id)

    def send_all(self, claimed: list[Claimed]) -> None:
        """Send the claimed deliveries, one receiver per sender thread; wait for the round to end."""
        with self.sessions() as session:
            hooks = {row.id: row for row in session.scalars(
                select(Webhook).where(Webhook.id.in_({c.webhook_id for c in claimed})))}
            events = {row.id: row for row in session.scalars(
                select(StatusEvent).where(StatusEvent.id.in_({c.event_id for c in claimed})))}
        by_webhook: dict[uuid.UUID, list[Claimed]] = defaultdict(list)
        for delivery in claimed:
            by_webhook[delivery.webhook_id].append(delivery)
        futures = [self._pool.submit(self._send_in_turn, hooks[webhook_id], batch, events)
                   for webhook_id, batch in by_webhook.items() if webhook_id in hooks]
        for future in futures:
            future.result()

    def _send_in_turn(self, webhook: Webhook, batch: list[Claimed], events: dict[int, StatusEvent]) -> None:
        for index, delivery in enumerate(batch):
            event = events.get(delivery.event_id)
            outcome = self.send(webhook, event) if event is not None else Outcome(False, error="event gone")
            retry_at = self.record(delivery, outcome)
            if not outcome.ok and retry_at is not None:
                self.postpone(batch[index + 1:], retry_at)  # the receiver is failing: not now, no attempt spent
                return

    def send(self, webhook: Webhook, event: StatusEvent) -> Outcome:
        """POST one event, signed; a 2xx answer within the timeout is a delivery."""
        try:
            check_destination(webhook.url, allow_private=self.settings.webhook_allow_private_addresses)
        except WebhookUrlRefusedError as exc:
            return Outcome(False, error=exc.detail[:500])
        body = orjson.dumps(EventRead.model_validate(event).model_dump(mode="json"))
        request = urllib.request.Request(webhook.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "Huiqi-Webhooks/1",
            SIGNATURE_HEADER: signature(webhook.secret, body, int(datetime.now(UTC).timestamp())),
            "Huiqi-Event-Id": str(event.id), "Huiqi-Webhook-Id": str(webhook.id)})
        try:
            with _opener.open(request, timeout=self.settings.webhook_timeout_seconds) as response:
                response.read(65536)
                return Outcome(200 <= response.status < 300, status_code=response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return Outcome(False, status_code=exc.code)
        except (OSError, ValueError) as exc:  # refused, reset, timed out, unreadable answer
            reason = getattr(exc, "reason", None) or exc
            return Outcome(False, error=f"{type(exc).__name__}: {reason}"[:500])

    def record(self, delivery: Claimed, outcome: Outcome) -> datetime | None:
        """Write the attempt; return when it is retried (None: delivered, or out of attempts)."""
        now = datetime.now(UTC)
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now,
                                  "last_status_code": outcome.status_code, "last_error": outcome.error}
        retry_at = None
        if outcome.ok:
            values.update(status=DELIVERED, delivered_at=now)
        elif attempts >= self.settings.webhook_max_attempts:
            values.update(status=FAILED)
        else:
            retry_at = now + timedelta(seconds=backoff(attempts, base=self.settings.webhook_backoff_base_seconds,
                                                       cap=self.settings.webhook_backoff_max_seconds))
            values.update(next_attempt_at=retry_at)
        with self.sessions() as session:
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**values))
            session.commit()
        return retry_at

    def postpone(self, rest: list[Claimed], until: datetime) -> None:
        if not rest:
            return
        with self.sessions() as session:
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_([d.id for d in rest]))
                            .values(next_attempt_at=until))
            session.commit()
