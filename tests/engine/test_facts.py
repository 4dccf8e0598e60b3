"""Derived facts at and around every boundary of their tables. The bounds below are copied from
工信部联企业〔2011〕300号 and the NBS statistical lines independently of the data files, so a typo in
either shows up here."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from app.engine.errors import ExpressionError
from app.engine.expressions import ParamSpec, check, parse
from app.engine.facts import (
    ACTIVITIES,
    CERTIFICATIONS,
    ENTITY_TYPES,
    INDUSTRY_GROUPS,
    LISTING_STATUSES,
    SIZE_CLASSES,
    company_age_years,
    derive_facts,
    fact_specs,
    missing_inputs,
)
from app.engine.tables import load_tables

TABLES = load_tables()
WAN = 10_000  # 万元

# group: (an industry code in it, {tier: {metric: bound}}) with E employees, Y revenue, A total assets
SME_2011 = {
    "agriculture": ("A0111", {"large": {"Y": 20000 * WAN}, "medium": {"Y": 500 * WAN}, "small": {"Y": 50 * WAN}}),
    "industry": ("C3911", {"large": {"E": 1000, "Y": 40000 * WAN}, "medium": {"E": 300, "Y": 2000 * WAN},
                           "small": {"E": 20, "Y": 300 * WAN}}),
    "construction": ("E4710", {"large": {"Y": 80000 * WAN, "A": 80000 * WAN}, "medium": {"Y": 6000 * WAN, "A": 5000 * WAN},
                               "small": {"Y": 300 * WAN, "A": 300 * WAN}}),
    "wholesale": ("F5131", {"large": {"E": 200, "Y": 40000 * WAN}, "medium": {"E": 20, "Y": 5000 * WAN},
                            "small": {"E": 5, "Y": 1000 * WAN}}),
    "retail": ("F5261", {"large": {"E": 300, "Y": 20000 * WAN}, "medium": {"E": 50, "Y": 500 * WAN},
                         "small": {"E": 10, "Y": 100 * WAN}}),
    "transport": ("G5430", {"large": {"E": 1000, "Y": 30000 * WAN}, "medium": {"E": 300, "Y": 3000 * WAN},
                            "small": {"E": 20, "Y": 200 * WAN}}),
    "warehousing": ("G5951", {"large": {"E": 200, "Y": 30000 * WAN}, "medium": {"E": 100, "Y": 1000 * WAN},
                              "small": {"E": 20, "Y": 100 * WAN}}),
    "postal": ("G6020", {"large": {"E": 1000, "Y": 30000 * WAN}, "medium": {"E": 300, "Y": 2000 * WAN},
                         "small": {"E": 20, "Y": 100 * WAN}}),
    "accommodation": ("H6110", {"large": {"E": 300, "Y": 10000 * WAN}, "medium": {"E": 100, "Y": 2000 * WAN},
                                "small": {"E": 10, "Y": 100 * WAN}}),
    "catering": ("H6210", {"large": {"E": 300, "Y": 10000 * WAN}, "medium": {"E": 100, "Y": 2000 * WAN},
                           "small": {"E": 10, "Y": 100 * WAN}}),
    "information_transmission": ("I6410", {"large": {"E": 2000, "Y": 100000 * WAN}, "medium": {"E": 100, "Y": 1000 * WAN},
                                           "small": {"E": 10, "Y": 100 * WAN}}),
    "software_it": ("I6510", {"large": {"E": 300, "Y": 10000 * WAN}, "medium": {"E": 100, "Y": 1000 * WAN},
                              "small": {"E": 10, "Y": 50 * WAN}}),
    "real_estate_development": ("K7010", {"large": {"Y": 200000 * WAN, "A": 10000 * WAN},
                                          "medium": {"Y": 1000 * WAN, "A": 5000 * WAN},
                                          "small": {"Y": 100 * WAN, "A": 2000 * WAN}}),
    "property_management": ("K7020", {"large": {"E": 1000, "Y": 5000 * WAN}, "medium": {"E": 300, "Y": 1000 * WAN},
                                      "small": {"E": 100, "Y": 500 * WAN}}),
    "leasing_business_services": ("L7211", {"large": {"E": 300, "A": 120000 * WAN}, "medium": {"E": 100, "A": 8000 * WAN},
                                            "small": {"E": 10, "A": 100 * WAN}}),
    "other": ("M7320", {"large": {"E": 300}, "medium": {"E": 100}, "small": {"E": 10}}),
}
FIELD = {"E": "employees", "Y": "annual_revenue", "A": "total_assets"}
BELOW = {"large": "medium", "medium": "small", "small": "micro"}


def facts_for(industry: str, **values: float) -> dict:
    profile = {"region_code": "440305", "industry_code": industry, **values}
    return derive_facts(profile, date(2025, 6, 30), TABLES)


def revenue_field(industry: str) -> str:
    """The figure the group's revenue bounds are drawn on: 主营业务收入 where the standard uses it."""
    return (TABLES.size_group_for(industry).revenue_source or ("annual_revenue",))[0]


