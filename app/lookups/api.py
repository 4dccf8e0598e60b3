"""Lookups for partner apps: the standards' code tables and the profile's vocabulary, so an app can
build a complete answer screen and form from the API alone (GB/T 2260 regions, GB/T 4754 industries,
profile fields, activities, certifications and clusters, each with zh/en labels)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.deps import RuleSetDep
from app.engine.facts import ACTIVITIES, CERTIFICATIONS, ENTITY_TYPES, LISTING_STATUSES
from app.engine.profile import Profile
from app.errors import RegionNotFoundError
from app.policies.schemas import LocalizedText

router = APIRouter(tags=["lookups"])


class RegionEntry(BaseModel):
    code: str = Field(examples=["440305"])
    name: LocalizedText = Field(description="the region's own name")
    full_name: LocalizedText = Field(description="with its city and province")
    level: Literal["province", "city", "county"]
    has_children: bool


class RegionList(BaseModel):
    parent: RegionEntry | None = Field(description="the region asked about; null for the provinces")
    items: list[RegionEntry]


class IndustryEntry(BaseModel):
    code: str = Field(examples=["C3911"])
    label: LocalizedText = Field(description='"C3911 计算机整机制造"')
    level: str = Field(description="section, division, group or class")


class IndustryList(BaseModel):
    q: str
    items: list[IndustryEntry]


class VocabularyEntry(BaseModel):
    id: str
    label: LocalizedText
    help: LocalizedText | None = None


class Vocabulary(BaseModel):
    fields: list[VocabularyEntry] = Field(description="the profile's fields (contract.md)")
    entity_types: list[VocabularyEntry]
    listing_statuses: list[VocabularyEntry]
    activities: list[VocabularyEntry]
    certifications: list[VocabularyEntry]
    clusters: list[VocabularyEntry]


def _region(tables: Any, code: str) -> dict[str, Any]:
    return {"code": code, "name": {lang: tables.region_label(code, lang) for lang in ("zh", "en")},
            "full_name": {lang: tables.region_name(code, lang) for lang in ("zh", "en")},
            "level": tables.region_level(code), "has_children": bool(tables.region_children.get(code))}


@router.get("/regions", response_model=RegionList, summary="GB/T 2260 regions: the provinces, or the children of one",
            responses={404: {"description": "No such region code"}})
def list_regions(
    ruleset: RuleSetDep,
    parent: Annotated[str | None, Query(pattern=r"^\d{6}$", description="a region code; absent: the provinces",
                                        examples=["320500"])] = None,
) -> dict[str, Any]:
    tables = ruleset.tables
    if parent is not None and parent not in tables.regions:
        raise RegionNotFoundError(f"{parent} is not a GB/T 2260 region code.", code=parent)
    return {"parent": _region(tables, parent) if parent else None,
            "items": [_region(tables, code) for code in tables.region_children.get(parent, ())]}


@router.get("/industries", response_model=IndustryList, summary="GB/T 4754-2017 industries matching a word or code")
def find_industries(
    ruleset: RuleSetDep,
    q: Annotated[str, Query(min_length=1, max_length=50, description="a word of the name (zh or en) or a code prefix",
                            examples=["计算机"])],
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
) -> dict[str, Any]:
    tables = ruleset.tables
    return {"q": q, "items": [
        {"code": code, "label": {lang: tables.industry_label(code, lang) for lang in ("zh", "en")},
         "level": tables.industries[code].level}
        for code in tables.find_industries(q, limit)
    ]}


@router.get("/vocabulary", response_model=Vocabulary, summary="Profile fields, activities, certifications and clusters")
def vocabulary(ruleset: RuleSetDep) -> dict[str, Any]:
    tables = ruleset.tables
    fields = tables.vocabulary["fields"]

    def values(kind: str, ids: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{"id": value, "label": {lang: tables.label(kind, value, lang) for lang in ("zh", "en")}} for value in ids]

    return {
        "fields": [{"id": name, "label": {"zh": fields[name]["zh"], "en": fields[name]["en"]},
                    "help": fields[name].get("help")} for name in Profile.model_fields if name in fields],
        "entity_types": values("entity_type", ENTITY_TYPES),
        "listing_statuses": values("listing_status", LISTING_STATUSES),
        "activities": values("activities", ACTIVITIES),
        "certifications": values("certifications", CERTIFICATIONS),
        "clusters": values("clusters", tuple(tables.clusters)),
    }
