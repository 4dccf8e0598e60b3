"""POST /v1/match, the decision log and replay; plus what every response carries."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, make_settings
from tests.helpers import SUMAO_STRICTER, assert_problem

pytestmark = pytest.mark.usefixtures("client")

SUZHOU_EXPORTER = {"region_code": "320506", "industry_code": "C3911", "entity_type": "enterprise", "employees": 80,
                   "annual_revenue": 30000000, "export_revenue": 9000000, "activities": []}
AS_OF = "2023-06-30"


def match(client: TestClient, profile: dict[str, Any], as_of: str | None = AS_OF, **kwargs: Any) -> Any:
    body: dict[str, Any] = {"profile": profile}
    if as_of:
        body["as_of"] = as_of
    return client.post("/v1/match", json=body, **kwargs)


def test_match_answers_in_the_contract_shape(client, app) -> None:
    response = match(client, SUZHOU_EXPORTER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert {"decision_id", "ruleset", "derived", "results", "questions"} <= answer.keys()
    assert answer["ruleset"] == {"version": app.state.rules.current.version, "as_of": AS_OF}
    assert answer["derived"]["size_class"] == "small"
    assert answer["derived"]["export_share"] == pytest.approx(0.3)
    statuses = [r["status"] for r in answer["results"]]
    assert set(statuses) <= {"eligible", "ineligible", "needs_info"}
    assert statuses == sorted(statuses, key=["eligible", "needs_info", "ineligible"].index)
    for result in answer["results"]:
        assert {"policy_id", "status", "title", "criteria", "missing_fields", "rule_version"} <= result.keys()
        assert result["title"].keys() == {"zh", "en"}
        assert result["criteria"][0]["id"] == "region"
        for criterion in result["criteria"]:
            assert criterion["status"] in {"met", "not_met", "unknown"}
            assert criterion["explanation"].keys() == {"zh", "en"}
        assert (result["status"] == "needs_info") == bool(result["missing_fields"])
    sumao = next(r for r in answer["results"] if r["policy_id"] == "js-sumao-loan")
    assert sumao["status"] == "eligible"
    in_force = client.get("/v1/policies", params={"in_force_on": AS_OF, "limit": 200}).json()["total"]
    assert len(answer["results"]) == in_force


def test_match_defaults_as_of_to_today_in_china(client) -> None:
    from datetime import datetime

    from app.deps import CHINA

    answer = match(client, SUZHOU_EXPORTER, as_of=None).json()
    assert answer["ruleset"]["as_of"] == datetime.now(CHINA).date().isoformat()


def test_match_names_what_is_missing(client) -> None:
    answer = match(client, {"region_code": "320583"}).json()
    sumao = next(r for r in answer["results"] if r["policy_id"] == "js-sumao-loan")
    assert sumao["status"] == "needs_info"
    assert set(sumao["missing_fields"]) >= {"annual_revenue", "export_revenue"}
    assert answer["questions"] and {"field", "settles", "label", "prompt", "input"} == answer["questions"][0].keys()


@pytest.mark.parametrize(("profile", "loc"), [
    ({**SUZHOU_EXPORTER, "credit_code": "91440300MA5NAAWM2A"}, ["body", "profile", "credit_code"]),
    ({**SUZHOU_EXPORTER, "region_code": "329999"}, ["body", "profile", "region_code"]),
    ({**SUZHOU_EXPORTER, "export_revenue": 40000000}, ["body", "profile", "export_revenue"]),
    ({**SUZHOU_EXPORTER, "industry_code": "Z999"}, ["body", "profile", "industry_code"]),
    ({**SUZHOU_EXPORTER, "colour": "red"}, ["body", "profile", "colour"]),
    ({k: v for k, v in SUZHOU_EXPORTER.items() if k != "region_code"}, ["body", "profile", "region_code"]),
])
def test_match_rejects_an_invalid_profile_naming_the_field(client, profile, loc) -> None:
    body = assert_problem(match(client, profile), 422, "/problems/validation")
    assert loc in [e["loc"] for e in body["errors"]], body["errors"]
    assert ".".join(loc) in body["detail"]


def test_match_rejects_a_body_that_is_not_json(client) -> None:
    body = assert_problem(client.post("/v1/match", content=b"{not json",
                                      headers={"content-type": "application/json"}), 422)
    assert body["errors"][0]["loc"][0] == "body"
    assert_problem(client.post("/v1/match", json={"profile": SUZHOU_EXPORTER, "as_of": "yesterday"}), 422)


def test_match_is_open_but_rejects_a_bad_key(client) -> None:
    assert_problem(match(client, SUZHOU_EXPORTER, headers={"Authorization": "Bearer wrong"}), 401)


def test_decision_is_logged_and_readable(client) -> None:
    answer = match(client, {**SUZHOU_EXPORTER, "credit_code": "91440300MA5NAAWM2R"}).json()
    response = client.get(f"/v1/decisions/{answer['decision_id']}")
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["as_of"] == AS_OF
    assert decision["ruleset_version"] == answer["ruleset"]["version"]
    assert decision["profile"]["credit_code"] == "91440300MA5NAAWM2R"
    assert decision["answer"]["results"] == answer["results"]
    assert decision["rule_versions"] == {r["policy_id"]: r["rule_version"] for r in answer["results"]}


def test_a_clients_decision_is_only_readable_by_that_client(client, api_key) -> None:
    mine, other = api_key(name="mine"), api_key(name="other")
    decision_id = match(client, SUZHOU_EXPORTER, headers=mine).json()["decision_id"]
    assert client.get(f"/v1/decisions/{decision_id}", headers=mine).status_code == 200
    assert_problem(client.get(f"/v1/decisions/{decision_id}", headers=other), 404)
    assert_problem(client.get(f"/v1/decisions/{decision_id}"), 404)
    assert client.get(f"/v1/decisions/{decision_id}", headers=api_key("decisions:read")).status_code == 200


def test_unknown_decision_returns_404(client) -> None:
    assert_problem(client.get("/v1/decisions/0d2c1a3e-0000-4000-8000-000000000000"), 404,
                   "/problems/decision-not-found")
    assert_problem(client.post("/v1/decisions/nope/replay"), 404)


def test_replay_reproduces_a_decision_under_unchanged_rules(client, app) -> None:
    decision_id = match(client, SUZHOU_EXPORTER).json()["decision_id"]
    report = client.post(f"/v1/decisions/{decision_id}/replay").json()
    assert report["reproduced"] is True
    assert report["replay"] == {"reproduced": True, "differences": []}
    assert report["current"]["decides_differently"] is False
    assert report["current"]["changed_rules"] == []
    assert report["current"]["ruleset_version"] == app.state.rules.current.version


def _rules_with_higher_export_threshold(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "js-sumao-loan.yaml"
    text = path.read_text(encoding="utf-8")
    assert SUMAO_STRICTER[0] in text
    path.write_text(text.replace(*SUMAO_STRICTER, 1), encoding="utf-8")
    return rules


def test_replay_after_a_rule_changed_reproduces_and_shows_what_today_decides(client, database_url, tmp_path) -> None:
    from app.main import create_app

    stored = match(client, SUZHOU_EXPORTER).json()  # a small exporter: eligible as an SME, not as a micro firm
    assert next(r for r in stored["results"] if r["policy_id"] == "js-sumao-loan")["status"] == "eligible"
    changed = create_app(make_settings(database_url, rules_dir=_rules_with_higher_export_threshold(tmp_path)))
    with TestClient(changed) as restarted:
        assert restarted.get("/healthz").headers["huiqi-ruleset-version"] != stored["ruleset"]["version"]
        response = restarted.post(f"/v1/decisions/{stored['decision_id']}/replay")
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["reproduced"] is True, report["replay"]
        assert report["current"]["decides_differently"] is True
        assert report["current"]["changed_rules"] == ["js-sumao-loan"]
        [difference] = report["current"]["differences"]
        assert difference["policy_id"] == "js-sumao-loan"
        assert difference["stored"]["status"] == "eligible"
        assert difference["now"]["status"] == "ineligible"
        assert difference["stored"]["rule_version"] != difference["now"]["rule_version"]
        assert "status" in difference["changed"]
        # The catalogue keeps both versions of the rule, the new one current.
        versions = restarted.get("/v1/policies/js-sumao-loan").json()["versions"]
        assert [v["current"] for v in versions].count(True) == 1
        assert {difference["stored"]["rule_version"], difference["now"]["rule_version"]} <= {
            v["version"] for v in versions}


def test_replay_reports_a_decision_whose_answer_no_longer_reproduces(client, app) -> None:
    from app.db.models import Decision

    decision_id = match(client, SUZHOU_EXPORTER).json()["decision_id"]
    with app.state.session_factory() as session:  # tamper with the log: the stored answer said otherwise
        row = session.get(Decision, __import__("uuid").UUID(decision_id))
        results = [dict(r, status="ineligible") if r["policy_id"] == "js-sumao-loan" else r
                   for r in row.results["results"]]
        row.results = {**row.results, "results": results}
        session.commit()
    report = client.post(f"/v1/decisions/{decision_id}/replay").json()
    assert report["reproduced"] is False
    assert [d["policy_id"] for d in report["replay"]["differences"]] == ["js-sumao-loan"]


def test_every_response_carries_the_ruleset_version_and_a_request_id(client, app) -> None:
    version = app.state.rules.current.version
    for response in (client.get("/healthz"), client.get("/nope"), match(client, {"region_code": "x"}),
                     client.get("/v1/policies")):
        assert response.headers["huiqi-ruleset-version"] == version
        assert len(response.headers["x-request-id"]) >= 8
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"


def test_a_request_may_require_the_ruleset_version_it_answers_with(client, app) -> None:
    version = app.state.rules.current.version
    same = match(client, SUZHOU_EXPORTER, headers={"Huiqi-Ruleset-Version": version})
    assert same.status_code == 200 and same.json()["ruleset"]["version"] == version
    other = match(client, SUZHOU_EXPORTER, headers={"Huiqi-Ruleset-Version": "0123456789abcdef"})
    body = assert_problem(other, 412, "/problems/ruleset-version-mismatch")
    assert body["required_version"] == "0123456789abcdef" and body["serving_version"] == version
    assert other.headers["huiqi-ruleset-version"] == version and body["request_id"] == other.headers["x-request-id"]
    assert client.get("/v1/policies", headers={"Huiqi-Ruleset-Version": "0123456789abcdef"}).status_code == 412
    # Pages are not versioned API answers: the header does not apply to them.
    assert client.get("/healthz", headers={"Huiqi-Ruleset-Version": "0123456789abcdef"}).status_code == 200


def test_a_reload_during_a_request_does_not_change_the_rule_set_that_answers_it(client, app, monkeypatch) -> None:
    from app.engine import load_ruleset
    from app.matching import service

    serving, reloaded = app.state.rules.current, load_ruleset(ROOT / "rules")
    reloaded.version = "0123456789abcdef"  # another rule set, as a reload would swap in
    decide = service.match

    def reload_meanwhile(ruleset, profile, **options):  # type: ignore[no-untyped-def]
        app.state.rules.current = reloaded
        return decide(ruleset, profile, **options)

    monkeypatch.setattr(service, "match", reload_meanwhile)
    try:
        response = match(client, SUZHOU_EXPORTER, headers={"Huiqi-Ruleset-Version": serving.version})
    finally:
        app.state.rules.current = serving
    assert response.status_code == 200
    assert response.json()["ruleset"]["version"] == response.headers["huiqi-ruleset-version"] == serving.version


def test_readyz_reports_the_ruleset(client, app) -> None:
    body = client.get("/readyz").json()
    assert body == {"status": "ready", "ruleset_version": app.state.rules.current.version,
                    "rules": len(app.state.rules.current.rules)}


def test_unknown_path_and_wrong_method_are_problems(client) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404)
    response = client.get("/v1/match")
    assert_problem(response, 405)
    assert "POST" in response.headers["allow"]


def test_an_unexpected_error_is_a_500_problem_with_the_request_id_and_no_trace(database_url) -> None:
    from app.main import create_app

    broken = create_app(make_settings(database_url))

    @broken.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(broken) as c:
        response = c.get("/v1/boom", headers={"X-Request-ID": "req-42"})
    body = assert_problem(response, 500)
    assert body["request_id"] == "req-42"
    assert "secret internals" not in response.text


def test_each_request_is_logged_as_one_line_without_credit_codes_or_keys(client, api_key) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("huiqi.request")
    logger.addHandler(handler)
    headers = api_key()
    try:
        answer = match(client, {**SUZHOU_EXPORTER, "credit_code": "91440300MA5NAAWM2R"}, headers=headers).json()
    finally:
        logger.removeHandler(handler)
    [record] = records
    from app.logs import JsonLineFormatter

    line = JsonLineFormatter().format(record)
    assert record.fields["decision_id"] == answer["decision_id"]  # type: ignore[attr-defined]
    assert {"method", "path", "status", "duration_ms", "request_id"} <= record.fields.keys()  # type: ignore[attr-defined]
    assert "91440300MA5NAAWM2R" not in line
    assert headers["Authorization"].removeprefix("Bearer ") not in line


def test_anonymous_callers_are_rate_limited(database_url) -> None:
    from app.main import create_app

    limited = create_app(make_settings(database_url, rate_limit=3))
    with TestClient(limited) as c:
        for _ in range(3):
            assert c.get("/v1/policies").status_code == 200
        response = c.post("/v1/match", json={"profile": SUZHOU_EXPORTER})
        body = assert_problem(response, 429, "/problems/rate-limited")
        assert int(response.headers["retry-after"]) >= 1
        assert body["retry_after"] == int(response.headers["retry-after"])
        assert c.get("/healthz").status_code == 200  # operations endpoints are not limited


def test_rate_limit_is_per_client(database_url) -> None:
    from app.clients.service import create_client
    from app.main import create_app

    limited = create_app(make_settings(database_url, rate_limit=2))
    with TestClient(limited) as c:
        with limited.state.session_factory() as session:
            _, key = create_client(session, name="limited", scopes=[])
            session.commit()
        for _ in range(2):
            assert c.get("/v1/policies").status_code == 200
        assert c.get("/v1/policies").status_code == 429
        assert c.get("/v1/policies", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_startup_refuses_a_broken_rule_set_naming_file_and_reason(database_url, tmp_path) -> None:
    from app.main import StartupError, create_app

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "js-broken.yaml").write_text("id: js-broken\ntitle: {zh: 坏, en: broken}\nmystery_key: 1\n",
                                          encoding="utf-8")
    with pytest.raises(StartupError) as raised, TestClient(create_app(make_settings(database_url, rules_dir=rules))):
        pass
    message = str(raised.value)
    assert "js-broken.yaml" in message
    assert "mystery_key" in message


def test_startup_refuses_rules_other_than_the_pinned_version(database_url) -> None:
    from app.main import StartupError, create_app

    settings = make_settings(database_url, expected_ruleset_version="0123456789abcdef")
    with pytest.raises(StartupError) as raised, TestClient(create_app(settings)):
        pass
    assert "APP_EXPECTED_RULESET_VERSION is 0123456789abcdef" in str(raised.value)


def test_openapi_declares_the_match_body_and_answer(client) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/match"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/MatchRequest")
    assert "MatchRequest" in document["components"]["schemas"]
    assert "Profile" in document["components"]["schemas"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/MatchAnswer")
    assert {"name": "Huiqi-Ruleset-Version", "in": "header"}.items() <= operation["parameters"][0].items()
    assert "412" in operation["responses"]


def test_scope_local_leaves_out_other_regions_measures_and_lang_sends_one_language(client) -> None:
    profile = {"region_code": "440305", "industry_code": "C3911"}
    everything = client.post("/v1/match", json={"profile": profile}).json()
    local = client.post("/v1/match", json={"profile": profile, "scope": "local", "lang": "zh"}).json()
    outside = {r["policy_id"] for r in everything["results"]
               if r["criteria"][0]["id"] == "region" and r["criteria"][0]["status"] == "not_met"}
    assert outside and not outside & {r["policy_id"] for r in local["results"]}
    assert {r["policy_id"] for r in local["results"]} == {r["policy_id"] for r in everything["results"]} - outside
    assert all(set(r["title"]) == {"zh"} and all(set(c["explanation"]) == {"zh"} for c in r["criteria"])
               for r in local["results"])
    assert local["scope"] == "local" and local["lang"] == "zh"
    # the decision as logged is the answer as sent, and replays the same way
    replay = client.post(f"/v1/decisions/{local['decision_id']}/replay").json()
    assert replay["reproduced"] is True and replay["current"]["decides_differently"] is False


def test_a_coarse_region_is_asked_one_level_down_with_its_options(client) -> None:
    answer = client.post("/v1/match", json={"profile": {"region_code": "320000"}, "scope": "local"}).json()
    kunshan = next(r for r in answer["results"] if r["policy_id"] == "js-kunshan-import-zone")
    assert kunshan["status"] == "needs_info" and "region_code" in kunshan["missing_fields"]
    assert kunshan["criteria"][0] == {**kunshan["criteria"][0], "id": "region", "status": "unknown"}
    question = next(q for q in answer["questions"] if q["field"] == "region_code")
    assert question["input"]["type"] == "region" and question["input"]["parent"] == "320000"
    assert {"value": "320500", "label": {"zh": "江苏省苏州市", "en": "Suzhou, Jiangsu"}} in question["input"]["options"]
    assert question["label"] == {"zh": "注册地行政区划", "en": "Registered location"}


def test_every_question_says_how_to_ask_it(client) -> None:
    answer = client.post("/v1/match", json={"profile": {"region_code": "440305"}}).json()
    kinds = {q["field"]: q["input"]["type"] for q in answer["questions"]}
    assert kinds.get("industry_code") == "industry"
    assert all(q["prompt"]["zh"] and q["prompt"]["en"] for q in answer["questions"])
    for question in answer["questions"]:
        if question["input"]["type"] in ("enum", "list"):
            assert question["input"]["options"] and all(set(o["label"]) == {"zh", "en"} for o in question["input"]["options"])
        if question["input"]["type"] in ("integer", "number"):
            assert question["input"]["unit"] in ("persons", "count", "yuan")


def test_the_openapi_document_shows_match_examples_decided_by_the_served_rules(client, app) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/match"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert {"full", "local", "coarse"} <= examples.keys()
    for example in examples.values():  # each is a valid request
        assert client.post("/v1/match", json=example["value"]).status_code == 200
    answer = operation["responses"]["200"]["content"]["application/json"]["example"]
    assert answer["ruleset"]["version"] == app.state.rules.current.version
    assert answer["results"] and {"kind", "benefit", "how_to_apply", "validity", "document"} <= answer["results"][0].keys()