def boundary_cases():
    for group, (industry, tiers) in SME_2011.items():
        fields = dict(FIELD, Y=revenue_field(industry))
        for tier, bounds in tiers.items():
            at_bound = {fields[m]: v for m, v in bounds.items()}
            yield pytest.param(industry, at_bound, group, tier, id=f"{group}-{tier}-at-bound")
            for metric, bound in bounds.items():
                just_below = dict(at_bound, **{fields[metric]: bound - 1})
                yield pytest.param(industry, just_below, group, BELOW[tier], id=f"{group}-{tier}-{metric}-below")


@pytest.mark.parametrize(("industry", "values", "group", "size_class"), list(boundary_cases()))
def test_size_class_at_and_just_below_every_bound(industry: str, values: dict, group: str, size_class: str) -> None:
    facts = facts_for(industry, **values)
    assert facts["industry_group"] == group
    assert facts["size_class"] == size_class


def test_all_sixteen_groups_are_in_the_table() -> None:
    assert {group.id for group in TABLES.size_groups} == set(SME_2011)


def test_rail_transport_is_not_in_the_transport_group() -> None:
    assert facts_for("G5311")["industry_group"] != "transport"


def test_size_is_by_operating_revenue_as_the_standard_writes_it() -> None:
    """300号 draws every group's Y on 营业收入; 主营业务收入 is the statistical lines' figure."""
    facts = facts_for("C3911", employees=300, annual_revenue=30_000_000, main_business_revenue=19_000_000)
    assert facts["size_class"] == "medium"


def test_a_size_class_is_settled_by_partial_figures_where_the_table_allows() -> None:
    assert facts_for("C3911", employees=5)["size_class"] == "micro"  # under 20 people is micro, whatever revenue
    # Under 1,000 people is an SME whatever the revenue: never large (domain.md §16.2).
    assert facts_for("C3911", employees=500)["size_class"] == frozenset({"micro", "small", "medium"})
    assert facts_for("C3911", employees=500, annual_revenue=10_000_000)["size_class"] == "small"
    assert facts_for("C3911", annual_revenue=2_999_999)["size_class"] == "micro"  # under 3 million, whatever E
    assert facts_for("C3911")["size_class"] == frozenset({"micro", "small", "medium", "large"})


@pytest.mark.parametrize(("industry", "tiers"), list(SME_2011.values()), ids=list(SME_2011))
def test_partial_figures_leave_open_exactly_the_classes_some_completion_reaches(industry: str, tiers: dict) -> None:
    """Dropping any figures never rules out the class the full figures give, and every class left
    open is reached by some value of the missing figures."""
    field_of = dict(FIELD, Y=revenue_field(industry))
    grid: dict[str, set[float]] = {}
    for bounds in tiers.values():
        for metric, bound in bounds.items():
            grid.setdefault(field_of[metric], {0.0}).add(float(bound))
    fields = sorted(grid)
    full_classes = {values: facts_for(industry, **dict(zip(fields, values, strict=True)))["size_class"]
                    for values in itertools.product(*(sorted(grid[field]) for field in fields))}
    for values, size in full_classes.items():
        for kept in itertools.product((True, False), repeat=len(fields)):
            partial = {f: v for f, v, keep in zip(fields, values, kept, strict=True) if keep}
            found = facts_for(industry, **partial)["size_class"]
            possible = found if isinstance(found, frozenset) else {found}
            assert size in possible
            reachable = {full_classes[other] for other in full_classes
                         if all(o == v for o, v, keep in zip(other, values, kept, strict=True) if keep)}
            assert set(possible) == reachable


