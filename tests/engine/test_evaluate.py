"""Evaluation: statuses, criterion explanations with the company's figures, gaps, missing fields,
dates in force, ordering, the contract's answer and the next question."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.engine import (
    RESULT_TEXT_FIELDS,
    Profile,
    build_ruleset,
    compile_rule,
    evaluate,
    evaluate_rule,
    load_ruleset,
    next_questions,
)
from app.engine.credit_code import credit_check_character
from app.engine.errors import ProfileDateError
from app.engine.ruleset import in_language
from tests.helpers import AGE_RULE, RULE_HEADER, examples, sent
from tests.profiles import catalogue, coarser, profiles

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def ruleset():
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        rules = Path(directory)
        for path in FIXTURES.glob("*.yaml"):
            shutil.copy(path, rules / path.name)
        (rules / "sources").mkdir()
        shutil.copy(FIXTURES.parents[2] / "rules" / "sources" / "source-article.txt", rules / "sources")
        yield load_ruleset(rules)


IN_FORCE = date(2023, 6, 30)
SHENZHEN_SME = {"region_code": "440305", "industry_code": "C3911", "employees": 80,
                "annual_revenue": 100_000_000, "main_business_revenue": 100_000_000}


def test_eligible_when_every_criterion_is_met(ruleset) -> None:
    result = evaluate(ruleset, {**SHENZHEN_SME, "rd_expense": 3_000_000}, as_of=IN_FORCE).result("rd-grant")
    assert result.status == "eligible"
    assert [(c.id, c.status) for c in result.criteria] == [("region", "met"), ("rd-intensity", "met"), ("sme", "met")]
    assert result.criteria[1].explanation == {"zh": "研发强度3%，达到3%", "en": "R&D intensity 3% meets the 3% required"}


def test_not_met_explains_with_the_company_figures_and_the_gap(ruleset) -> None:
    result = evaluate(ruleset, {**SHENZHEN_SME, "rd_expense": 2_400_000}, as_of=IN_FORCE).result("rd-grant")
    assert result.status == "ineligible"
    criterion = result.criteria[1]
    assert criterion.explanation["en"] == (
        "R&D intensity 2.4% is below the 3% required by 国科发火〔2016〕32号 第十一条(五)")
    (gap,) = criterion.gaps
    assert gap["required"] == 0.03 and gap["field"] == "rd_expense" and gap["field_required"] == 3_000_000
    assert (gap["fact"], gap["op"], gap["actual"], gap["field_actual"]) == ("rd_intensity", ">=", 0.024, 2_400_000)
    assert gap["text"]["en"] == "needs R&D intensity ≥ 3%; has 2.4% (that is R&D expense ≥ 3,000,000 yuan)"
    assert gap["text"]["zh"] == "需要研发费用占营业收入比例≥3%；目前为2.4%（即研发费用≥300万元）"


def test_unknown_fields_make_needs_info_and_are_named(ruleset) -> None:
    decision = evaluate(ruleset, {"region_code": "440305", "industry_code": "C3911", "employees": 80}, as_of=IN_FORCE)
    result = decision.result("rd-grant")
    assert result.status == "needs_info"
    assert result.missing_fields == ("annual_revenue", "rd_expense")
    assert result.criteria[1].explanation == {"zh": "研发强度未知，缺少研发费用、营业收入",
                                              "en": "R&D intensity unknown: missing R&D expense, Annual revenue"}
    assert "annual_revenue" not in result.criteria[2].missing_fields or result.criteria[2].status == "unknown"


def test_one_not_met_criterion_makes_ineligible_even_with_unknowns(ruleset) -> None:
    profile = {"region_code": "440305", "industry_code": "C3911", "employees": 2000, "annual_revenue": 5e8,
               "main_business_revenue": 5e8}
    result = evaluate(ruleset, profile, as_of=IN_FORCE).result("rd-grant")
    assert result.status == "ineligible" and result.missing_fields == ()


def test_out_of_region_is_ineligible_on_region_alone(ruleset) -> None:
    result = evaluate(ruleset, {"region_code": "320583"}, as_of=IN_FORCE).result("rd-grant")
    assert result.status == "ineligible"
    assert [(c.id, c.status) for c in result.criteria] == [("region", "not_met")]
    assert result.criteria[0].explanation["zh"] == "注册地江苏省苏州市昆山市不在本政策适用地区（广东省深圳市）内。"


def test_a_region_criterion_kept_for_a_place_is_never_given_for_another_place_or_language(ruleset) -> None:
    kunshan, suzhou = {"region_code": "320583"}, {"region_code": "320505"}
    first = sent(evaluate(ruleset, kunshan, as_of=IN_FORCE))["results"]
    again = sent(evaluate(ruleset, kunshan, as_of=IN_FORCE))["results"]
    elsewhere = sent(evaluate(ruleset, suzhou, as_of=IN_FORCE))["results"]
    in_english = sent(evaluate(ruleset, kunshan, as_of=IN_FORCE, languages=("en",)))["results"]
    assert first == again
    assert "昆山市" in first[0]["criteria"][0]["explanation"]["zh"]
    assert "昆山市" not in elsewhere[0]["criteria"][0]["explanation"]["zh"]
    assert in_english[0]["criteria"][0]["explanation"] == {"en": first[0]["criteria"][0]["explanation"]["en"]}


def test_only_rules_in_force_on_the_date_are_answered(ruleset) -> None:
    assert "rd-grant" in {r.policy_id for r in evaluate(ruleset, SHENZHEN_SME, as_of=date(2024, 12, 31)).results}
    assert "rd-grant" not in {r.policy_id for r in evaluate(ruleset, SHENZHEN_SME, as_of=date(2025, 1, 1)).results}
    assert "rd-grant" not in {r.policy_id for r in evaluate(ruleset, SHENZHEN_SME, as_of=date(2021, 12, 31)).results}


def test_results_come_eligible_first_then_needs_info_then_ineligible(ruleset) -> None:
    profile = {"region_code": "140105", "activities": ["car_dealer", "voucher_programme"]}
    statuses = [r.status for r in evaluate(ruleset, profile, as_of=IN_FORCE).results]
    assert statuses == ["eligible", "ineligible"]
    statuses = [r.status for r in evaluate(ruleset, {"region_code": "140105"}, as_of=IN_FORCE).results]
    assert statuses == ["needs_info", "ineligible"]


def test_the_answer_has_the_contract_shape(ruleset) -> None:
    answer = sent(evaluate(ruleset, {**SHENZHEN_SME, "export_revenue": 35_000_000}, as_of=IN_FORCE))
    assert answer["ruleset"] == {"version": ruleset.version, "as_of": "2023-06-30"}
    assert answer["derived"]["size_class"] == "small" and answer["derived"]["export_share"] == 0.35
    first = answer["results"][0]
    assert set(first) == {"policy_id", "status", "title", "criteria", "missing_fields", "rule_version",
                          "kind", "benefit", "how_to_apply", "validity", "document", "assumptions", "already"}
    assert set(first["criteria"][0]) >= {"id", "status", "explanation"}
    assert first["rule_version"] == ruleset.rules[first["policy_id"]].version
    validity = {result["policy_id"]: result["validity"] for result in answer["results"]}
    assert validity == {"rd-grant": {"from": "2022-01-01", "to": "2024-12-31", "stated": False},
                        "dealer": {"from": None, "to": None, "stated": False}}


def test_an_entity_type_that_contradicts_the_credit_code_is_refused_on_the_field() -> None:
    individual = "92440300" + "MA5DC6QX" + "0"  # category 2: an individual business
    individual += credit_check_character(individual)
    with pytest.raises(ValidationError) as caught:
        Profile.model_validate({"region_code": "440305", "credit_code": individual, "entity_type": "enterprise"})
    assert [error["loc"] for error in caught.value.errors()] == [("entity_type",)]
    assert Profile.model_validate({"region_code": "440305", "credit_code": individual}).entity_type is None


def test_a_profile_is_validated_field_by_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Profile.model_validate({"region_code": "999999", "credit_code": "91350203M0001QAY9B",
                                "annual_revenue": 10, "export_revenue": 20, "employees": -1})
    fields = {error["loc"][0] for error in caught.value.errors()}
    assert fields == {"region_code", "credit_code", "export_revenue", "employees"}


def test_next_question_prefers_the_field_that_settles_most(ruleset) -> None:
    decision = evaluate(ruleset, {"region_code": "440305", "industry_code": "C3911", "employees": 80,
                                  "annual_revenue": 100_000_000}, as_of=IN_FORCE)
    assert [(q.field, q.settles) for q in next_questions(decision)] == [("rd_expense", 1)]


BANDED = RULE_HEADER.replace("RULE_ID", "banded") + """\
benefit: {kind: subsidy, summary: {zh: 测试, en: test}}
parameters:
  small_max: {value: 50000000, unit: yuan, basis: standard, label: {zh: 小, en: small}, citation: {zh: 测试, en: test}}
  large_min: {value: 200000000, unit: yuan, basis: standard, label: {zh: 大, en: large}, citation: {zh: 测试, en: test}}
  small_rd: {value: 0.05, unit: ratio, basis: standard, label: {zh: 小, en: small}, citation: {zh: 测试, en: test}}
  mid_rd: {value: 0.04, unit: ratio, basis: standard, label: {zh: 中, en: mid}, citation: {zh: 测试, en: test}}
  large_rd: {value: 0.03, unit: ratio, basis: standard, label: {zh: 大, en: large}, citation: {zh: 测试, en: test}}
