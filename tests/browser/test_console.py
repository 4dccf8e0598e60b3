"""An official at the console, in Chromium: signs in, opens a policy, compares two of its versions,
evaluates a draft rule's impact, searches decisions and replays one; in English, with and without
JavaScript."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, insert

from app.engine import load_ruleset
from tests.browser.conftest import ROOT, assert_accessible, screenshot
from tests.helpers import SUMAO_LOOSER, SUMAO_STRICTER

pytestmark = pytest.mark.browser
RULESET = load_ruleset(ROOT / "rules")

USERNAME, PASSWORD = "inspector", "correct horse battery staple"
SUMAO = (ROOT / "rules" / "js-sumao-loan.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def official(server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An official account (made with the CLI, as an administrator would) and an older version of
    js-sumao-loan, in the database of the shared browser server.

    The shared `server` fixture does not expose its database, so it is found where that fixture puts it.
    """
    databases = sorted(tmp_path_factory.getbasetemp().glob("browser[0-9]*/huiqi.db"))
    assert len(databases) == 1, databases
    url = f"sqlite:///{databases[0]}"
    env = {**os.environ, "APP_DATABASE_URL": url}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "app", "officials", "create", USERNAME, "--password-stdin"],
                   cwd=ROOT, env=env, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    from app.db.models import RuleVersion

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(RuleVersion).values(
            rule_id="js-sumao-loan", version="0ldversion0000aa", file_name="js-sumao-loan.yaml",
            content=SUMAO.replace(*SUMAO_LOOSER),
            first_seen_at=datetime.now(UTC) - timedelta(days=60)))
    engine.dispose()
    return USERNAME


def sign_in(page: Any, next_path: str = "/console") -> None:
    page.goto(next_path)
    page.wait_for_url("**/console/sign-in**")
    page.locator("#username").fill(USERNAME)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()


def test_an_official_reviews_a_policy_a_draft_and_decisions(new_page: Any, official: str) -> None:
    page = new_page(locale="zh-CN")
    page.goto("/console/policies")
    page.wait_for_url("**/console/sign-in**")
    assert page.get_by_role("heading", level=1).inner_text() == "工作人员登录"
    assert_accessible(page)
    screenshot(page, "console-sign-in-zh")
    page.get_by_label("用户名").fill(official)
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码不正确" in page.locator("[role=alert]").inner_text()
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/policies")

    # Find a policy and open it.
    page.get_by_label("编号或名称").fill("苏贸贷")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name="苏贸贷").click()
    page.wait_for_url("**/console/policies/js-sumao-loan")
    assert "扩大“苏贸贷”惠企数量和放贷规模" in page.locator(".quote").first.inner_text()
    assumed = sum(p.basis == "assumption" for p in RULESET.rules["js-sumao-loan"].definition.parameters.values())
    assert page.locator(".basis--assumption").count() == assumed
    examples = len(RULESET.rules["js-sumao-loan"].definition.examples)
    assert f"通过 {examples} / {examples}" in page.locator("#examples-title").inner_text()
    assert_accessible(page)
    screenshot(page, "console-policy-zh")

    # Compare the older version with the current one.
    page.get_by_label("比较：旧版本").select_option("0ldversion0000aa")
    page.get_by_role("button", name="显示差异").click()
    page.wait_for_selector("table.diff")
    assert page.locator("tr.diff__delete").filter(has_text="value: [micro, small, medium, large]").count() == 1
    assert page.locator("tr.diff__insert").filter(has_text="value: [micro, small, medium]").count() == 1
    assert_accessible(page)
    page.locator("#diff").scroll_into_view_if_needed()
    screenshot(page, "console-policy-diff-zh")

    # Start a draft from it, narrow it to micro firms, and see who would lose eligibility.
    page.get_by_role("link", name="以此为底稿评估草案").click()
    textarea = page.get_by_label("规则文本（YAML）")
    textarea.fill(textarea.input_value().replace(*SUMAO_STRICTER))
    page.get_by_role("button", name="评估草案").click()
    page.wait_for_selector("#result")
    lost = int(page.locator("#lost-count").inner_text())
    assert int(page.locator("#gained-count").inner_text()) == 0 and lost > 0
    assert "未通过" in page.locator("#result").inner_text()  # its small-exporter examples no longer hold
    assert_accessible(page)
    screenshot(page, "console-draft-impact-zh")

    # A business asks for an answer; the official finds the decision and replays it.
    answer = page.request.post("/v1/match", data={"profile": {
        "name": "苏州浏览器测试电子有限公司", "region_code": "320506", "industry_code": "C3911", "entity_type": "enterprise", "employees": 80,
        "annual_revenue": 30000000, "export_revenue": 9000000, "activities": []}})
    assert answer.ok
    page.get_by_role("link", name="决策记录").click()
    page.get_by_label("企业名称").fill("浏览器测试")
    page.get_by_label("政策", exact=True).select_option("js-sumao-loan")
    page.get_by_label("该政策的结果").select_option("eligible")
    page.get_by_role("button", name="搜索").click()
    assert "找到 1 条决策" in page.locator(".count[role=status]").inner_text()
    assert_accessible(page)
    screenshot(page, "console-decisions-zh")
    page.locator("table.data a[href^='/console/decisions/']").click()
    page.get_by_role("button", name="重放此决策").click()
    page.wait_for_selector("#replay-result")
    assert "已复现" in page.locator("#replay-result").inner_text()
    assert_accessible(page)
    screenshot(page, "console-decision-replayed-zh")

    page.get_by_role("link", name="审计日志").click()
    rows = page.locator("tbody tr.audit")
    assert "重放决策" in rows.nth(0).inner_text() and "评估规则草案" in rows.nth(1).inner_text()
    screenshot(page, "console-audit-zh")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_console_works_in_english_with_or_without_javascript(new_page: Any, official: str,
                                                                 javascript: bool) -> None:
    page = new_page(locale="en-GB", javascript=javascript)
    check = assert_accessible if javascript else (lambda page: None)  # axe needs scripts
    sign_in(page, "/console/reach")
    page.wait_for_url("**/console/reach")
    assert page.get_by_role("heading", level=1).inner_text() == "Reach of each policy"
    assert page.locator("table.reach tbody tr").count() >= 20  # every policy in force today
    check(page)
    screenshot(page, f"console-reach-en-{'js' if javascript else 'nojs'}")
    page.get_by_role("link", name="Draft impact").click()
    page.get_by_label("Rule text (YAML)").fill(SUMAO.replace("    basis: assumption\n", "    basis: guess\n"))
    page.get_by_role("button", name="Evaluate draft").click()
    errors = page.locator("#validation-errors tbody tr")
    assert errors.count() >= 1 and "draft/js-sumao-loan.yaml" in errors.first.inner_text()
    check(page)
    screenshot(page, f"console-draft-errors-en-{'js' if javascript else 'nojs'}")
    page.get_by_role("link", name="中文").click()
    assert page.get_by_role("heading", level=1).inner_text() == "规则草案影响评估"
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/console/sign-in")
