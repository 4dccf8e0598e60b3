"""The rule file, as frozen pydantic models. Unknown keys are errors, so a typo is reported at its key."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

BENEFIT_KINDS = ("loan", "fund", "subsidy", "voucher", "status", "space", "service")
UNITS = ("yuan", "ratio", "persons", "years", "count", "list")
BASES = ("source", "standard", "assumption")
STATUSES = ("eligible", "ineligible", "needs_info")
CRITERION_STATUSES = ("met", "not_met", "unknown")
_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _region_code(value: Any) -> Any:
    return f"{value:06d}" if isinstance(value, int) and not isinstance(value, bool) else value


RegionCode = Annotated[str, BeforeValidator(_region_code), Field(pattern=r"^\d{6}$")]


class Text(_Frozen):
    """A text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Quote(_Frozen):
    paragraph: int = Field(ge=1, description="number of the non-empty line of the source where the quote begins")
    quote: str = Field(min_length=4)
    source: str = "source-article.txt"


MEASURE_KINDS = ("claim", "recognition", "programme")
CITATION_BASES = ("source", "standard", "secondary")


class Citation(_Frozen):
    """Where a researched fact comes from: the measure's own document (or the newspaper page, with its
    paragraph), a national standard, or a reputable public report (`secondary`)."""

    basis: Literal[CITATION_BASES]  # type: ignore[valid-type]
    title: str = Field(min_length=1)
    publisher: str | None = None
    url: str | None = Field(None, pattern=r"^https?://")
    paragraph: int | None = Field(None, ge=1)
    published_on: date | None = None
    read_on: date | None = None
    supports: str | None = Field(None, description="the fact it supports")


class ForWhom(_Frozen):
    """Who the measure is for, in one line, and where that comes from."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    citation: Citation


class DocumentRef(_Frozen):
    """The measure's primary document."""

    title: Text
    number: str | None = None  # 文号, e.g. 深府〔2022〕31号
    issued_on: date | None = None
    url: str | None = Field(None, pattern=r"^https?://")
    citations: list[Citation] = Field(default_factory=list)


class Amount(_Frozen):
    """What a firm gets in money, as a source states it: the words, and the figures where it gives them."""

    text: Text
    min_yuan: float | None = Field(None, ge=0)
    max_yuan: float | None = Field(None, ge=0)
    rate: float | None = Field(None, ge=0, le=1, description="an interest or subsidy rate, 0.0385 for 3.85%")


class Benefit(_Frozen):
    kind: Literal[BENEFIT_KINDS]  # type: ignore[valid-type]
    summary: Text
    amount: Amount | None = None
    amount_stated: bool = False
    citations: list[Citation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _amount_stated(self) -> Benefit:
        if (self.amount is not None) != self.amount_stated:
            raise ValueError("amount is given exactly when amount_stated is true (null where no source states one)")
        return self


class HowToApply(_Frozen):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    department: Text | None = None
    url: str | None = Field(None, pattern=r"^https?://")
    window: Text | None = None  # the published application window or deadline
    citations: list[Citation] = Field(default_factory=list)


class Validity(_Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: date | None = Field(None, alias="from")
    to: date | None = None
    stated: bool = False  # whether a source states the period; an end not stated is not "open-ended"
    citations: list[Citation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError(f"validity starts ({self.from_}) after it ends ({self.to})")
        return self


class Parameter(_Frozen):
    value: float | list[str]
    unit: Literal[UNITS]  # type: ignore[valid-type]
    basis: Literal[BASES]  # type: ignore[valid-type]
    label: Text
    citation: Text

    @field_validator("value", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a parameter is a number or a list of ids, not true/false")
        return value

    @model_validator(mode="after")
    def _unit_fits_value(self) -> Parameter:
        if (self.unit == "list") != isinstance(self.value, list):
            raise ValueError("unit `list` goes with a list value, and only with one")
        if self.unit == "ratio" and not 0 <= self.value <= 1:  # type: ignore[operator]
            raise ValueError(f"a ratio is between 0 and 1 (write 3% as 0.03), got {self.value}")
        return self


class Explain(_Frozen):
    met: Text
    not_met: Text
    unknown: Text


class Criterion(_Frozen):
    id: str
    when: str = Field(min_length=1)
    explain: Explain
    # Not met because the firm already has what the measure leads to (already 规上, already certified):
    # good news for the firm, not a refusal; the answer says so.
    already_if_not_met: bool = False

    @field_validator("id")
    @classmethod
    def _kebab(cls, value: str) -> str:
        if not _KEBAB.match(value):
            raise ValueError(f"criterion ids are kebab-case (like `export-oriented`), got {value!r}")
        if value == "region":
            raise ValueError("`region` is the criterion the engine adds itself from `region:`")
        return value


class Example(_Frozen):
    name: Text
    as_of: date
    profile: dict[str, Any]
    expect: Literal[STATUSES]  # type: ignore[valid-type]
    criteria: dict[str, Literal[CRITERION_STATUSES]] = Field(default_factory=dict)  # type: ignore[valid-type]
    missing_fields: list[str] | None = None


class RuleDefinition(_Frozen):
    id: str
    title: Text
    region: list[RegionCode] = Field(min_length=1)
    kind: Literal[MEASURE_KINDS]  # type: ignore[valid-type]
    for_whom: ForWhom
    issuer: Text
    document: DocumentRef
    provenance: list[Quote] = Field(min_length=1)
    benefit: Benefit
    validity: Validity | None = None
    how_to_apply: HowToApply
    notes: Text | None = None
    not_found: Text | None = None  # what no public source states (document, amount, channel, dates)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    criteria: list[Criterion] = Field(min_length=1)
    examples: list[Example] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_is_kebab(cls, value: str) -> str:
        if not _KEBAB.match(value):
            raise ValueError(f"rule ids are kebab-case, got {value!r}")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameter_names(cls, value: dict[str, Parameter]) -> dict[str, Parameter]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"parameter names are snake_case, got {name!r}")
        return value

    def in_force(self, as_of: date) -> bool:
        if self.validity is None:
            return True
        start, end = self.validity.from_, self.validity.to
        return (start is None or start <= as_of) and (end is None or as_of <= end)