def test_size_class_without_an_industry_is_unknown_and_asks_for_it() -> None:
    facts = derive_facts({"region_code": "440305", "employees": 50}, date(2025, 6, 30), TABLES)
    assert facts.get("size_class") is None
    assert missing_inputs("size_class", facts, TABLES) == ["industry_code", "annual_revenue"]


@pytest.mark.parametrize(
    ("industry", "revenue", "above", "quota"),
    [
        ("C3911", 20_000_000, True, False),  # 规上工业: 2000万 and over
        ("C3911", 19_999_999, False, False),
        ("F5131", 20_000_000, True, True),  # 限上批发: 2000万
        ("F5131", 19_999_999, False, False),
        ("F5261", 5_000_000, True, True),  # 限上零售: 500万
        ("F5261", 4_999_999, False, False),
        ("H6110", 2_000_000, True, True),  # 限上住宿: 200万
        ("H6210", 2_000_000, True, True),  # 限上餐饮: 200万
        ("H6210", 1_999_999, False, False),
    ],
)
def test_statistical_lines(industry: str, revenue: int, above: bool, quota: bool) -> None:
    facts = facts_for(industry, main_business_revenue=revenue)
    assert facts["above_designated_size"] is above
    assert facts["above_quota"] is quota


@pytest.mark.parametrize("industry", ["C3911", "F5131", "F5261", "H6110", "H6210"])
def test_operating_revenue_proves_a_firm_below_a_main_business_line_never_above_it(industry: str) -> None:
    """营业收入 = 主营业务收入 + 其他业务收入 (domain.md §16.3)."""
    line = TABLES.line_for(industry).min_revenue
    below = facts_for(industry, annual_revenue=line - 1)
    assert below["above_designated_size"] is False
    at_line = facts_for(industry, annual_revenue=line)
    assert at_line["above_designated_size"] is None
    assert missing_inputs("above_designated_size", at_line, TABLES) == ["main_business_revenue"]
    # The main-business figure decides whatever the operating revenue.
    assert facts_for(industry, annual_revenue=line * 3, main_business_revenue=line - 1)["above_designated_size"] is False


def test_above_quota_is_false_outside_trade_and_unknown_without_revenue() -> None:
    assert facts_for("C3911", main_business_revenue=1e9)["above_quota"] is False
    for sector in ("A0111", "E4710", "J6621", "K7010"):  # no 限上 line: agriculture, building, banking, property
        assert facts_for(sector, annual_revenue=1e10)["above_quota"] is False, sector
    facts = facts_for("F5261")
    assert facts["above_quota"] is None and facts["above_designated_size"] is None
    assert missing_inputs("above_quota", facts, TABLES) == ["main_business_revenue"]


def test_construction_has_no_revenue_line_so_no_field_can_settle_it() -> None:
    facts = facts_for("E4710", annual_revenue=1e9)
    assert facts["above_designated_size"] is None
    assert missing_inputs("above_designated_size", facts, TABLES) == []


def test_every_real_estate_developer_counts_as_above_designated_size() -> None:
    assert facts_for("K7010")["above_designated_size"] is True


@pytest.mark.parametrize(("code", "urban"), [
    ("440305", True), ("320583", False), ("320506", True), ("330112", True), ("140000", None), ("320500", None),
    ("140109", True), ("610103", True),  # 万柏林区, 碑林区: districts whose names end in 林区
    ("429021", False),  # 神农架林区: a forestry district, a county-level unit under the province
    ("441900", False),  # 东莞市: a city of towns, with no district or county under it
    ("990000", None),  # not a code of the table
])
def test_urban_district_is_a_district_not_a_county_or_county_level_city(code: str, urban: bool | None) -> None:
    assert facts_for("C3911", region_code=code)["urban_district"] is urban


@pytest.mark.parametrize(("credit_code", "entity_type"), [("91350100M000100Y43", "enterprise"),
                                                          ("92350100M000100Y4X", "individual_business")])