criteria:
  - id: rd
    when: >-
      any(annual_revenue <= small_max and rd_intensity >= small_rd,
          annual_revenue > small_max and annual_revenue <= large_min and rd_intensity >= mid_rd,
          annual_revenue > large_min and rd_intensity >= large_rd)
    explain: {met: {zh: 是, en: "yes"}, not_met: {zh: 否, en: "no"}, unknown: {zh: 未知, en: unknown}}
"""


def banded_with(rule_id: str, when: str, extra: str = "") -> Any:
    """The banded rule under another id, with one more criterion of that id before its own."""
    criterion = (f"  - id: {rule_id}\n    when: {when}\n{extra}"
                 "    explain: {met: {zh: 是, en: \"yes\"}, not_met: {zh: 否, en: \"no\"},\n"
                 "              unknown: {zh: \"缺少{missing}\", en: \"missing {missing}\"}}\n")
    text = BANDED.replace("id: banded", f"id: {rule_id}").replace("  - id: rd\n", criterion + "  - id: rd\n")
    return build_ruleset({f"{rule_id}.yaml": text})


def test_a_gap_is_the_cheapest_minimum_to_reach_never_a_maximum() -> None:
    ruleset = build_ruleset({"banded.yaml": BANDED})
    rule = ruleset.rules["banded"]
    profile = Profile.model_validate({"region_code": "440305", "annual_revenue": 100_000_000, "rd_expense": 3_000_000})
    (criterion,) = evaluate_rule(ruleset, rule, profile, as_of=IN_FORCE).criteria[1:]
    # In the middle band: raising R&D intensity to 4% is what it takes, not "revenue ≤ 50,000,000".
    assert [(gap["fact"], gap["required"]) for gap in criterion.gaps] == [("rd_intensity", 0.04)]
    assert criterion.to_dict()["gaps"] == list(criterion.gaps)  # as the contract's answer carries them


@pytest.mark.parametrize(("when", "profile", "gaps"), [
    # Just under the top band: passing 200,000,000 (5% more) is cheaper than 4% R&D intensity (a third more).
    ("rd", {"annual_revenue": 190_000_000, "rd_expense": 5_700_000}, [("annual_revenue", ">", 200_000_000)]),
    # One alternative is itself a conjunction: its cost is the sum of its parts, no more.
    ("any(rd_intensity >= large_rd, all(annual_revenue > small_max))",
     {"annual_revenue": 40_000_000, "rd_expense": 800_000}, [("annual_revenue", ">", 50_000_000)]),
    # Staying under a maximum is no "what it would take", however cheap: the minimum is told.
    ("any(annual_revenue <= small_max, rd_intensity >= large_rd)",
     {"annual_revenue": 60_000_000, "rd_expense": 1_200_000}, [("rd_intensity", ">=", 0.03)]),
])
def test_the_cheapest_alternative_is_the_gap(when: str, profile: dict[str, Any], gaps: list[tuple]) -> None:
    ruleset = build_ruleset({"banded.yaml": BANDED}) if when == "rd" else banded_with("alternatives", when)
    rule = next(iter(ruleset.rules.values()))
    result = evaluate_rule(ruleset, rule, Profile.model_validate({"region_code": "440305", **profile}), as_of=IN_FORCE)
    assert [(gap["fact"], gap["op"], gap["required"]) for gap in result.criteria[1].gaps] == gaps


def test_a_criterion_no_profile_field_could_settle_is_answered_not_met_and_says_why() -> None:
    # Finance (J) has no designated-size line: "above designated size" stays unknown whatever is
    # entered, so the rule answers definitely instead of asking for nothing (issue: sound answers).
    ruleset = banded_with("above-size", "above_designated_size")
    profile = Profile.model_validate({"region_code": "440305", "industry_code": "J6635", "employees": 1266,
                                      "annual_revenue": 600_000_000, "main_business_revenue": 492_000_000})
    result = evaluate_rule(ruleset, ruleset.rules["above-size"], profile, as_of=IN_FORCE)
    criterion = result.criteria[1]
    assert criterion.status == "not_met" and criterion.missing_fields == ()
    # The words are those of test_a_size_line_no_figure_can_show_is_not_met_and_says_why.
    assert "没有规模以上" in criterion.explanation["zh"] and "no above-designated-size" in criterion.explanation["en"]
    assert result.status == "ineligible"
    # Without an industry the sector is not known yet: that is a question, not an answer.
    unknown_sector = Profile.model_validate({"region_code": "440305"})
    assert evaluate_rule(ruleset, ruleset.rules["above-size"], unknown_sector, as_of=IN_FORCE).status == "needs_info"


@pytest.mark.parametrize(("when", "revenue", "status", "missing"), [
    # Unknown revenue keeps these open whatever the 规上 status would be: ask for it.
    ("any(above_designated_size, annual_revenue > large_min)", None, "unknown", ("annual_revenue",)),
    ("all(above_designated_size, annual_revenue > large_min)", None, "unknown", ("annual_revenue",)),
    # With revenue known, 规上 status alone decides: a finance firm's is beyond any profile.
    ("any(above_designated_size, annual_revenue > large_min)", 600_000_000, "met", ()),
    ("any(above_designated_size, annual_revenue > large_min)", 100_000_000, "not_met", ()),
    ("all(above_designated_size, annual_revenue > large_min)", 600_000_000, "not_met", ()),
])
def test_a_sector_bound_fact_is_answered_not_met_only_where_it_alone_keeps_a_criterion_open(
        when: str, revenue: float | None, status: str, missing: tuple[str, ...]) -> None:
    ruleset = banded_with("mixed", when)
    profile = Profile.model_validate({"region_code": "440305", "industry_code": "J6635",
                                      **({"annual_revenue": revenue} if revenue else {})})
    criterion = evaluate_rule(ruleset, ruleset.rules["mixed"], profile, as_of=IN_FORCE).criteria[1]
    assert (criterion.status, criterion.missing_fields) == (status, missing)


LABELS = RULE_HEADER.replace("RULE_ID", "labels") + """\
benefit: {kind: service, summary: {zh: 测试, en: test}}
criteria:
  - id: labels
    when: entity_type == "enterprise"
    explain:
      met:
        zh: "{entity_type}；{listing_status}；{certifications}；{clusters}；{activities}；{size_class}；{industry_group}；{urban_district}；{industry}"
        en: "{entity_type} | {listing_status} | {certifications} | {clusters} | {activities} | {size_class} | {industry_group} | {urban_district} | {industry}"
      not_met: {zh: 否, en: "no"}
      unknown: {zh: 未知, en: unknown}
