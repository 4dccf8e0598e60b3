"""The SQL twin of the engine (app/registry/sql.py) decides as the Python evaluator does, form by form
and at every bound, on an in-memory SQLite `company_fact` table: the conditions compiled to SQL alone,
without the app or its migrations (tests/registry/test_service.py runs them through the service)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, delete, insert, select

from app.db.models import CompanyFact
from app.engine import Profile, Rule, compile_rule, evaluate_rule
from app.engine.tables import Tables
from app.registry.facts import fact_columns
from app.registry.sql import existing_on, list_bits, mask_of, rule_status
from tests.helpers import RULE_HEADER, examples
from tests.profiles import ROOT, TABLES, catalogue, coarser, profiles

FACTS = CompanyFact.__table__
DATES = (date(2023, 6, 30), date(2026, 11, 26))

PARAMETERS = {
    "staff": "  staff: {value: 300, unit: persons, basis: assumption, label: {zh: 人, en: staff}, citation: {zh: 测试, en: test}}\n",
    "sme": "  sme: {value: [micro, small, medium], unit: list, basis: standard, label: {zh: 中小, en: SMEs}, "
           "citation: {zh: 测试, en: test}}\n",
    "unlisted": "  unlisted: {value: [unlisted, preparing], unit: list, basis: standard, label: {zh: 未上市, en: unlisted}, "
                "citation: {zh: 测试, en: test}}\n",
}
FORMS = [
    'size_class == "small"', 'size_class != "small"', 'size_class == "large"', "listing_status in unlisted", 'size_class not in ["micro", "small"]', 'size_class in ["medium"]',
    'listing_status not in ["listed"]', 'entity_type != "enterprise"', "entity_type in []", "entity_type not in []",
    "employees < staff", "employees <= staff", "employees > staff", "employees != staff", "employees == staff",
    "export_revenue > import_value", "not above_designated_size", "above_quota", "urban_district",
    '"high_tech_enterprise" not in certifications', '"importer" in activities',
    'activities intersects ["importer", "car_dealer"]', "certifications intersects []",
    'clusters intersects ["semiconductors_ic", "machine_tools"]', "industry within [C39, I65]",
    "any(not region within 440305, size_class in [\"micro\"])", "size_class in sme", "size_class not in sme",
    'entity_type in ["enterprise", "individual_business"]',
    # 规上 status where the sector alone may keep it open (construction, finance) or a figure may
    "above_designated_size", "any(above_designated_size, employees >= staff)",
    "all(above_designated_size, employees >= staff)", "any(not above_designated_size, employees < staff)",
    # a list of one written as a single value, as the checker allows
    'activities intersects "car_dealer"', 'entity_type in "enterprise"', 'size_class not in "small"',
]
# Companies the seeds do not show, beside them (all in Shenzhen, where the forms' rule applies): figures
# that leave the size class or 规上 status open, sectors without a revenue line, empty lists, a region
# known only to the city or the province.
EDGES = [
    {}, {"region_code": "440300"}, {"region_code": "440000"}, {"industry_code": "C3911"},
    {"industry_code": "C3911", "annual_revenue": 30_000_000}, {"industry_code": "C3911", "employees": 500},
    {"industry_code": "C3911", "annual_revenue": 19_999_999, "main_business_revenue": 19_999_999, "employees": 300},
    {"industry_code": "E4710"}, {"industry_code": "E4710", "annual_revenue": 1e9, "employees": 50, "total_assets": 1e9},
    {"industry_code": "J6635"}, {"industry_code": "J6635", "annual_revenue": 6e8, "employees": 1266},
    {"industry_code": "K7010", "employees": 400}, {"industry_code": "F5261", "employees": 30},
    {"entity_type": "individual_business", "certifications": [], "activities": [], "clusters": []},
]




def form_rule(condition: str, tables: Tables, region: str = '["440300"]', *more: str) -> Rule:
    """A rule of one criterion, `condition` (and one more per `more`), with the parameters they name, in
    Shenzhen unless `region`."""
    conditions = (condition, *more)
    text = RULE_HEADER.replace("RULE_ID", "forms").replace('region: ["440300"]', f"region: {region}")
    text += "benefit: {kind: service, summary: {zh: 测试, en: test}}\n"
    used = [name for name in PARAMETERS if any(name in when for when in conditions)]
    text += ("parameters:\n" + "".join(PARAMETERS[name] for name in used) if used else "")
    text += "criteria:\n"
    for index, when in enumerate(conditions):
        text += f"  - id: form-{index}\n    when: '" + when + "'\n"
        text += '    explain: {met: {zh: 是, en: "yes"}, not_met: {zh: 否, en: "no"}, unknown: {zh: 未知, en: unknown}}\n'
    return compile_rule(text, "forms.yaml", tables=tables)


@pytest.fixture(scope="module")
def database() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    FACTS.create(engine)
    yield engine
    engine.dispose()


def agree(database: Engine, rule: Rule, companies: list[dict[str, Any]]) -> None:
    """The rule's status for each company, in SQL and in Python, on each date the company existed."""
    profiles = {uuid.uuid4(): Profile.model_validate(company) for company in companies}
    with database.begin() as connection:
        connection.execute(delete(FACTS))
        for company_id, profile in profiles.items():
            connection.execute(insert(FACTS).values(company_id=company_id, **fact_columns(profile, TABLES)))
        for as_of in DATES:
            status = rule_status(FACTS, rule, TABLES, as_of=as_of)
            sql = dict(connection.execute(select(FACTS.c.company_id, status).where(existing_on(FACTS, as_of))).all())
            python = {company_id: evaluate_rule(catalogue(), rule, profile, as_of=as_of).status
                      for company_id, profile in profiles.items()
                      if profile.founded_on is None or profile.founded_on <= as_of}
            assert sql == python, (rule.id, as_of)


