"""Wire schemas of matching, the decision log and replay."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.engine import Profile


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile
    as_of: date | None = Field(None, description="evaluation date; today (China) when absent")
    scope: Literal["all", "local"] = Field(
        "all", description="`all`: every policy in force; `local`: only those whose region holds, or may hold, "
                           "the company's (a Shenzhen firm is not sent 20 Jiangsu 'not in your region' entries)")
    lang: Literal["both", "zh", "en"] = Field("both", description="the languages of the texts in the answer")


class LocalizedText(BaseModel):
    """A text in Chinese and English; with `lang=zh` or `lang=en` the answer carries that one only."""

    zh: str | None = None
    en: str | None = None


class CriterionResult(BaseModel):
    id: str
    status: Literal["met", "not_met", "unknown"]
    explanation: LocalizedText
    gaps: list[dict[str, Any]] | None = Field(
        None, description="for an unmet numeric threshold: the value that would meet it and the company's value"
    )
    already: bool | None = Field(None, description="not met because the firm already has what the measure "
                                                   "leads to (already above the line, already certified)")


class Amount(BaseModel):
    text: LocalizedText
    min_yuan: float | None
    max_yuan: float | None
    rate: float | None = Field(description="an interest or subsidy rate, 0.0385 for 3.85%")


class BenefitOut(BaseModel):
    kind: Literal["loan", "fund", "subsidy", "voucher", "status", "space", "service"]
    summary: LocalizedText
    amount: Amount | None = Field(description="null exactly when no source states an amount")
    amount_stated: bool


class HowToApplyOut(BaseModel):
    zh: str | None = None
    en: str | None = None
    department: LocalizedText | None
    url: str | None


class ValidityOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: date | None = Field(alias="from", description="in force from (the document's date)")
    to: date | None
    stated: bool = Field(description="whether a source states the period; an end not stated is not open-ended")


class DocumentOut(BaseModel):
    title: LocalizedText
    number: str | None = Field(description="the document number (文号)")
    issued_on: date | None
    url: str | None


class PolicyResult(BaseModel):
    policy_id: str
    status: Literal["eligible", "ineligible", "needs_info"]
    title: LocalizedText
    criteria: list[CriterionResult]
    missing_fields: list[str]
    rule_version: str
    kind: Literal["claim", "recognition", "programme"] | None = Field(
        description="a benefit the firm claims, a recognition it applies for, or a programme it takes part in")
    benefit: BenefitOut
    how_to_apply: HowToApplyOut | None
    validity: ValidityOut
    document: DocumentOut
    assumptions: list[str] = Field(
        description="ids of the criteria whose verdict rests on a threshold that is Huiqi's assumption, not law")
    already: bool = Field(description="ineligible only because the firm already has what the measure leads to: "
                                      "good news, not a refusal")


class RulesetRef(BaseModel):
    version: str
    as_of: date


class QuestionOption(BaseModel):
    value: str
    label: LocalizedText


class QuestionInput(BaseModel):
    type: Literal["integer", "number", "date", "enum", "list", "region", "industry", "text"]
    unit: str | None = Field(None, description="persons, count or yuan")
    options: list[QuestionOption] | None = Field(
        None, description="the choices of an enum or list; for a region, the areas one level down")
    parent: str | None = Field(None, description="for a region: the code the company gave, whose children are asked")


class Question(BaseModel):
    field: str
    settles: int = Field(description="how many needs_info answers this field would settle")
    label: LocalizedText
    prompt: LocalizedText
    input: QuestionInput


class MatchAnswer(BaseModel):
    """The contract's answer, plus the id under which the decision was logged."""

    decision_id: uuid.UUID
    ruleset: RulesetRef
    derived: dict[str, Any]
    results: list[PolicyResult] = Field(description="every policy in force, eligible first")
    questions: list[Question] = Field(description="missing fields worth asking for, most useful first")


class DecisionRead(BaseModel):
    id: uuid.UUID
    created_at: datetime
    as_of: date
    ruleset_version: str
    company_id: uuid.UUID | None
    profile: dict[str, Any]
    answer: dict[str, Any] = Field(description="the answer as it was sent (ruleset, derived, results, questions)")
    rule_versions: dict[str, str] = Field(description="policy id → rule version of every rule evaluated")


class VersionPair(BaseModel):
    status: str
    rule_version: str


class ResultDifference(BaseModel):
    policy_id: str
    stored: VersionPair | None
    now: VersionPair | None
    changed: list[str] = Field(description="what differs: status, criteria, missing_fields, added, removed")


class ReplayOutcome(BaseModel):
    reproduced: bool
    differences: list[ResultDifference]


class CurrentOutcome(BaseModel):
    ruleset_version: str
    decides_differently: bool
    changed_rules: list[str] = Field(description="policies whose rule file changed, appeared or went away")
    differences: list[ResultDifference]


class ReplayReport(BaseModel):
    decision_id: uuid.UUID
    as_of: date
    reproduced: bool = Field(description="the stored rule versions, re-evaluated, give the stored answer")
    replay: ReplayOutcome
    current: CurrentOutcome = Field(description="the rule set loaded now, evaluated on the same date")
