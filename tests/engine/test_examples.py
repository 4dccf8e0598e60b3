"""A rule's worked examples as its author sees them checked (`python -m app rules check`, the
console): a passing example passes, and a wrong one says what is wrong in words."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.engine.examples import run_example, run_examples
from tests.profiles import catalogue

UNICORN = "sz-unicorn"
FIRST = catalogue().rules[UNICORN].definition.examples[0]  # an eligible Nanshan AI hardware firm


def problems(**changes: Any) -> tuple[tuple[str, ...], str | None]:
    rule = catalogue().rules[UNICORN]
    example = FIRST.model_copy(update=changes)
    outcome = run_example(catalogue(), rule, 0, example)
    assert (outcome.rule_id, outcome.index, outcome.passed) == (UNICORN, 0, not outcome.problems)
    assert outcome.example == example  # the console and `rules check` show its name and what it expects
    return outcome.problems, outcome.status


def test_every_worked_example_of_a_rule_passes() -> None:
    outcomes = run_examples(catalogue(), catalogue().rules[UNICORN])
    assert len(outcomes) == len(catalogue().rules[UNICORN].definition.examples) > 1
    assert [outcome.index for outcome in outcomes] == list(range(len(outcomes)))
    assert all(outcome.passed and outcome.problems == () for outcome in outcomes)
    assert outcomes[0].status == "eligible" and outcomes[0].example == FIRST


def test_a_wrong_status_is_reported_with_what_the_engine_answered() -> None:
    assert problems(expect="ineligible") == (("expected ineligible, got eligible",), "eligible")


def test_a_wrong_criterion_status_and_an_unknown_criterion_are_named() -> None:
    found, _ = problems(criteria={"young": "not_met", "old": "met"})
    assert found == ("criterion 'young': expected not_met, got met",
                     ("criterion 'old' is not among this result's criteria "
                     "(region, enterprise, young, unlisted, high-valuation)"))


def test_missing_fields_the_answer_does_not_ask_for_are_named() -> None:
    profile = {k: v for k, v in FIRST.profile.items() if k != "valuation"}
    assert problems(profile=profile, expect="needs_info", criteria={}, missing_fields=["valuation"]) == ((), "needs_info")
    found, _ = problems(profile=profile, expect="needs_info", criteria={}, missing_fields=["valuation", "employees"])
    assert found == ("missing_fields should include ['employees']; got ['valuation']",)


def test_an_invalid_profile_is_reported_field_by_field() -> None:
    found, status = problems(profile={**FIRST.profile, "employees": -1, "region_code": "999999"})
    assert status is None and len(found) == 2
    assert found[0].startswith("profile.region_code: ") and found[1].startswith("profile.employees: ")
    found, _ = problems(profile={**FIRST.profile, "certifications": ["high_tech_enterprise", "nope"]})
    assert len(found) == 1 and found[0].startswith("profile.certifications.1: Input should be ")


def test_an_example_dated_outside_the_rule_is_refused() -> None:
    assert problems(as_of=date(2020, 1, 1)) == (("the rule is not in force on 2020-01-01",), None)

