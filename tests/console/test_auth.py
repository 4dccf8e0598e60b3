"""Signing in and out: passwords, cookies, throttling, CSRF, expiry, disabled accounts, the CLI."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.db.models import AuditEvent, Official, OfficialSession
from tests.console.conftest import PASSWORD, form_token, sign_in_with

PAGES = ["/console", "/console/policies", "/console/policies/js-sumao-loan", "/console/decisions",
         "/console/reach", "/console/drafts", "/console/audit"]


def events(app: FastAPI, username: str) -> list[AuditEvent]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.username == username)
                                    .order_by(AuditEvent.id)))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_redirects_to_sign_in_when_signed_out(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in?next=")


def test_sign_in_succeeds_with_a_session_cookie_and_goes_where_the_official_was_heading(
        client: TestClient, app: FastAPI, official: str) -> None:
    response = sign_in_with(client, official.upper(), next_url="/console/reach")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/reach"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("huiqi_console="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http in tests
    assert client.get("/console/reach").status_code == 200
    assert [e.action for e in events(app, official)] == ["official_created", "sign_in"]
    with app.state.session_factory() as session:
        stored = session.scalar(select(Official.password_hash).where(Official.username == official))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_the_session_cookie_is_secure_over_https(app: FastAPI, client: TestClient, official: str) -> None:
    https = TestClient(app, base_url="https://testserver")
    response = sign_in_with(https, official)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("huiqi_console="))
    assert "Secure" in cookie


def test_a_wrong_password_or_unknown_user_is_refused_alike_and_recorded(
        client: TestClient, app: FastAPI, official: str) -> None:
    wrong = sign_in_with(client, official, "not the password at all")
    unknown = sign_in_with(client, "nobody-" + official, "not the password at all")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.text or "not correct" in response.text
        assert "huiqi_console=" not in response.headers.get("set-cookie", "")
    assert client.get("/console/policies", follow_redirects=False).status_code == 303
    failed = events(app, official)[-1]
    assert failed.action == "sign_in_failed" and failed.details == {"reason": "wrong password"}
    assert failed.ip == "testclient"
    assert events(app, "nobody-" + official)[-1].details == {"reason": "unknown username"}


def test_five_failures_pause_signing_in_even_with_the_right_password(
        client: TestClient, app: FastAPI, official: str) -> None:
    for _ in range(5):
        assert sign_in_with(client, official, "guess-guess-guess").status_code == 401
    response = sign_in_with(client, official)  # the right password, but too late
    assert response.status_code == 429
    assert "登录失败次数过多" in response.text and "15 分钟" in response.text
    assert "huiqi_console=" not in response.headers.get("set-cookie", "")
    assert events(app, official)[-1].action == "sign_in_refused"
    # Once the failures are older than the window, the official may sign in again.
    later = datetime.now(UTC) + timedelta(minutes=16)
    from app.console.sign_in import sign_in

    with app.state.session_factory() as session:
        result = sign_in(session, username=official, password=PASSWORD, ip="10.0.0.1",
                         settings=app.state.settings, now=later)
        session.rollback()
    assert result.official is not None


def test_failures_from_one_address_pause_it_for_every_username(app: FastAPI, official: str) -> None:
    from app.console.sign_in import sign_in

    settings = app.state.settings.model_copy(update={"max_failures_per_ip": 3})
    with app.state.session_factory() as session:
        for n in range(3):
            assert sign_in(session, username=f"guess-{n}", password="x" * 12, ip="192.0.2.7",
                           settings=settings).official is None
        result = sign_in(session, username=official, password=PASSWORD, ip="192.0.2.7", settings=settings)
        assert result.throttled and result.official is None
        assert sign_in(session, username=official, password=PASSWORD, ip="192.0.2.8",
                       settings=settings).official is not None
        session.rollback()


def test_a_post_without_the_csrf_token_is_refused_with_a_403_page(
        client: TestClient, signed_in: str, official: str) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post("/console/sign-out", data=data)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "请求已被拒绝" in response.text or "Request refused" in response.text
        response = client.post("/console/drafts", data={**data, "text": "id: x"})
        assert response.status_code == 403
    assert client.get("/console/policies").status_code == 200  # still signed in


def test_the_sign_in_form_needs_its_own_signed_token(client: TestClient, official: str) -> None:
    page = client.get("/console/sign-in")
    token = form_token(page.text)
    client.cookies.clear()  # a cross-site form would not carry our sign-in cookie
    response = client.post("/console/sign-in", data={"username": official, "password": PASSWORD,
                                                      "csrf_token": token})
    assert response.status_code == 403


def test_sign_out_ends_the_session_and_is_recorded(client: TestClient, app: FastAPI, signed_in: str,
                                                   official: str) -> None:
    old_cookie = client.cookies.get("huiqi_console")
    response = client.post("/console/sign-out", data={"csrf_token": signed_in}, follow_redirects=False)
    assert response.status_code == 303
    assert events(app, official)[-1].action == "sign_out"
    client.cookies.set("huiqi_console", old_cookie, path="/console")
    assert client.get("/console/policies", follow_redirects=False).status_code == 303


def test_an_expired_session_sends_the_official_back_to_sign_in(client: TestClient, app: FastAPI,
                                                               signed_in: str, official: str) -> None:
    assert client.get("/console/audit").status_code == 200
    with app.state.session_factory() as session:
        official_id = session.scalar(select(Official.id).where(Official.username == official))
        session.execute(update(OfficialSession).where(OfficialSession.official_id == official_id)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    response = client.get("/console/audit", follow_redirects=False)
    assert response.status_code == 303 and "/console/sign-in" in response.headers["location"]
    sign_in_with(client, official)  # a new session; expired rows are removed on the way
    with app.state.session_factory() as session:
        rows = session.scalars(select(OfficialSession).where(OfficialSession.official_id == official_id)).all()
    assert len(rows) == 1 and rows[0].expires_at > datetime.now(UTC)


def test_a_session_lasts_as_long_as_the_setting_says(client: TestClient, app: FastAPI, official: str) -> None:
    sign_in_with(client, official)
    with app.state.session_factory() as session:
        row = session.scalar(select(OfficialSession).join(Official).where(Official.username == official))
    minutes = app.state.settings.session_minutes
    assert abs((row.expires_at - row.created_at) - timedelta(minutes=minutes)) < timedelta(seconds=1)


def test_the_cli_creates_and_disables_officials(app: FastAPI, client: TestClient, monkeypatch) -> None:
    from app import cli_service

    monkeypatch.setattr(cli_service, "_session_factory", lambda: app.state.session_factory)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli_service.main(["officials", "create", "cli-official", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli_service.main(["officials", "create", "cli-official", "--password-stdin"]) == 1  # exists
    answers = iter([PASSWORD, "something else!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli_service.main(["officials", "create", "cli-other"]) == 2  # the two entries differ
    assert sign_in_with(client, "cli-official").status_code == 303
    assert client.get("/console/policies").status_code == 200
    assert cli_service.main(["officials", "disable", "cli-official"]) == 0
    assert client.get("/console/policies", follow_redirects=False).status_code == 303  # its session ended
    assert sign_in_with(client, "cli-official").status_code == 401


def test_a_generated_secret_is_announced(caplog: pytest.LogCaptureFixture) -> None:
    from app.settings import Settings, with_session_secret

    with caplog.at_level("WARNING", logger="huiqi.app"):
        settings = with_session_secret(Settings(session_secret=None))
    assert settings.session_secret is not None and len(settings.session_secret.get_secret_value()) >= 32
    assert any("session secret generated" in str(getattr(r, "fields", r.getMessage())) for r in caplog.records)
