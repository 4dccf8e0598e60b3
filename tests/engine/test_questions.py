"""The next question: which missing fields a business is asked for, in which order, and how each is
asked. The order is what a business sees first: a question whose answer alone decides measures comes
before one that only bears on them, the one deciding the most first."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine import Profile, evaluate, next_questions
from app.engine.facts import ACTIVITIES, CERTIFICATIONS, ENTITY_TYPES, LISTING_STATUSES
from app.engine.questions import question_text
from tests.helpers import examples
from tests.profiles import TABLES, catalogue, coarser, profiles

AS_OF = date(2026, 11, 28)
DATES = (date(2023, 6, 30), AS_OF)


def asked(profile: dict[str, Any], as_of: date = AS_OF) -> tuple[list[Any], list[Any]]:
    """The questions for a profile, and its needs_info answers."""
    decision = evaluate(catalogue(), Profile.model_validate(profile), as_of=as_of)
    return next_questions(decision), [result for result in decision.results if result.status == "needs_info"]


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(DATES), profiles().flatmap(coarser))
def test_questions_come_deciding_the_most_measures_first(as_of: date, profile: dict[str, Any]) -> None:
    questions, open_answers = asked(profile, as_of)
    # Every field an open answer waits for is asked once, and nothing else.
    assert sorted(q.field for q in questions) == sorted({f for r in open_answers for f in r.missing_fields})
    share: Counter[str] = Counter()  # how much of each open answer a field is: all of it when alone
    for result in open_answers:
        for field in result.missing_fields:
            share[field] += 1 / len(result.missing_fields)
    for question in questions:
        alone = [r.policy_id for r in open_answers if r.missing_fields == (question.field,)]
        among = [r.policy_id for r in open_answers if question.field in r.missing_fields]
        assert (question.settles, question.bears_on) == (len(alone), len(among)), question
        assert sorted(question.policy_ids) == sorted(among)
    # The most decided first; then what bears on the most; then what shares its answers with fewer
    # other fields; the field's name keeps the order the same on every call.
    for first, then in pairwise(questions):
        assert (first.settles, first.bears_on) >= (then.settles, then.bears_on), (first, then)
        if (first.settles, first.bears_on) == (then.settles, then.bears_on):
            assert (-share[first.field], first.field) < (-share[then.field], then.field), (first, then)
    assert next_questions(evaluate(catalogue(), Profile.model_validate(profile), as_of=as_of), limit=2) == questions[:2]


def test_a_question_that_decides_measures_comes_before_one_that_only_bears_on_more(seeds) -> None:
    # An AI-chip company in Nanshan that has not said its headcount, listing status or titles: its
    # listing status alone decides two measures (优上市, 独角兽), its certifications decide one and bear
    # on four, its headcount bears on three but decides none on its own.
    profile = {k: v for k, v in seeds["sz-nanshan-ai-chip-unicorn"].items()
               if k not in ("employees", "listing_status", "certifications")}
    questions, _ = asked(profile)
    assert [(q.field, q.settles, q.bears_on) for q in questions] == [
        ("listing_status", 2, 2), ("certifications", 1, 4), ("employees", 0, 3)]


def test_a_question_that_settles_nothing_alone_is_still_asked() -> None:
    # A Shenzhen district alone: most measures wait on several fields at once.
    questions, open_answers = asked({"region_code": "440305"})
    assert open_answers and any(q.settles == 0 for q in questions)
    assert questions[0].settles == max(q.settles for q in questions)


def test_a_decided_profile_asks_nothing(seeds) -> None:
    questions, open_answers = asked(seeds["sz-nanshan-ai-chip-unicorn"])
    assert open_answers == [] and questions == []


FIELDS = tuple(Profile.model_fields)


def answer_from(question: dict[str, Any]) -> Any:
    """What a partner app following only the question's input would send back."""
    kind = question["input"]["type"]
    options = question["input"].get("options")
    return {"integer": 12, "number": 3_000_000.5, "date": "2015-03-01", "text": "甲公司",
            "industry": "C3911", "enum": options[0]["value"] if options else None,
            "region": options[0]["value"] if options else None,
            "list": [options[0]["value"]] if options else None}[kind]