def test_the_credit_code_tells_the_entity_type_when_it_is_not_given(credit_code: str, entity_type: str) -> None:
    facts = derive_facts({"region_code": "440305", "credit_code": credit_code}, date(2025, 6, 30), TABLES)
    assert facts["entity_type"] == entity_type


def test_ratios_and_domestic_revenue() -> None:
    facts = derive_facts({"region_code": "320506", "annual_revenue": 100.0, "export_revenue": 35.0,
                          "rd_expense": 4.0, "employees": 50, "rd_staff": 5, "main_business_revenue": 90.0},
                         date(2025, 1, 1), TABLES)
    assert facts["export_share"] == 0.35 and facts["domestic_revenue"] == 65.0
    assert facts["rd_intensity"] == 0.04 and facts["rd_staff_share"] == 0.1 and facts["main_business_share"] == 0.9


def test_a_ratio_over_zero_revenue_is_unknown_not_infinite() -> None:
    facts = derive_facts({"region_code": "320506", "annual_revenue": 0.0, "export_revenue": 0.0},
                         date(2025, 1, 1), TABLES)
    assert facts["export_share"] is None


def test_a_ratio_with_one_side_absent_asks_only_for_that_side() -> None:
    facts = derive_facts({"region_code": "320506", "rd_expense": 1e6}, date(2025, 1, 1), TABLES)
    assert facts["rd_intensity"] is None
    assert missing_inputs("rd_intensity", facts, TABLES) == ["annual_revenue"]


@pytest.mark.parametrize(
    ("founded", "as_of", "age"),
    [
        (date(2020, 3, 15), date(2023, 3, 14), 2),  # the day before the anniversary
        (date(2020, 3, 15), date(2023, 3, 15), 3),  # the anniversary itself
        (date(2020, 2, 29), date(2021, 2, 28), 0),  # a leap-day founding
        (date(2020, 2, 29), date(2021, 3, 1), 1),
    ],
)
def test_company_age_counts_whole_years_on_the_evaluation_date(founded: date, as_of: date, age: int) -> None:
    assert int(company_age_years(founded, as_of)) == age


def test_company_age_is_exact_to_the_day_around_an_anniversary() -> None:
    """"Not more than 10 years" holds on the tenth anniversary and fails the day after."""
    founded = date(2015, 6, 30)
    assert company_age_years(founded, date(2025, 6, 30)) == 10
    assert 10 < company_age_years(founded, date(2025, 7, 1)) < 10.01
    assert 9.99 < company_age_years(founded, date(2025, 6, 29)) < 10


def test_a_company_not_a_year_old_counts_its_days_over_the_year_up_to_the_evaluation_date() -> None:
    """The year from 1 March 2023 to 1 March 2024 holds 29 February: 366 days."""
    assert company_age_years(date(2023, 6, 1), date(2024, 3, 1)) == 274 / 366
    assert company_age_years(date(2024, 6, 1), date(2025, 3, 1)) == 273 / 365


def test_region_ancestry_runs_district_city_province() -> None:
    assert TABLES.region_ancestors["440305"] >= {"440305", "440300", "440000"}
    assert TABLES.region_ancestors["320583"] >= {"320583", "320500", "320000"}
    assert "320000" not in TABLES.region_ancestors["330112"]
    assert TABLES.region_ancestors["330112"] >= {"330100", "330000"}


def test_region_names_read_naturally() -> None:
    assert TABLES.region_name("320583", "zh") == "江苏省苏州市昆山市"
    assert TABLES.region_name("440305", "zh") == "广东省深圳市南山区"


ASKED_EITHER_WAY = {
    "company_age_years": ["founded_on"], "entity_type": ["entity_type"],
    "rd_intensity": ["rd_expense", "annual_revenue"], "rd_staff_share": ["rd_staff", "employees"],
    "export_share": ["export_revenue", "annual_revenue"], "domestic_revenue": ["annual_revenue", "export_revenue"],
    "main_business_share": ["main_business_revenue", "annual_revenue"],
}
ASKED_WITHOUT_INDUSTRY = {
    **ASKED_EITHER_WAY, "size_class": ["industry_code", "employees", "annual_revenue"],
    "above_designated_size": ["industry_code", "annual_revenue"], "above_quota": ["industry_code", "annual_revenue"],
    "designated_size_line": ["industry_code"], "industry_group": ["industry_code"], "industry": ["industry_code"],
}


