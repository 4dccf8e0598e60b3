"""Wire schemas of the policy catalogue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BenefitKind = Literal["loan", "fund", "subsidy", "voucher", "status", "space", "service"]


class LocalizedText(BaseModel):
    zh: str
    en: str


class Benefit(BaseModel):
    kind: BenefitKind
    description: LocalizedText
    amounts: LocalizedText | None = None


class Validity(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: date | None = Field(None, alias="from")
    to: date | None = None


class Provenance(BaseModel):
    paragraph: int
    quote: str
    source: str


class Parameter(BaseModel):
    value: float | list[str]
    unit: str
    basis: Literal["source", "standard", "assumption"]
    label: LocalizedText
    citation: LocalizedText


class Explanations(BaseModel):
    met: LocalizedText
    not_met: LocalizedText
    unknown: LocalizedText


class CriterionRead(BaseModel):
    id: str
    when: str = Field(description="the condition, in the rule language (rules/README.md)")
    explain: Explanations


class PolicyVersion(BaseModel):
    version: str
    first_seen_at: datetime
    current: bool


class PolicySummary(BaseModel):
    id: str
    title: LocalizedText
    region: list[str]
    issuer: LocalizedText
    benefit: Benefit
    validity: Validity | None
    version: str = Field(description="content hash of the rule file now in force")


class PolicyRead(PolicySummary):
    document: LocalizedText
    provenance: list[Provenance]
    how_to_apply: LocalizedText | None
    notes: LocalizedText | None
    parameters: dict[str, Parameter]
    criteria: list[CriterionRead] = Field(
        description="the rule's own criteria; every answer also starts with the implicit `region` criterion"
    )
    file_name: str
    versions: list[PolicyVersion] = Field(description="every version seen by this service, newest first")


class PolicyPage(BaseModel):
    items: list[PolicySummary]
    total: int
    limit: int
    offset: int
