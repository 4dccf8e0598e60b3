"""A stored company's facts as columns of `company_fact`: what the SQL path evaluates. The derived
facts come from the engine's own derivation, so both paths start from the same facts."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.engine import Profile
from app.engine.facts import derive_facts
from app.engine.tables import Tables
from app.registry.sql import list_bits, mask_of, region_levels

# Derived facts that do not depend on the evaluation date (age does: SQL compares founded_on instead).
STORED_FACTS = (
    "industry_code", "entity_type", "listing_status", "founded_on", "employees", "rd_staff",
    "invention_patents", "annual_revenue", "main_business_revenue", "total_assets", "rd_expense",
    "export_revenue", "import_value", "valuation", "size_class", "industry_group", "above_designated_size",
    "above_quota", "designated_size_line", "rd_intensity", "rd_staff_share", "export_share",
    "main_business_share", "domestic_revenue",
)
LIST_FACTS = ("certifications", "clusters", "activities")
_ANY_DAY = date(2000, 1, 1)  # derived facts other than age do not depend on it


def fact_columns(profile: Profile, tables: Tables) -> dict[str, Any]:
    """The `company_fact` columns of one profile (without company_id)."""
    values = profile.values()
    facts = derive_facts(values, _ANY_DAY, tables)
    row: dict[str, Any] = {name: facts.get(name) for name in STORED_FACTS}
    bits = list_bits(tables)
    for name in LIST_FACTS:
        row[f"{name}_mask"] = mask_of(values.get(name), bits[name])
    row["region_code"] = profile.region_code
    row["region_l1"], row["region_l2"], row["region_l3"] = region_levels(profile.region_code, tables)
    row["facts_version"] = tables.version[:16]
    return row