@pytest.mark.parametrize(("profile", "asked"), [
    ({"region_code": "440305"}, ASKED_WITHOUT_INDUSTRY),
    # A manufacturer: its size by staff and revenue, its 规上 status by main business revenue.
    ({"region_code": "440305", "industry_code": "C3911"},
     {**ASKED_EITHER_WAY, "size_class": ["employees", "annual_revenue"],
      "above_designated_size": ["main_business_revenue"], "above_quota": ["main_business_revenue"]}),
    # Construction: size by revenue and assets; no figure settles 规上 status, so none is asked for it.
    ({"region_code": "440305", "industry_code": "E4710"},
     {**ASKED_EITHER_WAY, "size_class": ["annual_revenue", "total_assets"], "above_designated_size": [],
      "above_quota": []}),
    ({"region_code": "440000"}, {"urban_district": ["region_code"]}),  # a province: district or county?
])
def test_each_unknown_fact_asks_for_the_fields_that_settle_it(profile: dict, asked: dict) -> None:
    facts = derive_facts(profile, date(2025, 6, 30), TABLES)
    assert {fact: missing_inputs(fact, facts, TABLES) for fact in asked} == asked
    given = {"annual_revenue": 1e9, "employees": 5, "total_assets": 1e9}  # every figure of every size table
    assert missing_inputs("size_class", {**facts, **given}, TABLES) == (
        [] if "industry_code" in profile else ["industry_code"])


UNITS = {"employees": "persons", "rd_staff": "persons", "invention_patents": "count",
         **dict.fromkeys(("annual_revenue", "main_business_revenue", "total_assets", "rd_expense", "export_revenue",
                          "import_value", "valuation", "designated_size_line", "domestic_revenue"), "yuan"),
         "company_age_years": "years",
         **dict.fromkeys(("rd_intensity", "rd_staff_share", "export_share", "main_business_share"), "ratio")}
VALUES = {"entity_type": ENTITY_TYPES, "listing_status": LISTING_STATUSES, "size_class": SIZE_CLASSES,
          "industry_group": INDUSTRY_GROUPS}
LISTS = {"certifications": CERTIFICATIONS, "activities": ACTIVITIES, "clusters": tuple(TABLES.clusters)}


def condition_problem(text: str, params: dict[str, ParamSpec] | None = None) -> str | None:
    try:  # the specs are built here, not at import, so the check runs on this process's code
        check(parse(text), fact_specs(TABLES), params or {}, TABLES)
    except ExpressionError as error:
        return str(error)
    return None


@pytest.mark.parametrize(("fact", "unit"), UNITS.items())
def test_a_figure_is_compared_with_a_parameter_of_its_own_unit(fact: str, unit: str) -> None:
    assert condition_problem(f"{fact} >= p", {"p": ParamSpec("p", 1, unit)}) is None
    other = "persons" if unit != "persons" else "yuan"
    assert condition_problem(f"{fact} >= p", {"p": ParamSpec("p", 1, other)}) == (
        f"type mismatch: {fact} is in {unit}, p is in {other}")


@pytest.mark.parametrize(("fact", "values"), VALUES.items())
def test_an_enum_fact_takes_its_values_and_names_them_when_refusing_another(fact: str, values: tuple) -> None:
    assert all(condition_problem(f'{fact} == "{value}"') is None for value in values)
    assert condition_problem(f'{fact} == "nope"') == f"'nope' is not a valid value of {fact} (valid: {', '.join(values)})"


@pytest.mark.parametrize(("fact", "values"), LISTS.items())
def test_a_list_fact_holds_its_values_only(fact: str, values: tuple) -> None:
    assert all(condition_problem(f'"{value}" in {fact}') is None for value in values)
    assert condition_problem(f'"nope" in {fact}') == f"'nope' is not a valid value of {fact} (valid: {', '.join(values)})"


def test_yes_no_facts_and_places_are_conditions_of_their_own_kind() -> None:
    for fact in ("urban_district", "above_designated_size", "above_quota"):
        assert condition_problem(fact) is None
    assert condition_problem("employees") == "employees is not a yes/no fact; compare it with something"
    assert condition_problem("region within 320000") is None and condition_problem("industry within C39") is None
