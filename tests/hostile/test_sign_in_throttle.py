"""The console's sign-in throttle counts atomically (parallel attempts cannot all pass the check), and
is keyed so that an attacker cannot lock a real official out."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI

from app.console.sign_in import SignIn, sign_in
from tests.hostile.conftest import PASSWORD


def attempt(app: FastAPI, username: str, password: str, ip: str) -> SignIn:
    with app.state.session_factory() as session:
        result = sign_in(session, username=username, password=password, ip=ip,
                         settings=app.state.settings)
        session.commit()
        return result


def test_parallel_attempts_are_checked_against_the_limit_one_by_one(app: FastAPI, official: str) -> None:
    limit = app.state.settings.max_failures_per_username
    ip = f"198.51.100.{uuid.uuid4().int % 250}"
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: attempt(app, official, "wrong-password!", ip), range(20)))
    checked = [r for r in results if not r.throttled]
    assert len(checked) == limit, f"{len(checked)} of 20 parallel attempts were checked against a limit of {limit}"
    assert attempt(app, official, PASSWORD, ip).throttled


def test_failures_from_another_address_do_not_lock_the_official_out(app: FastAPI, official: str) -> None:
    for _ in range(app.state.settings.max_failures_per_username + 3):
        attempt(app, official, "an attacker's guess", "203.0.113.66")
    assert attempt(app, official, "an attacker's guess", "203.0.113.66").throttled
    from_the_office = attempt(app, official, PASSWORD, "192.0.2.10")
    assert from_the_office.official is not None and not from_the_office.throttled


def test_one_address_trying_many_usernames_is_paused(app: FastAPI, official: str) -> None:
    ip = "203.0.113.77"
    for n in range(app.state.settings.max_failures_per_ip):
        assert not attempt(app, f"guess-{n}-{uuid.uuid4().hex[:6]}", "x" * 12, ip).throttled
    assert attempt(app, official, PASSWORD, ip).throttled


def test_successful_sign_ins_do_not_use_up_an_office_address(app: FastAPI, official: str) -> None:
    ip = "192.0.2.99"
    for _ in range(app.state.settings.max_failures_per_ip + 5):
        assert attempt(app, official, PASSWORD, ip).official is not None
