"""Values as a reader sees them, in Chinese or English: money, ratios, labels, places."""

from __future__ import annotations

from typing import Any

from .facts import FactSpec
from .tables import Tables

UNKNOWN = {"zh": "未知", "en": "unknown"}
_LIST_SEPARATOR = {"zh": "、", "en": ", "}
_NONE = {"zh": "无", "en": "none"}
_BOOL = {True: {"zh": "是", "en": "yes"}, False: {"zh": "否", "en": "no"}}


def _trimmed(number: float, decimals: int) -> str:
    text = f"{number:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_number(value: float, unit: str | None, lang: str) -> str:
    if unit == "yuan":
        if lang == "zh":
            return f"{_trimmed(value / 10000, 4)}万元" if abs(value) >= 10000 else f"{_trimmed(value, 2)}元"  # exact to the yuan
        return f"{_trimmed(value, 2)} yuan"
    if unit == "ratio":
        return f"{_trimmed(value * 100, 2)}%"
    if unit == "persons":
        return f"{_trimmed(value, 0)}人" if lang == "zh" else f"{_trimmed(value, 0)} people"
    if unit == "years":
        if lang == "zh":
            return f"{_trimmed(value, 1)}年"
        return f"{_trimmed(value, 1)} year" + ("" if value == 1 else "s")
    return _trimmed(value, 2)


def format_fact(spec: FactSpec, value: Any, lang: str, tables: Tables) -> str:
    """A fact's value for a reader, or 未知 / unknown."""
    if value is None:
        return UNKNOWN[lang]
    if spec.kind == "number":
        return format_number(value, spec.unit, lang)
    if spec.kind == "bool":
        return _BOOL[bool(value)][lang]
    if spec.kind == "enum":
        return tables.label(spec.vocabulary or spec.name, value, lang)
    if spec.kind == "list":
        if not value:
            return _NONE[lang]
        return _LIST_SEPARATOR[lang].join(tables.label(spec.vocabulary or spec.name, item, lang) for item in value)
    if spec.kind == "region":
        return tables.region_name(value, lang)
    if spec.kind == "industry":
        name = tables.industry_name(value, lang)
        return f"{value} {name}".strip()
    return str(value)


def format_parameter(value: Any, unit: str, lang: str, tables: Tables) -> str:
    if unit == "list":
        return _LIST_SEPARATOR[lang].join(tables.value_label(item, lang) for item in value) or _NONE[lang]
    return format_number(value, unit, lang)


def format_regions(codes: tuple[str, ...] | list[str], lang: str, tables: Tables) -> str:
    return _LIST_SEPARATOR[lang].join(tables.region_name(code, lang) for code in codes)


def field_labels(fields: list[str], lang: str, tables: Tables) -> str:
    return _LIST_SEPARATOR[lang].join(tables.label("fields", field, lang) for field in fields) or _NONE[lang]
