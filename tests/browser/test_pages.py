"""A business owner at the pages, in Chromium: fills the form, reads the answer, corrects an error,
answers a suggested question, downloads the CSV, prints; with and without JavaScript."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser


def choose_region(page: Any, province: str, city: str, county: str) -> None:
    """Pick the region in the cascading selects; the script fills each next list from the server."""
    page.select_option("#province", province)
    page.wait_for_selector(f'#city option[value="{city}"]', state="attached")
    page.select_option("#city", city)
    page.wait_for_selector(f'#county option[value="{county}"]', state="attached")
    page.select_option("#county", county)


def needs_info_count(page: Any) -> int:
    return page.locator("article.measure--needs_info").count()


def test_a_business_fills_the_form_in_chinese_and_reads_its_answer(new_page: Any) -> None:
    page = new_page(locale="zh-CN")
    page.goto("/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert_accessible(page)
    choose_region(page, "320000", "320500", "320506")
    page.get_by_label("企业名称").fill("苏州示例电子有限公司")
    page.get_by_label("主体类型").select_option("enterprise")
    page.get_by_label("所属行业").fill("计算机整机制造")
    page.get_by_label("从业人员数").fill("80")
    page.get_by_label("营业收入 （万元）").fill("3000")
    page.get_by_label("出口额 （万元）").fill("1200")
    page.get_by_label("制造业企业产品出口").check()
    screenshot(page, "form-zh-filled")
    page.get_by_role("button", name="查看匹配结果").click()

    page.wait_for_url("**/answer")
    assert page.get_by_role("heading", level=1).inner_text() == "苏州示例电子有限公司"
    assert page.locator("[data-decision-id]").inner_text()
    eligible = page.locator("section.results--eligible")
    assert eligible.get_by_role("heading", name="苏贸贷").is_visible()
    sumao = page.locator("#m-js-sumao-loan")
    assert sumao.locator(".measure__head .tag").inner_text().endswith("可以申请")  # a loan to claim
    assert "扶持内容" in sumao.inner_text() and "截止时间" in sumao.inner_text()  # how much, until when
    sumao.get_by_text("政策原文依据").click()  # the passage it rests on, folded under the action
    assert "扩大“苏贸贷”惠企数量和放贷规模" in sumao.inner_text()
    assert "如何申请" in sumao.inner_text()
    screenshot(page, "answer-zh")
    assert_accessible(page)


def test_a_business_fills_the_form_in_english_and_reads_its_answer(new_page: Any) -> None:
    page = new_page(locale="zh-CN")
    page.goto("/")
    page.get_by_role("link", name="English").click()
    assert page.get_attribute("html", "lang") == "en"
    choose_region(page, "440000", "440300", "440305")
    assert page.locator("#county option:checked").inner_text() == "Nanshan District"
    page.get_by_label("Industry", exact=True).fill("C3911")
    page.get_by_label("Employees", exact=True).fill("120")
    page.get_by_label("Annual revenue (万元, 10,000 yuan)").fill("8000")
    page.get_by_label("R&D expense (万元, 10,000 yuan)").fill("600")
    page.get_by_label("High-tech enterprise").check()
    screenshot(page, "form-en-filled")
    page.get_by_role("button", name="See my results").click()

    page.wait_for_url("**/answer")
    assert page.get_attribute("html", "lang") == "en"
    assert "Registered in Nanshan District, Shenzhen, Guangdong" in page.inner_text(".answer-head")
    assert page.get_by_role("heading", name=re.compile("Measures that need more information")).is_visible()
    assert page.locator("text=Criterion by criterion").first.is_visible()
    screenshot(page, "answer-en")
    assert_accessible(page)
    # The choice is remembered: the next page opened without ?lang= is English too.
    page.goto("/")
    assert page.get_attribute("html", "lang") == "en"


def test_a_validation_error_shows_beside_its_field_and_keeps_what_was_entered(new_page: Any) -> None:
    page = new_page(locale="zh-CN")
    page.goto("/?lang=zh")
    choose_region(page, "320000", "320500", "320506")
    page.get_by_label("统一社会信用代码").fill("91350100M000100Y4X")
    page.get_by_label("营业收入 （万元）").fill("100")
    page.get_by_label("出口额 （万元）").fill("250")
    page.get_by_label("零售").check()
    page.get_by_role("button", name="查看匹配结果").click()

    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    credit = page.locator("#field-credit_code")
    assert "校验位（最后一位）不对" in credit.locator(".error-message").inner_text()
    assert page.get_attribute("#credit_code", "aria-invalid") == "true"
    assert "出口额不能大于营业收入" in page.locator("#field-export_revenue .error-message").inner_text()
    assert page.input_value("#credit_code") == "91350100M000100Y4X"
    assert page.input_value("#export_revenue") == "250"
    assert page.locator("#county option:checked").inner_text() == "吴中区"
    assert page.is_checked("#activities-retail")
    screenshot(page, "form-zh-errors")
    assert_accessible(page)
    # The summary links to the field.
    summary.get_by_role("link", name=re.compile("统一社会信用代码")).click()
    assert page.url.endswith("#field-credit_code")


def test_answering_a_suggested_question_updates_the_answer(new_page: Any) -> None:
    page = new_page(locale="zh-CN")
    page.goto("/answer?region_code=320506&industry_code=C3911&employees=80&annual_revenue=3000&export_revenue=1200")
    before = needs_info_count(page)
    first_id = page.locator("[data-decision-id]").inner_text()
    questions = page.locator("section.questions")
    assert re.search(r"回答此项可确定 \d+ 项措施", questions.inner_text())
    questions.get_by_label("制造业企业产品出口").check()
    questions.get_by_label("海外仓").check()
    screenshot(page, "answer-zh-question")
    questions.get_by_role("button", name="更新结果").click()

    page.wait_for_load_state()
    assert page.locator("[data-decision-id]").inner_text() != first_id
    assert needs_info_count(page) < before
    assert page.locator("#m-js-overseas-warehouse .measure__head .tag--eligible").count() == 1
    assert "出口额" in page.inner_text("section.derived") or "40%" in page.inner_text("section.derived")
    screenshot(page, "answer-zh-updated")


def test_csv_download_has_one_row_per_measure(new_page: Any) -> None:
    page = new_page(locale="zh-CN")
    page.goto("/answer?region_code=320506&industry_code=C3911&entity_type=enterprise&employees=80&annual_revenue=3000"
              "&export_revenue=0&import_value=0&activities=none")
    decision = page.locator("[data-decision-id]").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="下载表格（CSV）").click()
    download = info.value
    assert download.suggested_filename == f"huiqi-{decision}.csv"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["决策编号", "措施编号", "措施名称", "结果"]
    sumao = next(row for row in rows if row[1] == "js-sumao-loan")
    assert sumao[3] == "不符合条件" and "需要出口额>0元" in sumao[6]
    assert len(rows) == 1 + page.locator("article.measure").count() + page.locator(".outside-list li").count()


def test_the_form_works_without_javascript(new_page: Any) -> None:
    page = new_page(locale="zh-CN", javascript=False)
    page.goto("/")
    assert page.is_disabled("#city")
    show_next = page.get_by_role("button", name="显示下一级（城市、区县）")
    page.select_option("#province", "320000")
    show_next.click()
    page.select_option("#city", "320500")
    show_next.click()
    page.select_option("#county", "320506")
    page.get_by_label("所属行业").fill("计算机")
    page.get_by_role("button", name="查找").click()
    page.select_option("#industry_pick", "C3911")  # several industries match: the server lists them
    page.get_by_label("营业收入 （万元）").fill("3000")
    screenshot(page, "form-zh-no-js")
    page.get_by_role("button", name="查看匹配结果").click()
    assert "江苏省苏州市吴中区" in page.inner_text(".answer-head")
    assert "C3911 计算机整机制造" in page.inner_text("#m-js-san-tong")
    assert page.locator("[data-decision-id]").inner_text()
    assert not page.locator("button[data-print]").is_visible()  # printing from the page needs the script
    screenshot(page, "answer-zh-no-js")


def test_an_area_without_measures_is_told_so(new_page: Any) -> None:
    page = new_page(locale="zh-CN")
    page.goto("/answer?region_code=110101")
    assert "您所在地区暂无收录的措施" in page.inner_text("main")
    assert page.locator("article.measure").count() == 0


def test_the_answer_prints_cleanly(new_page: Any) -> None:
    page = new_page(locale="en-US")
    page.goto("/answer?region_code=320506&industry_code=C3911&employees=80&annual_revenue=3000&lang=en")
    page.emulate_media(media="print")
    assert not page.locator(".lang-switch").is_visible()
    assert not page.locator("section.questions").is_visible()
    assert page.locator("[data-decision-id]").is_visible()
    screenshot(page, "answer-en-print")
    assert len(page.pdf(format="A4")) > 10_000


def test_keyboard_reaches_the_skip_link_first(new_page: Any) -> None:
    page = new_page(locale="zh-CN")
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


@pytest.mark.parametrize(("locale", "lang"), [("zh-CN", "zh"), ("en-GB", "en")])
def test_a_province_only_answer_asks_for_the_district_in_place_and_its_link_shows_it_as_stored(
        new_page: Any, locale: str, lang: str) -> None:
    zh = lang == "zh"
    page = new_page(locale=locale)
    page.goto(f"/?lang={lang}")
    assert ("江苏省" if zh else "Jiangsu") in page.inner_text(".coverage")  # which regions are covered, up front
    page.select_option("#province", "320000")
    page.get_by_label("主体类型" if zh else "Type of business").select_option("enterprise")
    page.get_by_role("button", name="查看匹配结果" if zh else "See my results").click()
    page.wait_for_url("**/answer")
    kunshan = page.locator("#m-js-kunshan-import-zone")
    assert kunshan.locator(".tag--needs_info").count() >= 1  # may be in Kunshan: not "ineligible"
    questions = page.locator("section.questions")
    assert questions.locator("#city").is_visible()  # the next level, asked in place
    screenshot(page, f"answer-{lang}-province-only")
    assert_accessible(page)
    questions.locator("#city").select_option("320500")
    page.wait_for_selector('section.questions #county option[value="320583"]', state="attached")
    questions.locator("#county").select_option("320583")
    questions.get_by_role("button", name="更新结果" if zh else "Update my results").click()
    page.wait_for_load_state()
    assert "昆山" in page.inner_text(".answer-head") or "Kunshan" in page.inner_text(".answer-head")
    decision = page.locator("[data-decision-id]").inner_text()

    # The link to share shows this decision as it was decided, and re-checking is a button of its own.
    page.get_by_role("link", name=re.compile("本结果的链接" if zh else "Link to this answer")).click()
    page.wait_for_url(f"**/answer/{decision}")
    assert page.locator("[data-decision-id]").inner_text() == decision
    assert ("已保存的结果" if zh else "a stored answer") in page.inner_text(".answer-head").lower()
    screenshot(page, f"answer-{lang}-stored")
    assert_accessible(page)
    page.get_by_role("link", name="按今天的规则重新判断" if zh else "Check again with today's rules").click()
    page.wait_for_load_state()
    assert page.locator("[data-decision-id]").inner_text() != decision  # a new decision, logged


def test_the_api_docs_render_with_no_internet(new_page: Any, server: str) -> None:
    page = new_page(locale="en-GB")
    outside: list[str] = []

    def only_ours(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary-path")  # Swagger UI drew the operations
    assert page.locator(".opblock-summary-path", has_text="/v1/match").count() >= 1
    assert outside == [] and page.csp_violations == []
    screenshot(page, "api-docs")
