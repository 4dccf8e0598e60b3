"""Facts: what a condition can name. Profile fields as given, and facts derived from them once per
profile (size class, 规上/限上, ratios, age). Every fact is unknown (None) when what it needs is unknown,
never zero or false."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .tables import SizeGroup, Tables

ENTITY_TYPES = ("enterprise", "individual_business")
LISTING_STATUSES = ("unlisted", "preparing", "listed")
CERTIFICATIONS = (
    "high_tech_enterprise", "tech_sme", "innovative_sme", "specialised_sme", "little_giant", "single_champion",
)
ACTIVITIES = (
    "manufacturing_export", "ecommerce_platform", "trade_service_provider", "overseas_warehouse",
    "own_domestic_online_store", "domestic_direct_store", "san_tong_products", "commodity_market_operator",
    "business_district_operator", "service_trade", "importer", "trade_fair_exhibitor", "car_dealer",
    "voucher_programme", "catering", "night_economy_zone", "township_commerce_centre", "logistics_delivery",
    "rural_ecommerce", "digital_commerce", "retail", "industrial_park_tenant",
)
SIZE_CLASSES = ("micro", "small", "medium", "large")
INDUSTRY_GROUPS = (
    "agriculture", "industry", "construction", "wholesale", "retail", "transport", "warehousing", "postal",
    "accommodation", "catering", "information_transmission", "software_it", "real_estate_development",
    "property_management", "leasing_business_services", "other",
)


@dataclass(frozen=True, slots=True)
class FactSpec:
    """What a fact is: its kind (number, enum, list, bool, region, industry), unit and allowed values."""

    name: str
    kind: str
    unit: str | None = None
    values: tuple[str, ...] | None = None
    vocabulary: str | None = None  # which label table names its values


def _number(name: str, unit: str) -> FactSpec:
    return FactSpec(name, "number", unit=unit)


def fact_specs(tables: Tables) -> dict[str, FactSpec]:
    """Every fact a condition may name."""
    specs = [
        FactSpec("region", "region"),
        FactSpec("industry", "industry"),
        FactSpec("entity_type", "enum", values=ENTITY_TYPES, vocabulary="entity_type"),
        FactSpec("listing_status", "enum", values=LISTING_STATUSES, vocabulary="listing_status"),
        FactSpec("certifications", "list", values=CERTIFICATIONS, vocabulary="certifications"),
        FactSpec("clusters", "list", values=tuple(tables.clusters), vocabulary="clusters"),
        FactSpec("activities", "list", values=ACTIVITIES, vocabulary="activities"),
        _number("employees", "persons"),
        _number("rd_staff", "persons"),
        _number("invention_patents", "count"),
        *(
            _number(name, "yuan")
            for name in ("annual_revenue", "main_business_revenue", "total_assets", "rd_expense",
                         "export_revenue", "import_value", "valuation")
        ),
        _number("company_age_years", "years"),
        FactSpec("size_class", "enum", values=SIZE_CLASSES, vocabulary="size_class"),
        FactSpec("industry_group", "enum", values=INDUSTRY_GROUPS, vocabulary="industry_group"),
        FactSpec("above_designated_size", "bool"),
        FactSpec("above_quota", "bool"),
        _number("designated_size_line", "yuan"),
        _number("rd_intensity", "ratio"),
        _number("rd_staff_share", "ratio"),
        _number("export_share", "ratio"),
        _number("main_business_share", "ratio"),
        _number("domestic_revenue", "yuan"),
    ]
    return {spec.name: spec for spec in specs}


# Ratio facts: (numerator, denominator). A gap on a ratio is also told as the numerator it takes.
RATIOS = {
    "rd_intensity": ("rd_expense", "annual_revenue"),
    "rd_staff_share": ("rd_staff", "employees"),
    "export_share": ("export_revenue", "annual_revenue"),
    "main_business_share": ("main_business_revenue", "annual_revenue"),
}


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None  # a zero denominator leaves the ratio undefined, hence unknown
    return numerator / denominator


def _first_known(values: dict[str, Any], fields: tuple[str, ...]) -> float | None:
    for field in fields:
        value = values.get(field)
        if value is not None:
            return value
    return None


def _meets(group: SizeGroup, tier: dict[str, float], values: dict[str, Any]) -> bool | None:
    """Kleene AND of `metric >= bound` over the tier's metrics."""
    result: bool | None = True
    for metric, bound in tier.items():
        value = _first_known(values, group.revenue_source) if metric == "revenue" else values.get(metric)
        if value is None:
            result = None
        elif value < bound:
            return False
    return result


