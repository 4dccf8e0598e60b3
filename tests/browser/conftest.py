"""The real app under uvicorn on a free port, against a fresh SQLite file (migrated, seeded), and
Debian's Chromium driven by Playwright. `make test` installs Chromium, the CJK fonts and axe-core
(`make browser-deps`); without them these tests are skipped, except in CI, where they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import uvicorn_process

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).parent / "screenshots"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [str(path) for path in (CHROMIUM, AXE) if not path.exists()]
    reason = None
    if missing and not os.environ.get("CI"):
        reason = f"browser tests need {', '.join(missing)}: run `make browser-deps`"
    elif os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        # The pages run against their own SQLite server; the PostgreSQL pass covers them in test_web.py.
        reason = "browser tests run once, in the SQLite pass"
    if reason:
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the running app."""
    directory = tmp_path_factory.mktemp("browser")
    env = {**os.environ, "APP_DATABASE_URL": f"sqlite:///{directory / 'huiqi.db'}", "APP_RATE_LIMIT": "0",
           "APP_RULES_DIR": str(ROOT / "rules"), "APP_SEEDS_FILE": str(ROOT / "seeds" / "companies.yaml"),
           "APP_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "app", "seed"], cwd=ROOT, env=env, check=True, capture_output=True)
    with uvicorn_process("app.main:create_app", env, directory / "uvicorn.log") as (_, base):
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, server: str) -> Iterator[Any]:
    """new_page(locale=…, javascript=…) → a page in a fresh context (no cookies), with the base URL set."""
    contexts = []

    def make(locale: str = "zh-CN", javascript: bool = True) -> Any:
        context = browser.new_context(base_url=server, locale=locale, java_script_enabled=javascript,
                                      viewport={"width": 1200, "height": 900}, accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        # Content-Security-Policy violations the page reports; assert_accessible fails on any.
        page.csp_violations = []
        page.on("console", lambda message: "Content Security Policy" in message.text
                and page.csp_violations.append(message.text))
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page: Any) -> None:
    """Run axe-core in the page; fail on serious or critical violations, and on any Content-Security-
    Policy violation. The pages' CSP allows only same-origin scripts, so axe is served from a
    same-origin URL that Playwright answers rather than inlined."""
    page.route("**/__axe.min.js", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
    page.add_script_tag(url="/__axe.min.js")
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    assert not violations, violations
    assert not page.csp_violations, page.csp_violations
