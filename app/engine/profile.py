"""The company profile of the public contract, validated. Every field but `region_code` is optional:
an absent field is unknown, which is not zero or false."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from .credit_code import check_credit_code
from .facts import ACTIVITIES, CERTIFICATIONS, ENTITY_TYPES, LISTING_STATUSES, entity_type_of
from .tables import load_tables

# Upper bounds, the same on every backend: a count fits PostgreSQL's `integer` (company_fact), and money
# (yuan, a double everywhere) stops at 10^15, ten times China's GDP, far above any one company.
MAX_COUNT = 2**31 - 1
MAX_MONEY = 1e15
Money = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False, description="yuan")]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
_INDUSTRY = re.compile(r"^[A-T](\d{2,4})?$")
# No text of a profile has a line break, let alone NUL (which PostgreSQL's JSONB refuses to store) or
# another control character; nor a lone surrogate, which no UTF-8 encoder writes.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class Profile(BaseModel):
    """A company as partner apps describe it (contract.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str | None = Field(None, max_length=200)
    credit_code: str | None = Field(None, description="统一社会信用代码, 18 characters, check digit verified")
    region_code: str = Field(description="GB/T 2260 code of the registered address, e.g. 440305")
    industry_code: str | None = Field(None, description="GB/T 4754-2017 code of the main business, e.g. C3911")
    entity_type: Literal[ENTITY_TYPES] | None = None  # type: ignore[valid-type]
    founded_on: date | None = None
    employees: Count | None = None
    annual_revenue: Money | None = None
    main_business_revenue: Money | None = None
    total_assets: Money | None = None
    rd_expense: Money | None = None
    rd_staff: Count | None = None
    export_revenue: Money | None = None
    import_value: Money | None = None
    invention_patents: Count | None = None
    valuation: Money | None = None
    listing_status: Literal[LISTING_STATUSES] | None = None  # type: ignore[valid-type]
    certifications: list[Literal[CERTIFICATIONS]] | None = Field(None, max_length=len(CERTIFICATIONS))  # type: ignore[valid-type]
    clusters: list[str] | None = Field(None, max_length=64)
    activities: list[Literal[ACTIVITIES]] | None = Field(None, max_length=len(ACTIVITIES))  # type: ignore[valid-type]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        found = CONTROL_CHARACTER.search(value) if value is not None else None
        if found:
            raise PydanticCustomError("control_character", "contains a control character (U+{code})",
                                      {"code": f"{ord(found[0]):04X}"})
        return value

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        result = check_credit_code(value.upper())
        if not result.valid:
            raise PydanticCustomError("credit_code", "invalid unified social credit code: {reason}",
                                      {"reason": result.reason})
        return value.upper()

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str) -> str:
        tables = load_tables()
        if value in tables.regions:
            return value
        if value in tables.retired_regions:
            successor = tables.retired_regions[value]
            raise PydanticCustomError("region_code", "region code {code} was retired; use {successor}",
                                      {"code": value, "successor": successor})
        raise PydanticCustomError("region_code", "{code} is not a GB/T 2260 region code", {"code": value})

    @field_validator("industry_code")
    @classmethod
    def _industry(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper()
        if not _INDUSTRY.match(value) or value not in load_tables().industries:
            raise PydanticCustomError("industry_code", "{code} is not a GB/T 4754-2017 industry code",
                                      {"code": value})
        return value

    @field_validator("entity_type")
    @classmethod
    def _entity_type_fits_credit_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        code = info.data.get("credit_code")
        told = None if code is None else entity_type_of({"credit_code": code})
        if value is not None and told is not None and told != value:
            raise PydanticCustomError(
                "entity_type_mismatch", "entity_type {value} contradicts the credit code, which registers {told} "
                "(91 an enterprise, 92 an individual business)", {"value": value, "told": told})
        return value

    @field_validator("clusters")
    @classmethod
    def _clusters(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        known = load_tables().clusters
        for cluster in value:
            if cluster not in known:
                raise PydanticCustomError("cluster", "{cluster} is not a cluster id", {"cluster": cluster})
        return _unique(value)

    @field_validator("certifications", "activities")
    @classmethod
    def _dedupe(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique(value)

    # Cross-field checks sit on the later field, so the error names it (fields validate in order).
    @field_validator("main_business_revenue", "export_revenue")
    @classmethod
    def _within_revenue(cls, value: float | None, info: ValidationInfo) -> float | None:
        revenue = info.data.get("annual_revenue")
        if value is not None and revenue is not None and value > revenue:
            raise PydanticCustomError(
                "exceeds_revenue", "{field} ({value}) exceeds annual_revenue ({revenue})",
                {"field": info.field_name, "value": f"{value:,.0f}", "revenue": f"{revenue:,.0f}"},
            )
        return value

    @field_validator("rd_staff")
    @classmethod
    def _within_employees(cls, value: int | None, info: ValidationInfo) -> int | None:
        employees = info.data.get("employees")
        if value is not None and employees is not None and value > employees:
            raise PydanticCustomError("exceeds_employees", "rd_staff ({value}) exceeds employees ({employees})",
                                      {"value": value, "employees": employees})
        return value

    def values(self) -> dict[str, Any]:
        """The fields as facts: absent fields are None (unknown)."""
        return dict(self.__dict__)