@pytest.mark.parametrize("field", [f for f in FIELDS if f not in ("region_code", "credit_code")])
def test_an_answer_given_as_the_question_asks_is_accepted(field: str) -> None:
    question = question_text(field, {"region": "440300"}, TABLES)
    profile = Profile.model_validate({"region_code": "440305", field: answer_from(question)})
    assert getattr(profile, field) is not None


def test_each_kind_of_field_is_asked_with_its_input() -> None:
    inputs = {field: question_text(field, {}, TABLES)["input"] for field in FIELDS}
    assert inputs["employees"] == {"type": "integer", "unit": "persons"}
    assert inputs["rd_staff"] == {"type": "integer", "unit": "persons"}
    assert inputs["invention_patents"] == {"type": "integer", "unit": "count"}
    for money in ("annual_revenue", "main_business_revenue", "total_assets", "rd_expense", "export_revenue",
                  "import_value", "valuation"):
        assert inputs[money] == {"type": "number", "unit": "yuan"}, money
    assert inputs["founded_on"] == {"type": "date"}
    assert inputs["industry_code"] == {"type": "industry"}
    assert inputs["name"] == inputs["credit_code"] == {"type": "text"}
    for field, values in (("entity_type", ENTITY_TYPES), ("listing_status", LISTING_STATUSES),
                          ("certifications", CERTIFICATIONS), ("activities", ACTIVITIES),
                          ("clusters", tuple(TABLES.clusters))):
        assert [option["value"] for option in inputs[field]["options"]] == list(values), field
        assert inputs[field]["type"] == ("enum" if field in ("entity_type", "listing_status") else "list")


def test_options_are_labelled_in_both_languages() -> None:
    entity = question_text("entity_type", {}, TABLES)["input"]["options"]
    assert {"value": "individual_business", "label": {"zh": TABLES.label("entity_type", "individual_business", "zh"),
                                                      "en": TABLES.label("entity_type", "individual_business", "en")}} in entity
    clusters = question_text("clusters", {}, TABLES)["input"]["options"]
    for option in clusters:
        assert option["label"] == TABLES.clusters[option["value"]]["name"]
    for field in ("certifications", "activities", "listing_status"):
        for option in question_text(field, {}, TABLES)["input"]["options"]:
            assert option["label"]["zh"] != option["value"] and option["label"]["en"], (field, option)


def test_a_region_is_asked_one_level_down_from_what_the_company_gave() -> None:
    question = question_text("region_code", {"region": "320500"}, TABLES)
    assert question["input"]["type"] == "region" and question["input"]["parent"] == "320500"
    assert [o["value"] for o in question["input"]["options"]] == list(TABLES.region_children["320500"])
    assert {"value": "320583", "label": {"zh": "江苏省苏州市昆山市", "en": "Kunshan, Suzhou, Jiangsu"}} in question["input"]["options"]
    unknown = question_text("region_code", {}, TABLES)["input"]
    assert unknown == {"type": "region", "parent": None, "options": []}


def test_the_prompt_names_the_field_and_says_where_to_find_it() -> None:
    question = question_text("founded_on", {}, TABLES)
    assert question["label"] == {"zh": "成立日期", "en": "Date founded"}
    assert question["prompt"] == {"zh": "请提供成立日期。营业执照上的成立日期。",
                                  "en": "Please give the date founded. The registration date on the business licence."}
    for field in FIELDS:
        prompt = question_text(field, {}, TABLES)["prompt"]
        assert prompt["zh"].startswith("请提供") and prompt["en"].startswith("Please give the "), field
        assert prompt == {lang: text.strip() for lang, text in prompt.items()}


def test_a_field_without_a_help_text_is_asked_with_the_prompt_alone() -> None:
    # The vocabulary is data: a field added to it before its help text is written, or not at all yet.
    fields = {name: {k: v for k, v in entry.items() if k != "help"}
              for name, entry in TABLES.vocabulary["fields"].items() if name != "valuation"}
    tables = dataclasses.replace(TABLES, vocabulary={**TABLES.vocabulary, "fields": fields})
    assert question_text("founded_on", {}, tables)["prompt"] == {"zh": "请提供成立日期。",
                                                                 "en": "Please give the date founded."}
    unnamed = question_text("valuation", {}, tables)
    assert unnamed["label"] == {"zh": "valuation", "en": "valuation"}
    assert unnamed["prompt"] == {"zh": "请提供valuation。", "en": "Please give the valuation."}
