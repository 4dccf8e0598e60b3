"""Wire schemas of the policy catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.engine.schema import Benefit, DocumentRef, ForWhom, HowToApply, Validity

BenefitKind = Literal["loan", "fund", "subsidy", "voucher", "status", "space", "service"]


class LocalizedText(BaseModel):
    zh: str
    en: str


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
    kind: Literal["claim", "recognition", "programme"] | None = Field(
        description="a benefit a firm claims, a recognition it applies for, or a programme it takes part in")
    for_whom: ForWhom | None
    issuer: LocalizedText
    benefit: Benefit
    validity: Validity | None
    version: str = Field(description="content hash of the rule file now in force")


class PolicyRead(PolicySummary):
    document: DocumentRef
    provenance: list[Provenance]
    how_to_apply: HowToApply | None
    notes: LocalizedText | None
    not_found: LocalizedText | None = Field(None, description="what no public source states about the measure")
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
