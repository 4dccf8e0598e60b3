"""The real catalogue: one rule per catalogue id, every worked example gives the outcome it states."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.engine import evaluate, load_ruleset
from app.engine.examples import coverage_problems, run_example
from tests.helpers import sent

RULES_DIR = Path(__file__).parents[2] / "rules"
RULESET = load_ruleset(RULES_DIR)

# The policy catalogue's ids (shared/policies.md): every one has a rule, and no rule is invented.
CATALOGUE = {
    "sz-cluster-fund", "sz-future-industry", "sz-ge-zhuan-qi", "sz-xiao-sheng-gui", "sz-gui-zuo-jing",
    "sz-xingyao-pengcheng", "sz-high-tech-cultivation", "sz-little-giant-cultivation", "sz-unicorn",
    "sz-hidden-champion", "sz-manufacturing-park", "sz-high-end-equipment", "js-sumao-loan", "js-san-tong",
    "js-integration-demo", "js-digital-commerce", "js-smart-commerce", "js-service-trade-pilot",
    "js-market-upgrade-pilot", "js-kunshan-import-zone", "js-trade-fairs", "js-own-domestic-channels",
    "js-overseas-warehouse", "js-consumption-center", "jx-above-quota-cultivation", "jx-township-commerce",
    "jx-county-logistics", "jx-digital-commerce", "sx-car-voucher", "sx-catering-brand", "sx-night-economy",
    "sx-rural-e-town", "zj-linan-talent",
}


def test_every_catalogue_measure_has_exactly_one_rule() -> None:
    assert set(RULESET.rules) == CATALOGUE


@pytest.mark.parametrize("rule_id", sorted(CATALOGUE))
def test_every_rule_has_an_example_of_each_outcome(rule_id: str) -> None:
    assert coverage_problems(RULESET.rules[rule_id]) == []


@pytest.mark.parametrize(
    ("rule_id", "index"),
    [(rule.id, index) for rule in RULESET.rules.values() for index in range(len(rule.definition.examples))],
    ids=lambda value: str(value),
)
def test_worked_example(rule_id: str, index: int) -> None:
    rule = RULESET.rules[rule_id]
    outcome = run_example(RULESET, rule, index, rule.definition.examples[index])
    assert outcome.problems == (), f"{rule.file_name} example {index + 1} ({outcome.example.name})"


# One class code from every GB/T 4754 section, so every sector's standards (size groups, statistical
# lines, sectors with none) meet every rule.
def _one_class_per_section() -> list[str]:
    classes: dict[str, str] = {}
    for code, industry in sorted(RULESET.tables.industries.items()):
        if industry.level == "class":
            classes.setdefault(code[0], code)
    return sorted(classes.values())


@pytest.mark.parametrize("region_code", sorted({rule.definition.region[0] for rule in RULESET.rules.values()}))
def test_every_rule_answers_a_company_of_any_sector_with_or_without_figures(region_code: str) -> None:
    figures = {"employees": 120, "annual_revenue": 80_000_000, "main_business_revenue": 70_000_000,
               "total_assets": 90_000_000, "rd_expense": 2_000_000, "export_revenue": 10_000_000}
    for industry_code in _one_class_per_section():
        for profile in ({"region_code": region_code, "industry_code": industry_code},
                        {"region_code": region_code, "industry_code": industry_code, **figures}):
            answer = sent(evaluate(RULESET, profile, as_of=date(2025, 6, 30)))
            assert {result["policy_id"] for result in answer["results"]} <= CATALOGUE
            for result in answer["results"]:
                assert all(criterion["explanation"]["zh"] and criterion["explanation"]["en"]
                           for criterion in result["criteria"])