def classify_size(group: SizeGroup, values: dict[str, Any]) -> str | None:
    """The size class by the group's table, or None where the known figures cannot settle it.

    Bounds are monotone (large ⊇ medium ⊇ small in what they demand), so a tier that is surely not met
    rules out every tier above it; this settles e.g. "micro" from employees alone.
    """
    met = {tier: _meets(group, bounds, values) for tier, bounds in group.tiers}
    if met["small"] is False:
        return "micro"
    if met["medium"] is False:
        return "small" if met["small"] else None
    if met["large"] is False:
        return "medium" if met["medium"] else None
    return "large" if met["large"] else None


def company_age_years(founded_on: date | None, as_of: date) -> int | None:
    """Whole years completed between registration and the evaluation date."""
    if founded_on is None:
        return None
    before_anniversary = (as_of.month, as_of.day) < (founded_on.month, founded_on.day)
    return as_of.year - founded_on.year - before_anniversary


def derive_facts(values: dict[str, Any], as_of: date, tables: Tables) -> dict[str, Any]:
    """All facts of one profile, computed once: the fields themselves and every derived fact."""
    facts = dict(values)
    facts["region"] = values.get("region_code")
    industry = values.get("industry_code")
    facts["industry"] = industry
    facts["company_age_years"] = company_age_years(values.get("founded_on"), as_of)
    revenue = values.get("annual_revenue")
    export = values.get("export_revenue")
    facts["rd_intensity"] = _ratio(values.get("rd_expense"), revenue)
    facts["rd_staff_share"] = _ratio(values.get("rd_staff"), values.get("employees"))
    facts["export_share"] = _ratio(export, revenue)
    facts["main_business_share"] = _ratio(values.get("main_business_revenue"), revenue)
    facts["domestic_revenue"] = None if revenue is None or export is None else revenue - export
    if industry is None:
        facts.update(size_class=None, industry_group=None, above_designated_size=None, above_quota=None,
                     designated_size_line=None)
        return facts
    group = tables.size_group_for(industry)
    facts["industry_group"] = group.id
    facts["size_class"] = classify_size(group, values)
    line = tables.line_for(industry)
    if line is None or line.min_revenue is None:
        # No revenue line for this sector (e.g. construction counts by qualification): unknown, and
        # no profile field can settle it.
        facts["designated_size_line"] = None
        facts["above_designated_size"] = None
        facts["above_quota"] = False if line is None or line.kind != "quota" else None
        return facts
    line_revenue = _first_known(values, line.revenue_source)
    above = None if line_revenue is None else line_revenue >= line.min_revenue
    facts["designated_size_line"] = line.min_revenue
    facts["above_designated_size"] = above
    facts["above_quota"] = above if line.kind == "quota" else False
    return facts


def missing_inputs(fact: str, facts: dict[str, Any], tables: Tables) -> list[str]:
    """The profile fields that, if given, would make an unknown fact known."""
    spec_inputs = _INPUTS.get(fact)
    if spec_inputs is None:
        return [fact] if facts.get(fact) is None else []
    industry = facts.get("industry_code")
    if fact in ("size_class", "above_designated_size", "above_quota", "designated_size_line", "industry_group"):
        if industry is None:
            wanted = ["industry_code"] + (["employees", "annual_revenue"] if fact == "size_class" else [])
            if fact in ("above_designated_size", "above_quota"):
                wanted.append("annual_revenue")
            return [field for field in wanted if facts.get(field) is None]
        if fact == "size_class":
            group = tables.size_group_for(industry)
            wanted = []
            for metric in group.tiers[0][1]:
                if metric == "revenue":
                    if _first_known(facts, group.revenue_source) is None:
                        wanted.append(group.revenue_source[-1])
                elif facts.get(metric) is None:
                    wanted.append(metric)
            return wanted
        line = tables.line_for(industry)
        if line is None or line.min_revenue is None:
            return []
        return [line.revenue_source[-1]] if _first_known(facts, line.revenue_source) is None else []
    return [field for field in spec_inputs if facts.get(field) is None]


_INPUTS = {
    "region": ("region_code",),
    "industry": ("industry_code",),
    "company_age_years": ("founded_on",),
    "rd_intensity": RATIOS["rd_intensity"],
    "rd_staff_share": RATIOS["rd_staff_share"],
    "export_share": RATIOS["export_share"],
    "main_business_share": RATIOS["main_business_share"],
    "domestic_revenue": ("annual_revenue", "export_revenue"),
    "size_class": (),
    "industry_group": (),
    "above_designated_size": (),
    "above_quota": (),
    "designated_size_line": (),
}
