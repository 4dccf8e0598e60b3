"""Hypothesis strategies for company profiles over the whole catalogue: internally consistent profiles
placed in every rule's regions (and elsewhere), in the industries the rules and the standards name,
with figures drawn at and beside every threshold; and coarser versions of a profile (fields left out,
the region raised to the city or province), which must never be answered differently."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from app.engine import load_ruleset
from app.engine.credit_code import credit_check_character
from app.engine.expressions import Within, leaves
from app.engine.facts import ACTIVITIES, CERTIFICATIONS, LISTING_STATUSES
from app.engine.tables import load_tables

ROOT = Path(__file__).resolve().parents[1]
TABLES = load_tables()
OPTIONAL_FIELDS = (
    "name", "credit_code", "industry_code", "entity_type", "founded_on", "employees", "annual_revenue",
    "main_business_revenue", "total_assets", "rd_expense", "rd_staff", "export_revenue", "import_value",
    "invention_patents", "valuation", "listing_status", "certifications", "clusters", "activities",
)
# A sample of places outside every measure's region, so "not in the region" is drawn too.
ELSEWHERE = ("110105", "310115", "440106", "330106", "510107")


@cache
def catalogue():  # type: ignore[no-untyped-def]
    return load_ruleset(ROOT / "rules")


@cache
def _places() -> tuple[str, ...]:
    """Every region code at or below a rule's region, plus the sample outside."""
    areas = {code for rule in catalogue().rules.values() for code in rule.definition.region}
    inside = sorted(code for code, ancestors in TABLES.region_ancestors.items() if ancestors & areas)
    return tuple(inside) + ELSEWHERE


@cache
def _industries() -> tuple[str, ...]:
    """Classes (4 digits) under every code a rule or a size group names, and one class of each section."""
    named = {code for rule in catalogue().rules.values() for criterion in rule.criteria
             for leaf in leaves(criterion.node) if isinstance(leaf, Within) and leaf.fact.name == "industry"
             for code in leaf.codes}
    for group in TABLES.size_groups:
        named.update(group.scope)
    classes = sorted(code for code in TABLES.industries if len(code) == 5)
    picked = {code for code in classes if any(code.startswith(prefix) for prefix in named)}
    picked.update(next(code for code in classes if code.startswith(section)) for section in "ABCDEFGHIJKLMNOPQRST"
                  if any(code.startswith(section) for code in classes))
    return tuple(sorted(picked))


@cache
def _thresholds(unit: str) -> tuple[float, ...]:
    """Every bound in the catalogue and the standards with this unit, and one either side of it."""
    values: set[float] = {0.0}
    for rule in catalogue().rules.values():
        for parameter in rule.definition.parameters.values():
            if parameter.unit == unit and isinstance(parameter.value, (int, float)):
                values.add(float(parameter.value))
    metric = {"persons": ("employees",), "yuan": ("revenue", "total_assets")}.get(unit, ())
    for group in TABLES.size_groups:
        for _, bounds in group.tiers:
            values.update(float(v) for m, v in bounds.items() if m in metric)
    if unit == "yuan":
        values.update(float(line.min_revenue) for line in TABLES.statistical_lines if line.min_revenue)
    return tuple(sorted({max(0.0, v + d) for v in values for d in (-1, 0, 1)}))


def _amount(unit: str) -> st.SearchStrategy[float]:
    return st.sampled_from(_thresholds(unit)) | st.floats(0, 2e9, allow_nan=False, allow_infinity=False).map(round)


def _credit_code(kind: str, region: str, body: str) -> str:
    first17 = f"9{kind}{region}{body}"
    return first17 + credit_check_character(first17)


@st.composite
def profiles(draw: st.DrawFn, founded_before: date = date(2021, 6, 30)) -> dict[str, Any]:
    """A full, internally consistent profile (every optional field may still be absent)."""
    region = draw(st.sampled_from(_places()))
    profile: dict[str, Any] = {"region_code": region}
    present = draw(st.sets(st.sampled_from(OPTIONAL_FIELDS)))
    entity_type = draw(st.sampled_from(["enterprise", "enterprise", "individual_business"]))
    profile["entity_type"] = entity_type
    profile["credit_code"] = _credit_code("1" if entity_type == "enterprise" else "2", region,
                                          draw(st.from_regex(r"MA[0-9A-HJ-NPQRTUWXY]{7}", fullmatch=True)))
    profile["name"] = draw(st.sampled_from(["甲公司", "乙商行", "Acme"]))
    profile["industry_code"] = draw(st.sampled_from(_industries()))
    offset = draw(st.integers(0, 40 * 366))
    profile["founded_on"] = founded_before - timedelta(days=offset)
    employees = int(draw(st.sampled_from(_thresholds("persons")) | st.integers(0, 5000)))
    profile["employees"] = employees
    profile["rd_staff"] = draw(st.integers(0, employees))
    revenue = draw(_amount("yuan"))
    profile["annual_revenue"] = revenue
    profile["main_business_revenue"] = min(revenue, draw(_amount("yuan")))
    profile["export_revenue"] = min(revenue, draw(_amount("yuan")))
    profile["rd_expense"] = draw(_amount("yuan"))
    profile["total_assets"] = draw(_amount("yuan"))
    profile["import_value"] = draw(_amount("yuan"))
    profile["valuation"] = draw(_amount("yuan"))
    profile["invention_patents"] = draw(st.integers(0, 20))
    profile["listing_status"] = draw(st.sampled_from(LISTING_STATUSES))
    profile["certifications"] = sorted(draw(st.sets(st.sampled_from(CERTIFICATIONS), max_size=3)))
    profile["clusters"] = sorted(draw(st.sets(st.sampled_from(sorted(TABLES.clusters)), max_size=3)))
    profile["activities"] = sorted(draw(st.sets(st.sampled_from(ACTIVITIES), max_size=4)))
    if entity_type == "individual_business":
        profile["certifications"] = []  # titles are for enterprises (domain.md §16.4)
    return {key: value for key, value in profile.items() if key == "region_code" or key in present}


@st.composite
def coarser(draw: st.DrawFn, profile: dict[str, Any]) -> dict[str, Any]:
    """The same company known less well: some fields left out, the region possibly raised."""
    kept = {key: value for key, value in profile.items()
            if key == "region_code" or draw(st.booleans())}
    ancestors = TABLES.region_ancestors.get(profile["region_code"], frozenset())
    chain = sorted(ancestors, key=lambda code: len(TABLES.region_ancestors[code]))
    kept["region_code"] = draw(st.sampled_from(chain))  # itself, its city or its province
    return kept
