"""Webhooks: signed deliveries to a receiver on loopback, retries after failures, the delivery log and
redelivery, and refused URLs. On a database of their own: the session's app sends deliveries too, and
it refuses loopback receivers, as production does."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings, scratch_database
from tests.databases import migrate
from tests.events.conftest import SMALL_EXPORTER, key, store
from tests.helpers import assert_problem


def verify(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """The receiver's check, as the README shows it."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


class Receiver:
    """A tiny HTTP server on loopback answering with the next status of `answers` (then 200)."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/huiqi"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def own_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(tmp_path_factory.mktemp("webhooks")) as url:
        migrate(url)
        yield url


@pytest.fixture
def service(own_database: str) -> Iterator[TestClient]:
    from app.main import create_app

    settings = make_settings(own_database, webhook_allow_private_addresses=True, webhook_poll_seconds=0.05,
                             webhook_backoff_base_seconds=0.05, webhook_backoff_max_seconds=0.2,
                             webhook_max_attempts=4, webhook_timeout_seconds=2)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def wait_for(condition: Callable[[], Any], seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_receiver_gets_signed_deliveries_and_each_event_again_after_failures(service, receiver) -> None:
    partner = key(service, "companies:write", "events:read", "webhooks:write")
    created = service.post("/v1/webhooks", json={"url": receiver.url}, headers=partner)
    assert created.status_code == 201, created.text
    webhook = created.json()
    secret = webhook["secret"]
    assert secret.startswith("whsec_")
    assert "secret" not in service.get("/v1/webhooks", headers=partner).json()[0]
    receiver.answers = [500, 500]  # the first two attempts fail
    company = store(service, partner, SMALL_EXPORTER)
    events = service.get("/v1/events", headers=partner).json()["items"]
    assert events

    def delivered() -> list[dict[str, Any]] | None:
        log = service.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=partner).json()["items"]
        return log if len(log) == len(events) and all(d["status"] == "delivered" for d in log) else None

    log = wait_for(delivered)
    assert sorted(d["event_id"] for d in log) == [e["id"] for e in events]
    assert sum(d["attempts"] for d in log) == len(events) + 2  # two failures, each retried
    assert all(d["last_status_code"] == 200 and d["next_attempt_at"] is None for d in log)
    assert len(receiver.received) == len(events) + 2
    bodies = set()
    for headers, body in receiver.received:
        assert verify(secret, body, headers["huiqi-signature"])
        assert not verify("another secret, not ours", body, headers["huiqi-signature"])
        assert headers["content-type"] == "application/json"
        bodies.add(body)
    got = sorted((json.loads(body) for body in bodies), key=lambda e: e["id"])
    assert got == events  # each event as /v1/events shows it
    assert {e["company_id"] for e in got} == {company}

    # Redelivery: one more round for a delivered event.
    first = log[0]
    again = service.post(f"/v1/webhooks/{webhook['id']}/deliveries/{first['id']}/redeliver", headers=partner)
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "pending"
    wait_for(lambda: len(receiver.received) == len(events) + 3)
    assert json.loads(receiver.received[-1][1])["id"] == first["event_id"]


def test_a_dead_receiver_runs_out_of_attempts_and_blocks_no_request(service, receiver) -> None:
    partner = key(service, "companies:write", "webhooks:write")
    receiver.close()  # nobody listens there any more: connections are refused
    webhook = service.post("/v1/webhooks", json={"url": receiver.url}, headers=partner).json()
    started = time.monotonic()
    store(service, partner, {**SMALL_EXPORTER, "name": "另一家"})
    assert time.monotonic() - started < 2

    def failed() -> list[dict[str, Any]] | None:
        log = service.get(f"/v1/webhooks/{webhook['id']}/deliveries", params={"status": "failed"},
                          headers=partner).json()["items"]
        return log or None

    log = wait_for(failed)
    assert log[0]["attempts"] == 4 and log[0]["last_status_code"] is None and log[0]["last_error"]


def test_webhook_urls_must_be_http_and_public_unless_allowed(client, api_key) -> None:
    partner = api_key("webhooks:write")
    for url in ("ftp://example.com/x", "http://127.0.0.1:9/x", "http://169.254.169.254/latest/meta-data",
                "http://10.1.2.3/x", "http://[::1]/x", "http://user:pw@example.com/x", "not a url"):
        assert_problem(client.post("/v1/webhooks", json={"url": url}, headers=partner), 422,
                       "/problems/webhook-url-refused")
    assert_problem(client.post("/v1/webhooks", json={"url": "http://example.com", "secret": "short"},
                               headers=partner), 422, "/problems/validation")
    assert_problem(client.post("/v1/webhooks", json={"url": "http://example.com"}, headers=api_key("events:read")),
                   403)


def test_another_clients_webhook_is_not_found(client, api_key) -> None:
    assert_problem(client.get("/v1/webhooks/5f0c6b1e-8a3d-4c2e-9b7a-1d2e3f4a5b6c/deliveries",
                              headers=api_key("webhooks:write")), 404, "/problems/webhook-not-found")
    assert_problem(client.delete("/v1/webhooks/nope", headers=api_key("webhooks:write")), 404)
