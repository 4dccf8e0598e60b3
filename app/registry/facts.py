"""A stored company's facts as columns of `company_fact`: what the SQL path evaluates. The derived
facts come from the engine's own derivation, so both paths start from the same facts."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from app.engine import Profile
from app.engine.facts import SIZE_CLASSES, derive_facts
from app.engine.tables import Tables
from app.registry.sql import list_bits, mask_of, region_levels

# Derived facts that do not depend on the evaluation date (age does: SQL compares founded_on instead).
STORED_FACTS = (
    "industry_code", "entity_type", "urban_district", "listing_status", "founded_on", "employees", "rd_staff",
    "invention_patents", "annual_revenue", "main_business_revenue", "total_assets", "rd_expense",
    "export_revenue", "import_value", "valuation", "size_class", "industry_group", "above_designated_size",
    "above_quota", "designated_size_line", "rd_intensity", "rd_staff_share", "export_share",
    "main_business_share", "domestic_revenue",
)
LIST_FACTS = ("certifications", "clusters", "activities")
_ANY_DAY = date(2000, 1, 1)  # derived facts other than age do not depend on it


# Raised whenever the derivation of stored facts changes (not only the tables it reads), so that the
# rows derived the old way are rebuilt at the next start.
DERIVATION_REVISION = "3"  # 3: districts named …林区 are urban districts


def facts_version(tables: Tables) -> str:
    """The version of the stored facts: the standards tables and the derivation that read them."""
    return hashlib.sha256(f"{tables.version}:{DERIVATION_REVISION}".encode()).hexdigest()[:16]


def size_class_mask(size: str | frozenset[str] | None) -> int | None:
    """The size classes still possible, one bit each (SIZE_CLASSES order); NULL when unknown."""
    if size is None:
        return None
    possible = size if isinstance(size, frozenset) else {size}
    return sum(1 << index for index, value in enumerate(SIZE_CLASSES) if value in possible)


def fact_columns(profile: Profile, tables: Tables) -> dict[str, Any]:
    """The `company_fact` columns of one profile (without company_id)."""
    values = profile.values()
    facts = derive_facts(values, _ANY_DAY, tables)
    row: dict[str, Any] = {name: facts.get(name) for name in STORED_FACTS}
    size = facts.get("size_class")
    row["size_class"] = size if isinstance(size, str) else None
    row["size_class_mask"] = size_class_mask(size)
    bits = list_bits(tables)
    for name in LIST_FACTS:
        row[f"{name}_mask"] = mask_of(values.get(name), bits[name])
    row["region_code"] = profile.region_code
    row["region_l1"], row["region_l2"], row["region_l3"] = region_levels(profile.region_code, tables)
    row["facts_version"] = facts_version(tables)
    return row
