"""Security headers on pages and API answers; cookies HttpOnly, SameSite and (over TLS) Secure; the
proxy's X-Forwarded-* headers honoured only when the settings trust the proxy."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings

pytestmark = pytest.mark.usefixtures("client")

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in csp.split(";")) if part}


def assert_common(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in COMMON.items():
        assert response.headers[name] == value, name
    assert "camera=()" in response.headers["permissions-policy"]
    assert "geolocation=()" in response.headers["permissions-policy"]


@pytest.mark.parametrize("path", ["/", "/?lang=en", "/answer?region_code=320506", "/console/sign-in"])
def test_pages_allow_only_their_own_scripts_and_no_framing(client, path: str) -> None:
    response = client.get(path)
    if response.status_code == 404 and path.startswith("/console"):
        pytest.skip("no console in this build")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_common(response)
    csp = directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    # No script-src or style-src: both fall back to default-src 'self', so no inline script or style.
    assert "script-src" not in csp and "style-src" not in csp and "style-src-attr" not in csp
    assert csp["object-src"] == ["'none'"]
    # ... and the pages indeed carry no inline script for that policy to break.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", response.text)
    assert "strict-transport-security" not in response.headers  # plain HTTP here


@pytest.mark.parametrize("method, path", [("GET", "/v1/policies"), ("GET", "/v1/policies/nope"),
                                          ("POST", "/v1/match"), ("GET", "/healthz"), ("GET", "/nowhere")])
def test_api_answers_may_load_nothing(client, method: str, path: str) -> None:
    response = client.request(method, path)
    assert_common(response)
    assert directives(response.headers["content-security-policy"]) == {
        "default-src": ["'none'"], "frame-ancestors": ["'none'"], "base-uri": ["'none'"]}


def test_static_files_are_not_sniffed(client) -> None:
    response = client.get("/static/huiqi.js")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_api_docs_allow_their_inline_script_by_hash_only(client) -> None:
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 200
        assert_common(response)
        csp = directives(response.headers["content-security-policy"])
        scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.text, re.DOTALL)
        assert scripts or path == "/redoc", path  # ReDoc's page loads its script only by URL
        for script in scripts:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp["script-src"]
        assert "'unsafe-inline'" not in csp["script-src"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert int(response.headers["content-length"]) == len(response.content)


# ------------------------------------------------------------------------------------------- cookies


def cookie_attributes(header: str) -> tuple[str, set[str]]:
    name_value, *attributes = (part.strip() for part in header.split(";"))
    return name_value.split("=")[0], {a.split("=")[0].lower() for a in attributes} | {
        a.lower() for a in attributes if a.lower().startswith("samesite")}


def set_cookies(response) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    return dict(cookie_attributes(h) for h in response.headers.get_list("set-cookie"))


def test_the_language_cookie_is_httponly_and_samesite(client) -> None:
    client.cookies.clear()
    cookies = set_cookies(client.get("/", params={"lang": "en"}))
    assert cookies["lang"] >= {"httponly", "samesite=lax"}
    assert "secure" not in cookies["lang"]  # plain HTTP: a Secure cookie would never come back


def test_the_console_cookies_are_httponly_and_samesite(client) -> None:
    client.cookies.clear()
    response = client.get("/console/sign-in")
    if response.status_code == 404:
        pytest.skip("no console in this build")
    cookies = set_cookies(response)
    assert cookies, "the sign-in form sets its CSRF cookie"
    for attributes in cookies.values():
        assert attributes >= {"httponly", "samesite=lax"}


@pytest.fixture
def https_client(app) -> TestClient:  # type: ignore[no-untyped-def]
    # Not entered as a context manager: the session's app is already started (by `client`).
    return TestClient(app, base_url="https://testserver")


def test_over_tls_cookies_are_secure_and_hsts_is_sent(client, https_client) -> None:
    response = https_client.get("/", params={"lang": "zh"})
    assert set_cookies(response)["lang"] >= {"httponly", "samesite=lax", "secure"}
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    signin = https_client.get("/console/sign-in")
    if signin.status_code != 404:
        assert all("secure" in attributes for attributes in set_cookies(signin).values())


def test_x_forwarded_proto_is_ignored_unless_the_proxy_is_trusted(client) -> None:
    response = client.get("/", params={"lang": "en"}, headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in set_cookies(response)["lang"]
    assert "strict-transport-security" not in response.headers


@pytest.fixture
def behind_proxy(database_url: str) -> Iterator[TestClient]:
    from app.main import create_app

    app = create_app(make_settings(database_url, trusted_proxies="10.0.0.0/8, 127.0.0.1", rate_limit=2))
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        yield client


def test_a_trusted_proxy_sets_the_scheme_and_the_client_address(behind_proxy) -> None:
    response = behind_proxy.get("/", params={"lang": "en"}, headers={"X-Forwarded-Proto": "https"})
    assert "secure" in set_cookies(response)["lang"]
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    # The rate limit counts the address the proxy saw (the last X-Forwarded-For entry), not the proxy.
    for _ in range(2):
        assert behind_proxy.get("/v1/policies", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
    assert behind_proxy.get("/v1/policies", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # A client cannot escape by prepending addresses: the proxy appends the one it saw.
    spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert behind_proxy.get("/v1/policies", headers=spoofed).status_code == 429
    assert behind_proxy.get("/v1/policies", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200


def test_the_api_docs_load_nothing_from_another_origin(client) -> None:
    """Swagger UI and ReDoc come from an installed package: /docs works with no internet."""
    for path, assets in (("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")), ("/redoc", ("redoc.standalone.js",))):
        page = client.get(path).text
        assert not re.search(r"""(src|href)=["']?https?://""", page), path
        for asset in assets:
            assert f"/docs-assets/{asset}" in page
            served = client.get(f"/docs-assets/{asset}")
            assert served.status_code == 200 and len(served.content) > 100_000
        csp = directives(client.get(path).headers["content-security-policy"])
        assert not any("http" in source for sources in csp.values() for source in sources)
