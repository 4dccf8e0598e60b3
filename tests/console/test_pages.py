"""The console's pages for a signed-in official: policies, versions and their diff, decisions and replay,
reach, a draft's impact, and the append-only audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError

from app.db.models import AuditEvent, RuleVersion
from tests.conftest import ROOT
from tests.helpers import SUMAO_LOOSER, SUMAO_STRICTER

SUMAO = (ROOT / "rules" / "js-sumao-loan.yaml").read_text(encoding="utf-8")
PAGES = ["/console/policies", "/console/policies/js-sumao-loan", "/console/decisions", "/console/reach",
         "/console/assumptions",
         "/console/drafts", "/console/audit", "/console/policies?q=贷&kind=loan&region=江苏"]


@pytest.fixture
def seeded(app: FastAPI, client: TestClient) -> None:
    from app.companies.seeds import load_seeds

    with app.state.session_factory() as session:
        load_seeds(session, ROOT / "seeds" / "companies.yaml")
        session.commit()


def last_event(app: FastAPI, username: str) -> AuditEvent:
    with app.state.session_factory() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.username == username)
                               .order_by(AuditEvent.id.desc())).first()


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_for_a_signed_in_official(client: TestClient, signed_in: str, path: str,
                                                     lang: str) -> None:
    response = client.get(path, params={"lang": lang})
    assert response.status_code == 200, response.text
    html = response.text
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in html
    assert response.headers["cache-control"] == "no-store"
    assert 'aria-current="page"' in html  # the console navigation marks where the official is
    assert ("退出登录" if lang == "zh" else "Sign out") in html
    assert "?lang=zh" in html and "?lang=en" in html  # the switch, on every page


def test_policy_search_by_id_title_region_and_kind(client: TestClient, signed_in: str) -> None:
    def ids(**params: str) -> set[str]:
        return set(re.findall(r'href="/console/policies/([a-z0-9-]+)"', client.get("/console/policies",
                                                                                   params=params).text))
    assert ids(q="sumao") == {"js-sumao-loan"}
    assert ids(q="苏贸贷") == {"js-sumao-loan"}
    assert ids(q="su mao") == {"js-sumao-loan"}
    jiangsu = ids(region="江苏")
    assert jiangsu and all(pid.startswith("js-") for pid in jiangsu)
    assert ids(region="320000") == jiangsu
    assert "js-sumao-loan" in ids(kind="loan") and all(pid != "sz-unicorn" for pid in ids(kind="loan"))


def test_a_policy_shows_quote_criteria_parameters_with_basis_and_examples(client: TestClient,
                                                                           signed_in: str) -> None:
    html = client.get("/console/policies/js-sumao-loan?lang=en").text
    assert "扩大“苏贸贷”惠企数量和放贷规模" in html  # the provenance quote
    assert "paragraph 41" in html
    assert "<code>sme</code>" in html and "sme_size_classes" in html
    assert "so it is an SME" in html  # an explanation
    assert 'class="basis basis--standard"' in html
    examples = SUMAO.count("\n  - name:")
    assert f"{examples} of {examples} pass" in html


def test_an_unknown_policy_is_a_404_page(client: TestClient, signed_in: str) -> None:
    response = client.get("/console/policies/no-such-policy")
    assert response.status_code == 404 and "没有这项政策" in response.text


@pytest.fixture
def older_version(app: FastAPI, client: TestClient) -> Iterator[str]:
    """An earlier stored version of js-sumao-loan whose text differs (and holds markup to escape)."""
    old_text = SUMAO.replace('region: ["320000"]\n', 'region: ["320000", "310000"]\n').replace(
        "title:\n", "# <script>alert(1)</script>\ntitle:\n", 1)
    with app.state.session_factory() as session:
        session.add(RuleVersion(rule_id="js-sumao-loan", version="0ld0ld0ld0ld0ld0", file_name="js-sumao-loan.yaml",
                                content=old_text, first_seen_at=datetime.now(UTC) - timedelta(days=30)))
        session.commit()
    yield "0ld0ld0ld0ld0ld0"
    with app.state.session_factory() as session:
        session.execute(delete(RuleVersion).where(RuleVersion.version == "0ld0ld0ld0ld0ld0"))
        session.commit()


def test_diff_between_two_versions_chosen_with_two_selects(client: TestClient, app: FastAPI, signed_in: str,
                                                           older_version: str) -> None:
    current = app.state.rules.current.rules["js-sumao-loan"].version
    page = client.get("/console/policies/js-sumao-loan").text
    assert '<select class="select" id="from" name="from">' in page and 'id="to" name="to"' in page
    with app.state.session_factory() as session:  # other tests may have recorded versions of their own
        latest = session.scalars(select(RuleVersion.version).where(RuleVersion.rule_id == "js-sumao-loan")
                                 .order_by(RuleVersion.first_seen_at.desc()).limit(2)).all()
    assert all(f'<option value="{version}" selected>' in page for version in latest)  # the two latest
    html = client.get("/console/policies/js-sumao-loan", params={"from": older_version, "to": current}).text
    rows = re.findall(r'<tr class="diff__(insert|delete)">.*?<code>(.*?)</code></td>', html, re.S)
    assert ("delete", "region: [&#34;320000&#34;, &#34;310000&#34;]") in rows
    assert ("insert", "region: [&#34;320000&#34;]") in rows
    assert ("delete", "# &lt;script&gt;alert(1)&lt;/script&gt;") in rows
    assert "<script>alert(1)" not in html
    assert "1 line added, 2 removed" in client.get("/console/policies/js-sumao-loan",
                                           params={"from": older_version, "to": current, "lang": "en"}).text
    same = client.get("/console/policies/js-sumao-loan", params={"from": current, "to": current, "lang": "zh"}).text
    assert "两个版本内容相同" in same
    unknown = client.get("/console/policies/js-sumao-loan", params={"from": "nope", "to": current}).text
    assert "请选择两个已记录的版本" in unknown


def match(client: TestClient, name: str, credit_code: str | None = None, **profile: object) -> str:
    body = {"region_code": "320506", "industry_code": "C3911", "entity_type": "enterprise", "employees": 80, "annual_revenue": 30000000,
            "export_revenue": 9000000, "activities": [], "name": name, **profile}
    if credit_code:
        body["credit_code"] = credit_code
    response = client.post("/v1/match", json={"profile": body, "as_of": "2025-06-30"})
    assert response.status_code == 200, response.text
    return response.json()["decision_id"]


def listed(html: str) -> list[str]:
    return re.findall(r'href="/console/decisions/([0-9a-f-]{36})"', html)


def test_decisions_search_by_company_code_policy_outcome_and_date(client: TestClient, signed_in: str) -> None:
    exporter = match(client, "苏州出口电子有限公司", "91440300MA5NAAWM2R")
    small = match(client, "苏州内销商贸有限公司", export_revenue=0, import_value=0)
    elsewhere = match(client, "深圳某公司", region_code="440305")

    def search(**params: str) -> list[str]:
        response = client.get("/console/decisions", params=params)
        assert response.status_code == 200
        return listed(response.text)

    assert set(search()) >= {exporter, small, elsewhere}
    assert search(company="出口电子") == [exporter]
    assert search(credit_code="91440300ma5naawm2r") == [exporter]
    assert search(policy="js-sumao-loan", outcome="eligible") == [exporter]
    assert set(search(policy="js-sumao-loan", outcome="ineligible")) == {small, elsewhere}
    assert set(search(policy="sz-unicorn", outcome="needs_info", company="苏州")) == set()
    assert set(search(policy="js-sumao-loan")) >= {exporter, small, elsewhere}
    assert search(outcome="eligible", company="出口电子") == [exporter]
    assert search(policy='js-sumao-loan"]$.x', outcome="eligible") == []  # not a policy id: nothing, no error
    table = client.get("/console/decisions", params={"policy": "js-sumao-loan", "company": "出口电子"}).text
    assert 'class="tag tag--eligible"' in table  # the chosen policy's outcome, in its own column
    today = date.today()
    assert exporter in search(date_from=(today - timedelta(days=1)).isoformat(),
                              date_to=(today + timedelta(days=1)).isoformat())
    assert search(date_to=(today - timedelta(days=2)).isoformat()) == []
    assert "起始日期应为" in client.get("/console/decisions", params={"date_from": "31/12/2025"}).text


def test_decisions_are_paginated_newest_first(client: TestClient, app: FastAPI, signed_in: str) -> None:
    from app.console.search import DecisionQuery, search_decisions

    ids = [match(client, f"分页测试{n}") for n in range(3)]
    with app.state.session_factory() as session:
        first = search_decisions(session, DecisionQuery(company="分页测试"), page=1, per_page=2)
        second = search_decisions(session, DecisionQuery(company="分页测试"), page=2, per_page=2)
    assert first.total == 3 and first.pages == 2
    assert [str(d.id) for d in first.items + second.items] == ids[::-1]


def test_a_decision_shows_inputs_versions_and_explanations_and_replays(client: TestClient, app: FastAPI,
                                                                       signed_in: str, official: str) -> None:
    decision_id = match(client, "苏州出口电子有限公司")
    html = client.get(f"/console/decisions/{decision_id}?lang=en").text
    assert "苏州出口电子有限公司" in html
    assert "Wuzhong District" in html  # the profile's region, named
    assert "<code>js-sumao-loan</code>" in html and "same" in html  # the rule version, unchanged since
    assert "so it is an SME" in html  # an explanation
    response = client.post(f"/console/decisions/{decision_id}/replay?lang=en", data={"csrf_token": signed_in})
    assert response.status_code == 200
    assert "Reproduced: the rules it used give the same answer." in response.text
    assert "Today&#39;s rules give the same answer." in response.text
    event = last_event(app, official)
    assert event.action == "replay"
    assert event.details["decision_id"] == decision_id and event.details["reproduced"] is True
    assert client.get("/console/decisions/not-a-uuid").status_code == 404


def test_reach_counts_every_stored_company_for_every_policy(client: TestClient, app: FastAPI, signed_in: str,
                                                            seeded: None) -> None:
    from app.registry import service as registry_service

    with app.state.session_factory() as session:
        sumao = next(r for r in registry_service.reach(session, app.state.rules.current, as_of=date.today())
                     if r.policy_id == "js-sumao-loan")
    html = client.get("/console/reach?lang=en").text
    row = html[html.index("<code class=\"muted\">js-sumao-loan</code>"):]
    numbers = re.findall(r'<td class="num">(\d+)</td>', row)[:3]
    assert numbers == [str(sumao.eligible), str(sumao.needs_info), str(sumao.ineligible)]
    assert '<svg class="bar"' in html and 'aria-hidden="true"' in html  # decoration: the numbers are the data
    assert "Eligible" in html or "eligible" in html


def test_a_stricter_draft_shows_who_loses_eligibility(client: TestClient, app: FastAPI, signed_in: str,
                                                      official: str, seeded: None) -> None:
    draft = SUMAO.replace(*SUMAO_STRICTER)
    assert draft != SUMAO
    response = client.post("/console/drafts?lang=en", data={"csrf_token": signed_in, "text": draft})
    assert response.status_code == 200, response.text
    html = response.text
    gained = int(re.search(r'id="gained-count">(\d+)<', html).group(1))
    lost = int(re.search(r'id="lost-count">(\d+)<', html).group(1))
    assert gained == 0 and lost > 0
    from app.engine import compile_rule
    from app.registry import service as registry_service

    ruleset = app.state.rules.current
    with app.state.session_factory() as session:
        impact = registry_service.impact(session, compile_rule(draft, "js-sumao-loan.yaml", tables=ruleset.tables),
                                         ruleset, as_of=date.today())
    assert lost == len(impact.lost)
    for company in impact.lost:
        assert company["name"] in html
    assert "The draft validates." in html
    assert "fails" in html and "expected eligible, got ineligible" in html  # its small-exporter examples
    event = last_event(app, official)
    assert event.action == "draft_evaluated"
    assert event.details["policy_id"] == "js-sumao-loan" and event.details["lost"] == lost
    assert event.details["gained"] == 0 and event.details["errors"] == 0
    # Nothing was published: the rule in force is unchanged.
    assert app.state.rules.current.rules["js-sumao-loan"].source_text == SUMAO


def test_a_looser_draft_uploaded_as_a_file_shows_who_gains(client: TestClient, signed_in: str,
                                                           seeded: None) -> None:
    draft = SUMAO.replace(*SUMAO_LOOSER)
    response = client.post("/console/drafts", data={"csrf_token": signed_in, "text": ""},
                           files={"file": ("js-sumao-loan.yaml", draft.encode(), "application/yaml")})
    assert response.status_code == 200, response.text
    assert int(re.search(r'id="lost-count">(\d+)<', response.text).group(1)) == 0
    assert "<code>js-sumao-loan.yaml</code>" in response.text


def test_a_broken_draft_shows_file_line_and_reason(client: TestClient, app: FastAPI, signed_in: str,
                                                   official: str) -> None:
    broken = SUMAO.replace("    basis: standard\n", "    basis: guess\n", 1).replace(
        "size_class in sme_size_classes", "size_class in sme_size_classe")
    response = client.post("/console/drafts?lang=en", data={"csrf_token": signed_in, "text": broken})
    assert response.status_code == 422
    rows = re.findall(r'<tr class="validation-error"><td><code>(.*?)</code></td><td class="num">(.*?)</td>'
                      r'<td>(.*?)</td></tr>', response.text, re.S)
    assert rows, response.text
    line = SUMAO.splitlines().index("    basis: standard") + 1
    assert any(path == "draft/js-sumao-loan.yaml" and number == str(line) and "basis" in reason
               for path, number, reason in rows), rows
    assert "does not validate" in response.text
    assert last_event(app, official).details["errors"] == len(rows)
    empty = client.post("/console/drafts?lang=zh", data={"csrf_token": signed_in, "text": "  "})
    assert empty.status_code == 422 and "请粘贴规则文本" in empty.text


def test_audit_log_lists_official_actions_newest_first(client: TestClient, app: FastAPI, signed_in: str,
                                                       official: str) -> None:
    client.post("/console/drafts", data={"csrf_token": signed_in, "text": "id: nothing-much\n"})
    html = client.get("/console/audit?lang=en").text
    assert html.index("<td>Draft rule evaluated</td>") < html.index("<td>Signed in</td>")
    assert official in html
    from app.console.audit import list_events

    with app.state.session_factory() as session:
        page = list_events(session, per_page=1)
        assert page.total >= 3 and page.items[0].action == "draft_evaluated"


def test_an_audit_row_is_never_changed(client: TestClient, app: FastAPI, official: str) -> None:
    """Nothing in the code updates or deletes audit rows, and the database refuses it outright."""
    from tests.console.conftest import sign_in_with

    sign_in_with(client, official, "a wrong password!")
    with app.state.session_factory() as session:
        before = [(e.id, e.recorded_at, e.username, e.action, e.details, e.ip)
                  for e in session.scalars(select(AuditEvent).where(AuditEvent.username == official).order_by(AuditEvent.id))]
    sign_in_with(client, official)  # more actions by the same official
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/drafts").text).group(1)
    client.post("/console/sign-out", data={"csrf_token": token})
    with app.state.session_factory() as session:
        after = [(e.id, e.recorded_at, e.username, e.action, e.details, e.ip)
                 for e in session.scalars(select(AuditEvent).where(AuditEvent.username == official).order_by(AuditEvent.id))]
    assert after[:len(before)] == before and len(after) == len(before) + 2
    for statement in ("UPDATE audit_event SET action = 'tampered' WHERE username = :u",
                      "DELETE FROM audit_event WHERE username = :u"):
        with app.state.session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(text(statement), {"u": official})
                session.flush()
            session.rollback()
    source = "\n".join(p.read_text() for p in (ROOT / "app").rglob("*.py"))
    assert not re.search(r"update\(AuditEvent|delete\(AuditEvent|AuditEvent\.__table__\.(update|delete)", source)


def test_every_assumption_of_the_catalogue_is_listed_on_one_page(client: TestClient, app: FastAPI, signed_in: str) -> None:
    html = client.get("/console/assumptions?lang=en").text
    assumed = [(rule, name, p) for rule in app.state.rules.current.rules.values()
               for name, p in rule.definition.parameters.items() if p.basis == "assumption"]
    assert assumed  # the catalogue keeps a few thresholds of its own (e.g. 苏贸贷's trade floor)
    for rule, name, _ in assumed:
        assert f"<code>{name}</code>" in html and f'href="/console/policies/{rule.id}"' in html
    assert f"{len(assumed)} in all" in html


def test_the_policy_list_tells_a_period_not_stated_from_an_expired_one(client: TestClient, app: FastAPI,
                                                                       signed_in: str) -> None:
    html = client.get("/console/policies?lang=zh").text
    assert "长期" not in html  # an end no source states is "not stated", never "open-ended"
    validity = [rule.definition.validity for rule in app.state.rules.current.rules.values()]
    # The catalogue has both kinds: periods with no stated end (Shenzhen), and ended ones (Jiangxi).
    assert any(v is None or v.to is None for v in validity)
    assert any(v is not None and v.to is not None and v.to < date.today() for v in validity)
    assert "截止日期未说明" in html and "已到期" in html


def test_the_audit_log_in_chinese_shows_no_raw_keys_or_python_values(client: TestClient, app: FastAPI,
                                                                     signed_in: str) -> None:
    decision_id = match(client, "审计测试有限公司")
    client.post(f"/console/decisions/{decision_id}/replay", data={"csrf_token": signed_in})
    html = client.get("/console/audit?lang=zh").text
    details = " ".join(re.findall(r'<dl class="details">(.*?)</dl>', html, re.S))
    assert "按原规则复现" in details and ">是<" in details
    for raw in ("decision_id", "reproduced", "decides_differently", ">True<", ">False<", "command line"):
        assert raw not in details, raw
