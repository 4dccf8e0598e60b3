"""Console fixtures: an official account (a fresh username per test), and signing in through the form."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


@pytest.fixture(autouse=True)
def _fresh_cookies(client: TestClient) -> Iterator[None]:
    """The TestClient is shared by the session: no test may leave a console session behind."""
    client.cookies.clear()
    yield
    client.cookies.clear()


@pytest.fixture
def official(app: FastAPI) -> str:
    """The username of a new official whose password is PASSWORD."""
    from app.console.accounts import create_official

    username = f"official-{uuid.uuid4().hex[:10]}"
    with app.state.session_factory() as session:
        create_official(session, username=username, password=PASSWORD)
        session.commit()
    return username


def sign_in_with(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "") -> object:
    page = client.get("/console/sign-in")
    data = {"username": username, "password": password, "csrf_token": form_token(page.text)}
    if next_url:
        data["next"] = next_url
    return client.post("/console/sign-in", data=data, follow_redirects=False)


@pytest.fixture
def signed_in(client: TestClient, official: str) -> Callable[[str], str]:
    """Sign the shared client in as `official`; return the session's CSRF token (read from a page)."""
    response = sign_in_with(client, official)
    assert response.status_code == 303, response.text
    return form_token(client.get("/console/drafts").text)
