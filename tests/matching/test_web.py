"""The business owner's pages, without a browser: form, answer, errors beside fields, CSV, language."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from html import escape
from typing import Any

import pytest
from fastapi.testclient import TestClient

SUZHOU_EXPORTER = {"province": "320000", "city": "320500", "county": "320506", "industry_code": "C3911", "entity_type": "enterprise",
                   "employees": "80", "annual_revenue": "3000", "export_revenue": "1200"}


@pytest.fixture(autouse=True)
def _no_language_cookie(client: TestClient) -> Iterator[None]:
    """The app is shared by the session: a test that switches language must not leave the cookie behind."""
    yield
    client.cookies.clear()


def field_block(html: str, name: str) -> str:
    """The markup of one field's block (from its wrapper to the next field's)."""
    start = html.index(f'id="field-{name}"')
    end = html.find('id="field-', start + 10)
    return html[start:end if end != -1 else len(html)]


def decision_id(html: str) -> str:
    match = re.search(r"<code data-decision-id>([0-9a-f-]{36})</code>", html)
    assert match, "the answer shows its decision id"
    return match.group(1)


def section(html: str, group: str) -> str:
    start = html.index(f'id="group-{group}"')
    end = html.find('<section class="results', start)
    return html[start:end if end != -1 else len(html)]


def test_form_is_chinese_by_default_and_labels_every_field(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Language": ""})
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert "查找适用的惠企政策" in html
    assert '<option value="320000">江苏省</option>' in html
    for field_id in ("name", "credit_code", "province", "city", "county", "industry_code", "employees",
                     "annual_revenue", "export_revenue", "listing_status", "founded_on"):
        assert f'for="{field_id}"' in html and f'id="{field_id}"' in html, field_id
    assert "营业收入 <span class=\"unit\">（万元）</span>" in html
    for legend in ("经营活动", "资质认定", "注册地行政区划"):
        assert f"<legend class=\"field__label\">{legend}" in html


def test_language_switch_sets_a_cookie_that_later_pages_follow(client: TestClient) -> None:
    response = client.get("/?lang=en")
    assert '<html lang="en">' in response.text and "Find the support measures for your business" in response.text
    assert "lang=en" in response.headers["set-cookie"]
    later = client.get("/")
    assert '<html lang="en">' in later.text
    client.get("/?lang=zh")
    assert '<html lang="zh-CN">' in client.get("/").text


def test_accept_language_picks_english_without_a_cookie(client: TestClient) -> None:
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert '<html lang="en">' in html


def test_region_lists_follow_the_province_chosen_without_javascript(client: TestClient) -> None:
    html = client.get("/", params={"province": "320000"}).text
    assert '<option value="320500">苏州市</option>' in html
    assert '<option value="320000" selected>江苏省</option>' in html
    html = client.get("/", params={"region_code": "320506"}).text
    for code in ("320000", "320500", "320506"):
        assert f'<option value="{code}" selected>' in html


def test_region_and_industry_lists_for_the_enhanced_widgets(client: TestClient) -> None:
    cities = client.get("/form/regions", params={"parent": "320000"}).json()
    assert ["320500", "苏州市"] in cities
    assert client.get("/form/regions", params={"parent": "999999"}).status_code == 404
    industries = client.get("/form/industries", params={"lang": "zh"}).json()
    assert "C3911 计算机整机制造" in industries
    assert len(industries) > 1000


def test_answer_lists_eligible_first_with_reasons_sources_and_how_to_apply(client: TestClient) -> None:
    response = client.post("/answer", data={**SUZHOU_EXPORTER, "name": "苏州示例电子有限公司"})
    assert response.status_code == 200
    html = response.text
    order = [html.index(f'id="group-{group}"') for group in ("eligible", "needs_info", "outside")]
    assert order == sorted(order)
    eligible = section(html, "eligible")
    assert "苏贸贷" in eligible
    sumao = eligible[eligible.index('id="m-js-sumao-loan"'):]
    rule = client.app.state.rules.current.rules["js-sumao-loan"].definition  # type: ignore[attr-defined]
    assert escape(rule.benefit.summary.zh) in sumao  # what it gives
    assert escape(rule.benefit.amount.text.zh) in sumao  # how much
    assert "扩大“苏贸贷”惠企数量和放贷规模" in sumao  # provenance quote
    assert escape(rule.how_to_apply.zh) in sumao  # how to apply
    assert "可以申请" in sumao  # worded as a benefit to claim
    assert "注册地江苏省苏州市吴中区属于本政策适用地区" in sumao  # the engine's explanation
    assert "苏州示例电子有限公司" in html
    # Measures of other regions are a short collapsed list, not full cards.
    outside = section(html, "outside")
    assert "<details>" in outside and 'class="measure' not in outside
    assert "深圳" in outside


def test_every_answer_is_recorded_as_a_decision_with_the_profile_in_yuan(client: TestClient) -> None:
    html = client.post("/answer", data={**SUZHOU_EXPORTER, "activities": "none"}).text
    stored = client.get(f"/v1/decisions/{decision_id(html)}").json()
    assert stored["profile"] == {"region_code": "320506", "industry_code": "C3911", "entity_type": "enterprise", "employees": 80,
                                 "annual_revenue": 30_000_000, "export_revenue": 12_000_000, "activities": []}
    assert stored["answer"]["results"][0]["status"] == "eligible"


def test_answer_by_get_can_be_bookmarked_and_links_back_to_the_filled_form(client: TestClient) -> None:
    html = client.get("/answer", params={"region_code": "320506", "industry_code": "C3911", "employees": "80",
                                         "annual_revenue": "3000", "export_revenue": "1200"}).text
    share = re.search(r'href="(/answer\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "region_code=320506" in share and "annual_revenue=3000" in share
    again = client.get(share).text
    assert decision_id(again) != decision_id(html)  # each answer is its own decision
    edit = re.search(r'href="(/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    form = client.get(edit).text
    assert 'value="3000"' in field_block(form, "annual_revenue")
    assert '<option value="320506" selected>' in form


def test_region_alone_gets_an_answer_with_questions_asked_in_place(client: TestClient) -> None:
    response = client.post("/answer", data={"province": "320000", "city": "320500", "county": "320506"})
    assert response.status_code == 200
    html = response.text
    assert "暂无完全符合条件的措施" in html
    questions = html[html.index('id="questions-title"'):]
    questions = questions[:questions.index("</form>")]
    assert '<input type="hidden" name="region_code" value="320506">' in questions
    assert 'name="activities" value="manufacturing_export"' in questions  # the most useful question
    assert re.search(r"回答此项可确定 \d+ 项措施", questions)


def test_answering_a_suggested_question_updates_the_answer(client: TestClient) -> None:
    first = client.post("/answer", data={**SUZHOU_EXPORTER}).text
    needs_before = len(re.findall(r'class="measure measure--needs_info"', first))
    questions = first[first.index('id="questions-title"'):]
    questions = questions[:questions.index("</form>")]
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', questions))
    assert hidden["annual_revenue"] == "3000" and "activities" not in hidden
    second = client.post("/answer", data={**hidden, "activities": ["manufacturing_export", "overseas_warehouse"],
                                          }).text
    needs_after = len(re.findall(r'class="measure measure--needs_info"', second))
    assert needs_after < needs_before
    assert 'value="overseas_warehouse" checked' in second or "overseas_warehouse" in second


def test_a_near_miss_says_what_it_would_take(client: TestClient) -> None:
    html = client.post("/answer", data={**SUZHOU_EXPORTER, "export_revenue": "0", "import_value": "0",
                                        "activities": "none"}).text
    ineligible = section(html, "ineligible")
    sumao = ineligible[ineligible.index('id="m-js-sumao-loan"'):]
    assert "要符合条件：" in sumao and "需要出口额&gt;0元；目前为0元" in sumao


@pytest.mark.parametrize("lang, messages", [
    ("zh", {"credit_code": "校验位（最后一位）不对", "export_revenue": "出口额不能大于营业收入",
            "employees": "不能为负数", "total_assets": "请填写数字"}),
    ("en", {"credit_code": "check character (the last one) of this credit code is wrong",
            "export_revenue": "Export sales cannot be more than annual revenue",
            "employees": "Cannot be negative", "total_assets": "Enter a number"}),
])
def test_errors_appear_beside_their_fields_and_keep_what_was_entered(
    client: TestClient, lang: str, messages: dict[str, str]
) -> None:
    entered = {"province": "320000", "name": "<b>测试</b>公司", "credit_code": "91350100M000100Y4X",
               "annual_revenue": "100", "export_revenue": "200", "employees": "-3", "total_assets": "一百",
               "activities": "retail"}
    response = client.post("/answer", data=entered, params={"lang": lang})
    assert response.status_code == 422
    html = response.text
    for name, message in messages.items():
        block = field_block(html, name)
        assert message in block, (name, block)
        assert 'aria-invalid="true"' in block
    assert 'value="91350100M000100Y4X"' in html and 'value="一百"' in html and 'value="-3"' in html
    assert 'value="retail" checked' in html
    assert '<option value="320000" selected>' in html
    assert "&lt;b&gt;测试&lt;/b&gt;公司" in html and "<b>测试</b>" not in html  # escaped, kept
    assert 'class="error-summary"' in html
    assert client.get("/v1/decisions/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_region_is_the_one_required_field(client: TestClient) -> None:
    response = client.post("/answer?lang=en", data={"employees": "5"})
    assert response.status_code == 422
    assert "Choose the province" in field_block(response.text, "region_code")


def test_a_city_outside_the_chosen_province_is_refused(client: TestClient) -> None:
    response = client.post("/answer", data={"province": "440000", "city": "320500"})
    assert response.status_code == 422
    assert "不属于上一级" in field_block(response.text, "region_code")


def test_industry_by_name_unique_is_taken_and_ambiguous_offers_choices(client: TestClient) -> None:
    html = client.post("/answer", data={"province": "320000", "industry_code": "计算机整机制造"}).text
    assert "C3911 计算机整机制造" in html and 'id="group-eligible"' in html
    response = client.post("/answer", data={"province": "320000", "industry_code": "计算机"})
    assert response.status_code == 422
    block = field_block(response.text, "industry_code")
    assert "有多个行业符合" in block and 'name="industry_pick"' in block
    assert '<option value="C3911">C3911 计算机整机制造</option>' in block
    picked = client.post("/answer", data={"province": "320000", "industry_code": "计算机", "industry_pick": "C3911"})
    assert picked.status_code == 200
    missing = client.post("/answer?lang=en", data={"province": "320000", "industry_code": "zzzz"})
    assert "No industry matches" in field_block(missing.text, "industry_code")


def test_money_in_wan_accepts_separators_and_full_width_digits(client: TestClient) -> None:
    html = client.post("/answer", data={"province": "320000", "annual_revenue": "１,２50.5",
                                        "founded_on": "2019年5月1日"}).text
    stored = client.get(f"/v1/decisions/{decision_id(html)}").json()["profile"]
    assert stored["annual_revenue"] == 12_505_000
    assert stored["founded_on"] == "2019-05-01"


def test_csv_has_a_bom_and_one_row_per_measure(client: TestClient) -> None:
    html = client.post("/answer", data={**SUZHOU_EXPORTER, "export_revenue": "0", "import_value": "0",
                                        "activities": "none"}).text
    did = decision_id(html)
    link = re.search(r'href="(/answer/[0-9a-f-]+\.csv\?lang=zh)"', html).group(1)
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"huiqi-{did}.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["决策编号", "措施编号", "措施名称", "结果", "理由", "需补充的信息", "差距"]
    stored = client.get(f"/v1/decisions/{did}").json()["answer"]["results"]
    assert len(rows) - 1 == len(stored)
    by_id: dict[str, Any] = {row[1]: row for row in rows[1:]}
    assert all(row[0] == did for row in rows[1:])
    assert by_id["js-sumao-loan"][3] == "不符合条件" and "需要出口额>0元" in by_id["js-sumao-loan"][6]
    unsure = decision_id(client.post("/answer", data={"region_code": "320506"}).text)
    rows = list(csv.reader(io.StringIO(client.get(f"/answer/{unsure}.csv").content.decode("utf-8-sig"))))
    needs_info = [row for row in rows[1:] if row[3] == "需补充信息"]
    assert needs_info and all(row[5] for row in needs_info)
    english = client.get(f"/answer/{did}.csv?lang=en").content.decode("utf-8-sig")
    assert english.startswith("decision_id,measure_id,title,status")


def test_csv_of_an_unknown_decision_is_a_page_not_found(client: TestClient) -> None:
    response = client.get("/answer/not-a-decision.csv")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


def test_static_assets_are_served(client: TestClient) -> None:
    html = client.get("/").text
    css = re.search(r'href="(/static/huiqi\.css\?v=\w+)"', html).group(1)
    js = re.search(r'src="(/static/huiqi\.js\?v=\w+)"', html).group(1)
    assert client.get(css).status_code == 200 and "@media print" in client.get(css).text
    assert client.get(js).status_code == 200


def test_a_group_named_like_its_class_is_not_an_ambiguity(client: TestClient) -> None:
    html = client.post("/answer", data={"province": "360000", "industry_code": "快递服务"}).text
    stored = client.get(f"/v1/decisions/{decision_id(html)}").json()["profile"]
    assert stored["industry_code"] == "G6020"


def test_english_industry_labels_name_every_level_down_to_the_class(client: TestClient) -> None:
    industries = client.get("/form/industries", params={"lang": "en"}).json()
    assert "C39 Manufacture of computers, communication and other electronic equipment" in industries
    assert "C3911 Manufacture of complete computers" in industries
    assert not any(re.search(r"[\u4e00-\u9fff]", label) for label in industries)  # no Chinese left in English


def test_the_shared_link_shows_the_stored_decision_without_deciding_again(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from app.db.models import Decision

    first = client.post("/answer", data={**SUZHOU_EXPORTER})
    decision_id = re.search(r"data-decision-id>([0-9a-f-]{36})<", first.text)[1]
    assert f'href="/answer/{decision_id}"' in first.text  # the link to share is the stored decision
    with app.state.session_factory() as session:
        before = session.scalar(select(func.count()).select_from(Decision))
    shown = client.get(f"/answer/{decision_id}")
    assert shown.status_code == 200 and decision_id in shown.text
    with app.state.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == before  # nothing decided again
    recheck = re.search(r'href="(/answer\?[^"]+)">按今天的规则重新判断', shown.text)
    assert recheck and "region_code=320506" in recheck[1]
    assert client.get(recheck[1].replace("&amp;", "&")).status_code == 200  # the explicit re-check decides anew
    assert client.get("/answer/00000000-0000-0000-0000-000000000000").status_code == 404