"""


@pytest.mark.parametrize(("profile", "zh", "en"), [
    ({"industry_code": "C3911", "listing_status": "preparing", "certifications": ["high_tech_enterprise", "tech_sme"],
      "clusters": ["semiconductors_ic"], "activities": ["importer", "car_dealer"], "employees": 500},
     ("企业；筹备上市；高新技术企业、科技型中小企业；半导体与集成电路；进口贸易、汽车销售；微型企业、小型企业或中型企业；工业；是；"
     "C3911 计算机整机制造"),
     ("Enterprise | Preparing to list | High-tech enterprise, Technology-based SME | Semiconductors and integrated circuits"
     " | Importer, Car dealer | Micro, Small or Medium | Industry | yes | C3911 Manufacture of complete computers")),
    ({"certifications": []}, "企业；未知；无；未知；未知；未知；未知；是；未知",
     "Enterprise | unknown | none | unknown | unknown | unknown | unknown | yes | unknown"),
])
def test_an_explanation_quotes_each_value_by_its_label_in_the_readers_language(profile: dict, zh: str, en: str) -> None:
    ruleset = build_ruleset({"labels.yaml": LABELS})
    company = Profile.model_validate({"region_code": "440305", "entity_type": "enterprise", **profile})
    result = evaluate_rule(ruleset, ruleset.rules["labels"], company, as_of=TODAY)
    assert result.criteria[1].explanation == {"zh": zh, "en": en}


def test_a_firm_that_already_has_what_the_measure_leads_to_is_told_so() -> None:
    """Already 规上 is good news for a 小升规 measure, not a refusal."""
    ruleset = banded_with("below-line", "not above_designated_size", "    already_if_not_met: true\n")
    above = Profile.model_validate({"region_code": "440305", "industry_code": "C3911", "main_business_revenue": 30_000_000,
                                    "annual_revenue": 30_000_000, "rd_expense": 3_000_000})
    result = evaluate_rule(ruleset, ruleset.rules["below-line"], above, as_of=IN_FORCE)
    assert result.status == "ineligible" and result.already
    assert sent(result)["already"] is True and sent(result)["criteria"][1]["already"] is True
    # Failing another criterion too is a plain refusal.
    weak = above.model_copy(update={"rd_expense": 10_000})
    assert not evaluate_rule(ruleset, ruleset.rules["below-line"], weak, as_of=IN_FORCE).already


# The answer's words, on the catalogue: what a business reads under each criterion.
TODAY = date(2026, 11, 28)


def criterion_of(profile: dict[str, Any], policy_id: str, criterion_id: str):  # type: ignore[no-untyped-def]
    result = evaluate(catalogue(), profile, as_of=TODAY).result(policy_id)
    return next(criterion for criterion in result.criteria if criterion.id == criterion_id)


@pytest.mark.parametrize(("region_code", "status", "zh", "en"), [
    ("440305", "met", "注册地广东省深圳市南山区属于本政策适用地区（广东省深圳市）。",
     "Registered in Nanshan District, Shenzhen, Guangdong, within the measure's region (Shenzhen, Guangdong)."),
    ("440000", "unknown", "注册地只知道在广东省，本政策只适用于其中的广东省深圳市：请补充下一级行政区划。",
     ("Registered somewhere in Guangdong; the measure covers only Shenzhen, Guangdong there: please give the next "
     "level down (city or district).")),
    ("320583", "not_met", "注册地江苏省苏州市昆山市不在本政策适用地区（广东省深圳市）内。",
     "Registered in Kunshan, Suzhou, Jiangsu, outside the measure's region (Shenzhen, Guangdong)."),
])
def test_the_region_criterion_says_where_the_company_is_and_where_the_measure_applies(
        region_code: str, status: str, zh: str, en: str) -> None:
    region = criterion_of({"region_code": region_code}, "sz-unicorn", "region")
    assert (region.status, region.explanation) == (status, {"zh": zh, "en": en})
    assert region.missing_fields == (("region_code",) if status == "unknown" else ())


def test_a_gap_names_the_figure_that_would_meet_the_bound() -> None:
    profile = {"region_code": "440305", "entity_type": "enterprise", "founded_on": date(2020, 1, 1),
               "listing_status": "unlisted", "valuation": 5_000_000_000}
    (gap,) = criterion_of(profile, "sz-unicorn", "high-valuation").gaps
    assert gap == {"fact": "valuation", "op": ">=", "required": 7_000_000_000, "actual": 5_000_000_000,
                   "text": {"zh": "需要估值≥70亿元；目前为50亿元",  # a label inside an English sentence is lower case
                            "en": "needs valuation ≥ 7,000,000,000 yuan; has 5,000,000,000 yuan"}}



def test_a_ratio_gap_names_the_staff_it_takes() -> None:
    # "Share of R&D staff" reads in lower case inside the sentence; "R&D staff" keeps its acronym.
    (gap,) = criterion_of({"region_code": "440305", "employees": 100, "rd_staff": 5},
                          "sz-high-tech-cultivation", "tech-staff-share").gaps
    assert gap == {"fact": "rd_staff_share", "op": ">=", "required": 0.1, "actual": 0.05, "field": "rd_staff",
                   "field_required": 10, "field_actual": 5,
                   "text": {"zh": "需要研发人员占比≥10%；目前为5%（即研发人员数≥10人）",
                            "en": "needs share of R&D staff ≥ 10%; has 5% (that is R&D staff ≥ 10 people)"}}
    # 5.7 people needed: told as whole people.
    (gap,) = criterion_of({"region_code": "440305", "employees": 57, "rd_staff": 3},
                          "sz-high-tech-cultivation", "tech-staff-share").gaps
    assert gap["text"] == {"zh": "需要研发人员占比≥10%；目前为5.26%（即研发人员数≥6人）",
                           "en": "needs share of R&D staff ≥ 10%; has 5.26% (that is R&D staff ≥ 6 people)"}

@pytest.mark.parametrize(("when", "profile", "missing"), [
    ("export_revenue > import_value", {"export_revenue": 5_000_000}, ("import_value",)),  # the right-hand figure
    ("export_revenue > import_value", {"import_value": 5_000_000}, ("export_revenue",)),
    # The sector's line is known (manufacturing): only the revenue is asked, not what would settle 规上 status.
    ("annual_revenue >= designated_size_line", {"industry_code": "C3911"}, ("annual_revenue",)),
])
def test_an_unknown_comparison_of_two_figures_asks_for_the_unknown_one(when: str, profile: dict[str, Any],
                                                                       missing: tuple[str, ...]) -> None:
    ruleset = banded_with("figures", when)
    company = Profile.model_validate({"region_code": "440305", **profile})
    criterion = evaluate_rule(ruleset, ruleset.rules["figures"], company, as_of=IN_FORCE).criteria[1]
    assert (criterion.status, criterion.missing_fields) == ("unknown", missing)


def test_a_share_gap_names_the_figure_it_takes_in_lower_case_inside_the_sentence() -> None:
    ruleset = banded_with("exporter", "export_share >= small_rd")  # a 5% bound
    profile = Profile.model_validate({"region_code": "440305", "annual_revenue": 100_000_000, "export_revenue": 2_000_000})
    (gap,) = evaluate_rule(ruleset, ruleset.rules["exporter"], profile, as_of=IN_FORCE).criteria[1].gaps
    assert gap["text"] == {"zh": "需要出口额占营业收入比例≥5%；目前为2%（即出口额≥500万元）",
                           "en": "needs export share of revenue ≥ 5%; has 2% (that is export sales ≥ 5,000,000 yuan)"}


@pytest.mark.parametrize(("industry", "zh", "en"), [
    ("E4710", "本行业按有资质的建筑业企业的口径纳入规上统计，不看营业收入，无法据所填信息判断，按不符合处理；如已纳入统计，请向当地统计部门确认。",
     ("This sector counts as above designated size by another measure than revenue (qualified construction "
     "enterprise), which no figure here can show: treated as not met. A firm already in the statistics can "
     "confirm it with the local statistics bureau.")),
    ("J6621", "本行业没有规模以上（限额以上）统计标准，无法据企业信息认定为规上企业，按不符合处理。",
     ("This sector has no above-designated-size (above-quota) statistical line, so no figure of the company "
     "can make it one: treated as not met.")),
])
def test_a_size_line_no_figure_can_show_is_not_met_and_says_why(industry: str, zh: str, en: str) -> None:
    profile = {"region_code": "440305", "industry_code": industry, "entity_type": "enterprise"}
    below = criterion_of(profile, "sz-xiao-sheng-gui", "below-designated-size")
    assert (below.status, below.explanation, below.gaps) == ("not_met", {"zh": zh, "en": en}, ())


def test_a_company_is_not_evaluated_before_it_was_founded() -> None:
    with pytest.raises(ProfileDateError) as caught:
        evaluate(catalogue(), {"region_code": "440305", "founded_on": date(2027, 1, 1)}, as_of=TODAY)
    assert (caught.value.field, str(caught.value)) == (
        "founded_on", "founded_on: the company was founded on 2027-01-01, after the evaluation date 2026-11-28")
    # The reason alone is what the API answers under `founded_on`.
    assert caught.value.reason == "the company was founded on 2027-01-01, after the evaluation date 2026-11-28"


def test_a_company_known_only_to_the_province_is_asked_for_its_district_first() -> None:
    """Otherwise a unicorn: only the region keeps the answer open, the question that settles it."""
    profile = {"region_code": "440000", "entity_type": "enterprise", "founded_on": date(2024, 1, 1),
               "listing_status": "unlisted", "valuation": 10_000_000_000}
    decision = evaluate(catalogue(), profile, as_of=TODAY)
    answer = sent(decision.result("sz-unicorn"))
    assert (answer["status"], answer["missing_fields"]) == ("needs_info", ["region_code"])
    assert [(c["id"], c["status"]) for c in answer["criteria"]] == [
        ("region", "unknown"), ("enterprise", "met"), ("young", "met"), ("unlisted", "met"), ("high-valuation", "met")]
    assert (answer["assumptions"], answer["already"]) == (["high-valuation"], False)
    assert answer["criteria"][0]["explanation"]["en"] == (
        "Registered somewhere in Guangdong; the measure covers only Shenzhen, Guangdong there: please give the "
        "next level down (city or district).")
    first = next_questions(decision)[0]
    assert (first.field, first.settles) == ("region_code", 1) and "sz-unicorn" in first.policy_ids


UNDERIVED = dict.fromkeys(("size_class", "industry_group", "above_designated_size", "above_quota",
                           "designated_size_line", "rd_intensity", "rd_staff_share", "export_share",
                           "main_business_share", "domestic_revenue", "company_age_years", "size_class_possible"))


@pytest.mark.parametrize(("profile", "derived"), [
    ({}, UNDERIVED),
    # A size class known in part is null, with the classes still open; the age in whole years (5 years 364 days).
    ({"industry_code": "C3911", "employees": 500, "founded_on": date(2020, 3, 15)},
     {**UNDERIVED, "industry_group": "industry", "above_quota": False, "designated_size_line": 20_000_000,
      "company_age_years": 5, "size_class_possible": ["micro", "small", "medium"]}),
    ({"industry_code": "C3911", "employees": 80, "annual_revenue": 1e8, "main_business_revenue": 9e7,
      "export_revenue": 3.5e7, "rd_expense": 3e6, "rd_staff": 8},
     {"size_class": "small", "industry_group": "industry", "above_designated_size": True, "above_quota": False,
      "designated_size_line": 20_000_000, "rd_intensity": 0.03, "rd_staff_share": 0.1, "export_share": 0.35,
      "main_business_share": 0.9, "domestic_revenue": 65_000_000, "company_age_years": None,
      "size_class_possible": ["small"]}),
])
def test_the_answer_shows_the_derived_facts(profile: dict[str, Any], derived: dict[str, Any]) -> None:
    answer = sent(evaluate(catalogue(), {"region_code": "440305", **profile}, as_of=date(2026, 3, 14)))
    assert answer["derived"] == derived


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(profiles().flatmap(coarser))
def test_one_rule_is_answered_alone_as_in_the_whole_answer(profile: dict[str, Any]) -> None:
    """A draft or a worked example is answered one rule at a time (evaluate_rule): as the published
    answer answers that rule, inside its region, outside it, or where the company may be in it."""
    company = Profile.model_validate(profile)
    decision = evaluate(catalogue(), company, as_of=TODAY)
    for result in decision.results:
        alone = evaluate_rule(catalogue(), result.rule, company, as_of=TODAY)
        assert sent(alone) == sent(result), result.policy_id


def test_the_local_answer_holds_only_the_measures_whose_region_may_hold_the_company() -> None:
    decision = evaluate(catalogue(), {"region_code": "320583"}, as_of=TODAY)
    local = [result["policy_id"] for result in sent(decision, "local")["results"]]
    everything = [result["policy_id"] for result in sent(decision)["results"]]
    assert local and set(local) < set(everything)
    assert all(policy_id.startswith("js-") for policy_id in local)  # Kunshan is in Jiangsu


def test_an_unknown_scope_is_refused_rather_than_read_as_the_whole_answer() -> None:
    decision = evaluate(catalogue(), {"region_code": "320583"}, as_of=TODAY)
    with pytest.raises(ValueError, match="'locale'"):
        decision.to_json("locale")


@pytest.mark.parametrize(("founded", "listing", "status", "provisional"), [
    (date(2019, 1, 1), "unlisted", "not_met", True),  # too old: the assumed 3 years decide it
    (date(2025, 6, 1), "unlisted", "met", True),  # young enough, by the assumed bound
    (date(2025, 6, 1), "listed", "not_met", False),  # listed: the assumption plays no part
    (date(2025, 6, 1), None, "unknown", False),
])
def test_a_verdict_that_rests_on_an_assumed_bound_says_so(founded: date, listing: str | None, status: str,
                                                          provisional: bool) -> None:
    text = AGE_RULE.replace("company_age_years OP years", 'not any(company_age_years >= years, listing_status == "listed")')
    rule = compile_rule(text, "age-rule.yaml", tables=catalogue().tables)
    profile = {"region_code": "440305", "founded_on": founded, **({"listing_status": listing} if listing else {})}
    age = evaluate_rule(catalogue(), rule, Profile.model_validate(profile), as_of=TODAY).criteria[-1]
    assert (age.status, age.provisional) == (status, provisional)
    assert age.explanation["en"].endswith("pending confirmation by the department.)") is provisional


def test_a_verdict_decided_by_a_standard_bound_alone_is_not_provisional() -> None:
    """The criterion names the assumed 3 years too, but the company meets it by its staff, a standard bound."""
    text = AGE_RULE.replace("company_age_years OP years", "any(company_age_years >= years, employees >= staff)").replace(
        "criteria:", "  staff: {value: 300, unit: persons, basis: standard, label: {zh: 人, en: staff}, "
                     "citation: {zh: 测试, en: test}}\ncriteria:")
    rule = compile_rule(text, "age-rule.yaml", tables=catalogue().tables)
    profile = Profile.model_validate({"region_code": "440305", "founded_on": date(2025, 6, 1), "employees": 500})
    criterion = evaluate_rule(catalogue(), rule, profile, as_of=TODAY).criteria[-1]
    assert (criterion.status, criterion.provisional, criterion.explanation["en"]) == ("met", False, "yes")
    older = profile.model_copy(update={"employees": 5, "founded_on": date(2020, 1, 1)})  # met by the assumed bound
    assert evaluate_rule(catalogue(), rule, older, as_of=TODAY).criteria[-1].provisional


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(profile=profiles(), lang=st.sampled_from(["zh", "en"]), scope=st.sampled_from(["all", "local"]),
       coarse=st.booleans(), data=st.data())
def test_an_answer_in_one_language_is_the_bilingual_answer_in_that_language(profile, lang, scope, coarse,
                                                                            data) -> None:
    """Written in one language only (half the rendering), it says exactly what the bilingual answer
    says in that language, whatever the profile: the region, unknowns, gaps, provisional verdicts."""
    if coarse:
        profile = data.draw(coarser(profile))
    company = Profile.model_validate(profile)
    one = sent(evaluate(catalogue(), company, as_of=date(2026, 11, 28), languages=(lang,)), scope)
    both = sent(evaluate(catalogue(), company, as_of=date(2026, 11, 28)), scope)
    assert one == in_language(both, lang)


@settings(max_examples=examples(50), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(profile=profiles().flatmap(coarser), scope=st.sampled_from(["all", "local"]),
       members=st.sampled_from([None, {}, {"questions": [{"field": "employees"}]},
                                {"questions": [], "scope": "local", "lang": "zh"}]))
def test_the_answer_and_its_logged_form_are_one_json_document_each(profile, scope, members) -> None:
    """The answer as sent is one JSON object: the rule set, the derived facts, the results, then the
    members the service adds (the next questions, a scope or language asked for). The decision log
    keeps the same answer without each result's rule-version texts, which the rule version restores."""
    evaluation = evaluate(catalogue(), profile, as_of=TODAY)
    sent_bytes, logged_bytes = evaluation.to_json(scope, members)
    answer, logged = orjson.loads(sent_bytes), orjson.loads(logged_bytes)
    assert list(answer) == ["ruleset", "derived", "results", *(members or {})]
    assert answer == {**sent(evaluation, scope), **(members or {})}
    lean = [{key: value for key, value in result.items() if key not in RESULT_TEXT_FIELDS}
            for result in answer["results"]]
    assert logged == {**answer, "results": lean}
    assert all(set(RESULT_TEXT_FIELDS) <= result.keys() for result in answer["results"])
    titles = catalogue().rules
    assert all(result["title"] == {"zh": titles[result["policy_id"]].definition.title.zh,
                                   "en": titles[result["policy_id"]].definition.title.en}
               for result in answer["results"])  # each result names its measure


LANGUAGE_CHOICES = st.sampled_from([("zh", "en"), ("zh",), ("en",)])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(before=st.lists(st.tuples(profiles(), LANGUAGE_CHOICES), min_size=1, max_size=4), profile=profiles(),
       languages=LANGUAGE_CHOICES, scope=st.sampled_from(["all", "local"]))
def test_an_answer_is_the_same_whatever_was_answered_before(before, profile, languages, scope) -> None:
    """Parts of answers are kept once written (a rule's region criterion for a place, the result of a
    rule for a company outside its region): the bytes a company is sent are those a rule set that has
    answered nobody yet would send, whoever asked before it, wherever, in whichever language."""
    answered = catalogue()
    for earlier, in_languages in before:
        evaluate(answered, earlier, as_of=date(2026, 11, 28), languages=in_languages).to_json(scope)
    fresh = load_ruleset(Path(__file__).parents[2] / "rules")
    answer = evaluate(answered, profile, as_of=date(2026, 11, 28), languages=languages).to_json(scope)
    assert answer == evaluate(fresh, profile, as_of=date(2026, 11, 28), languages=languages).to_json(scope)