@pytest.fixture(scope="module")
def seeds_and_edges() -> list[dict[str, Any]]:
    """The demo companies, and the companies known in part beside them (EDGES)."""
    seeds = yaml.safe_load((ROOT / "seeds" / "companies.yaml").read_text(encoding="utf-8"))["companies"]
    return [{k: v for k, v in seed.items() if k != "key"} for seed in seeds] + [
        {"region_code": "440305", **fields} for fields in EDGES]


@pytest.mark.parametrize("condition", FORMS)
def test_every_form_of_condition_decides_in_sql_as_in_python(database: Engine, seeds_and_edges: list[dict[str, Any]],
                                                             condition: str) -> None:
    agree(database, form_rule(condition, TABLES), seeds_and_edges)


PLACES = ["320583", "320500", "320000", "320505", "320200", "440305", "440300", "440000", "110101", "110100",
          "110000", "330106"]


@pytest.mark.parametrize("region", ['["320000"]', '["320500"]', '["320583"]', '["320583", "440300"]', '["110101"]'])
def test_the_region_criterion_decides_in_sql_as_in_python(database: Engine, region: str) -> None:
    """A measure of a province, a city or a district (or several): a company inside it is in, one at a larger
    area holding it may be, any other is out."""
    rule = form_rule('entity_type == "enterprise"', TABLES, region=region)
    agree(database, rule, [{"region_code": place, "entity_type": "enterprise"} for place in PLACES])


def test_a_rule_of_several_criteria_decides_in_sql_as_in_python(database: Engine,
                                                                 seeds_and_edges: list[dict[str, Any]]) -> None:
    """A criterion on 规上 status, which the sector may keep open, among others: each compiled on its own."""
    rule = form_rule("any(above_designated_size, employees >= staff)", TABLES, '["440300"]', "urban_district",
                     "not above_designated_size")
    agree(database, rule, seeds_and_edges)


@settings(max_examples=examples(10), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(profiles().flatmap(coarser), min_size=20, max_size=20), st.sampled_from(FORMS))
def test_drawn_companies_decide_in_sql_as_in_python(database: Engine, drawn: list[dict[str, Any]],
                                                      condition: str) -> None:
    """Every rule of the catalogue, and one form of condition, over drawn companies known in part."""
    companies = [{k: v for k, v in company.items() if k != "credit_code"} for company in drawn]
    for rule in [*catalogue().rules.values(), form_rule(condition, TABLES)]:
        agree(database, rule, companies)


def test_a_list_values_bit_never_changes() -> None:
    """Stored rows keep their masks until the derivation's revision is raised: each value keeps the bit
    of its place in the list (CERTIFICATIONS, ACTIVITIES, clusters.yaml), and new values are appended."""
    bits = list_bits(TABLES)
    assert bits["certifications"] == {"high_tech_enterprise": 1, "tech_sme": 2, "innovative_sme": 4,
                                      "specialised_sme": 8, "little_giant": 16, "single_champion": 32}
    assert (bits["activities"]["manufacturing_export"], bits["activities"]["car_dealer"],
            bits["activities"]["industrial_park_tenant"]) == (1, 1 << 12, 1 << 21)
    assert (bits["clusters"]["network_communications"], bits["clusters"]["quantum_information"]) == (1, 1 << 27)
    assert mask_of(["tech_sme", "high_tech_enterprise", "tech_sme"], bits["certifications"]) == 3
    assert (mask_of([], bits["activities"]), mask_of(None, bits["activities"])) == (0, None)
