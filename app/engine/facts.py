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
        FactSpec("urban_district", "bool"),
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


def revenue_at_least(values: dict[str, Any], source: tuple[str, ...], bound: float) -> bool | None:
    """Whether the revenue a line is drawn on reaches `bound`. `source` names the figure the line uses
    first (主营业务收入 for 工业 and the 限上 sectors), then 营业收入. 营业收入 = 主营业务收入 + 其他业务收入,
    so 营业收入 below the line proves the main-business figure below it too, but 营业收入 at or above it
    proves nothing (domain.md §16.3)."""
    primary = values.get(source[0])
    if primary is not None:
        return primary >= bound
    fallback = _first_known(values, source[1:])
    if fallback is not None and fallback < bound:
        return False
    return None


def _meets(group: SizeGroup, tier: dict[str, float], values: dict[str, Any]) -> bool | None:
    """Kleene AND of `metric >= bound` over the tier's metrics."""
    result: bool | None = True
    for metric, bound in tier.items():
        if metric == "revenue":
            reached = revenue_at_least(values, group.revenue_source, bound)
        else:
            value = values.get(metric)
            reached = None if value is None else value >= bound
        if reached is False:
            return False
        if reached is None:
            result = None
    return result


def possible_sizes(group: SizeGroup, values: dict[str, Any]) -> frozenset[str]:
    """The size classes the known figures leave open (工信部联企业〔2011〕300号, domain.md §16.2).

    A tier is met when every metric reaches its bound; the classes are large, else medium, else
    small, else micro. Bounds rise from tier to tier on every metric, so a class stays possible unless
    a known figure rules it out: one figure below the large line makes an SME whatever the others."""
    met = {tier: _meets(group, bounds, values) for tier, bounds in group.tiers}
    possible = set()
    if met["large"] is not False:
        possible.add("large")
    if met["large"] is not True and met["medium"] is not False:
        possible.add("medium")
    if met["medium"] is not True and met["small"] is not False:
        possible.add("small")
    if met["small"] is not True:
        possible.add("micro")
    return frozenset(possible)


def classify_size(group: SizeGroup, values: dict[str, Any]) -> str | frozenset[str]:
    """The size class where the known figures settle it, else the set of classes still possible."""
    possible = possible_sizes(group, values)
    return next(iter(possible)) if len(possible) == 1 else possible


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February that year lacks)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def company_age_years(founded_on: date | None, as_of: date) -> float | None:
    """Years since registration, exact to the day: whole years completed, plus the part of the
    current year as a fraction, so that "not more than 10 years" (`<= 10`) holds on the tenth
    anniversary and fails the day after. Whole anniversaries count by `years_before`, as SQL does."""
    if founded_on is None:
        return None
    whole = as_of.year - founded_on.year
    while whole > 0 and years_before(as_of, whole) < founded_on:
        whole -= 1
    last = years_before(as_of, whole)
    if last == founded_on:
        return float(whole)
    previous = years_before(as_of, whole + 1)
    return whole + (last - founded_on).days / (last - previous).days


# The registration authority (9, 市场监管) and category of a unified social credit code: 91 an
# enterprise, 92 an individual business (GB 32100-2015; domain.md §6.1).
_ENTITY_OF_CREDIT_CODE = {"91": "enterprise", "92": "individual_business"}


def entity_type_of(values: dict[str, Any]) -> str | None:
    """The entity type as given, or as the credit code tells it."""
    given = values.get("entity_type")
    if given is not None:
        return given
    code = values.get("credit_code")
    return None if code is None else _ENTITY_OF_CREDIT_CODE.get(code[:2])


# Facts that some sectors cannot have settled by any profile field: 规上 status where the line is a
# qualification (construction) or the sector has no 规上/限上 line at all. A criterion left unknown by
# them alone is answered not met (evaluate.py), on the Python and the SQL path alike.
UNSETTLEABLE_FACTS = frozenset({"above_designated_size"})


def unsettleable(facts: dict[str, Any]) -> bool:
    """Whether the company's sector leaves 规上 status beyond what a profile can tell."""
    return facts.get("industry") is not None and facts.get("designated_size_line") is None and \
        facts.get("above_designated_size") is None


def derive_facts(values: dict[str, Any], as_of: date, tables: Tables) -> dict[str, Any]:
    """All facts of one profile, computed once: the fields themselves and every derived fact. A fact
    is read with `facts.get`: one left out is unknown, like one set to None."""
    facts = dict(values)
    region = values.get("region_code")
    facts["region"] = region
    facts["urban_district"] = tables.urban_district(region)
    facts["entity_type"] = entity_type_of(values)
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
        return facts  # the sector's facts (size class, 规上/限上, the line) stay unknown: absent reads as None
    group = tables.size_group_for(industry)
    facts["industry_group"] = group.id
    facts["size_class"] = classify_size(group, values)
    line = tables.line_for(industry)
    if line is None or line.min_revenue is None:
        # No revenue line for this sector: construction counts by qualification, real estate
        # development counts every developer, finance and a few others have no 规上/限上 line at all.
        facts["above_designated_size"] = True if line is not None and line.counts_all else None
        facts["above_quota"] = False  # every 限上 line is a revenue figure: a sector without one is never 限上
        return facts
    above = revenue_at_least(values, line.revenue_source, line.min_revenue)
    facts["designated_size_line"] = line.min_revenue
    facts["above_designated_size"] = above
    facts["above_quota"] = above if line.kind == "quota" else False
    return facts


def missing_inputs(fact: str, facts: dict[str, Any], tables: Tables) -> list[str]:
    """The profile fields that, if given, would make an unknown fact known (or narrow it)."""
    spec_inputs = _INPUTS.get(fact)
    if spec_inputs is None:
        return [fact] if facts.get(fact) is None else []
    industry = facts.get("industry_code")
    if fact in ("size_class", "above_designated_size", "above_quota", "designated_size_line", "industry_group"):
        if industry is None:
            wanted = ["industry_code"]
            if fact == "size_class":
                wanted += ["employees", "annual_revenue"]
            elif fact in ("above_designated_size", "above_quota"):
                wanted.append("annual_revenue")
            return [field for field in wanted if facts.get(field) is None]
        if fact == "size_class":
            group = tables.size_group_for(industry)
            wanted = []
            for metric in group.tiers[-1][1]:
                if metric == "revenue":
                    if not _revenue_settled(facts, group.revenue_source, group):
                        wanted.append(group.revenue_source[0])
                elif facts.get(metric) is None:
                    wanted.append(metric)
            return wanted
        line = tables.line_for(industry)
        if line is None or line.min_revenue is None:
            return []
        settled = revenue_at_least(facts, line.revenue_source, line.min_revenue) is not None
        return [] if settled else [line.revenue_source[0]]
    if fact == "entity_type":
        return ["entity_type"] if facts.get("entity_type") is None else []
    if fact == "urban_district":
        return ["region_code"] if facts.get("urban_district") is None else []
    return [field for field in spec_inputs if facts.get(field) is None]


def _revenue_settled(facts: dict[str, Any], source: tuple[str, ...], group: SizeGroup) -> bool:
    """Whether the revenue figure is known well enough to place the company on every tier's line."""
    return all(revenue_at_least(facts, source, bounds["revenue"]) is not None
               for _, bounds in group.tiers if "revenue" in bounds)


_INPUTS = {
    "region": ("region_code",),
    "urban_district": ("region_code",),
    "industry": ("industry_code",),
    "entity_type": ("entity_type",),
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
