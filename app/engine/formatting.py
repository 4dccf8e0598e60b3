"""Values as a reader sees them, in Chinese or English: money, ratios, labels, places."""

from __future__ import annotations

import math
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
        return _yuan(value) if lang == "zh" else f"{_trimmed(value, 2)} yuan"
    if unit == "ratio":
        return f"{_trimmed(value * 100, 2)}%"
    if unit == "persons":
        return f"{_trimmed(value, 0)}人" if lang == "zh" else f"{_trimmed(value, 0)} people"
    if unit == "years":
        return _years(value, lang)
    return _trimmed(value, 2)


def _yuan(value: float) -> str:
    """Money as Chinese reads it, exact to the yuan: 80亿元, 2.5亿元, 1,250万元, 800元."""
    if abs(value) >= 100_000_000 and value % 10_000 == 0:
        return f"{_trimmed(value / 100_000_000, 4)}亿元"
    if abs(value) >= 10_000:
        return f"{_trimmed(value / 10_000, 4)}万元"
    return f"{_trimmed(value, 2)}元"


def _years(value: float, lang: str) -> str:
    """A duration in years: whole years, then the months (or, in the first month, days) past them,
    so an age a day past its tenth anniversary does not read as "10 years"."""
    whole = int(value)
    months = int((value - whole) * 12)
    days = math.ceil((value - whole) * 365) if value > whole and not months else 0
    if lang == "zh":
        return f"{whole}年" + (f"{months}个月" if months else f"零{days}天" if days else "")
    text = f"{whole} year" + ("" if whole == 1 else "s")
    if months:
        return text + f" {months} month" + ("" if months == 1 else "s")
    return text + (f" and {days} day" + ("" if days == 1 else "s") if days else "")


def format_fact(spec: FactSpec, value: Any, lang: str, tables: Tables) -> str:
    """A fact's value for a reader, or 未知 / unknown."""
    if value is None:
        return UNKNOWN[lang]
    if spec.kind == "number":
        return format_number(value, spec.unit, lang)
    if spec.kind == "bool":
        return _BOOL[bool(value)][lang]
    if spec.kind == "enum":
        if isinstance(value, frozenset):  # known only in part: the values still possible
            return possible_values(spec, value, lang, tables)
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


def possible_values(spec: FactSpec, values: frozenset[str], lang: str, tables: Tables) -> str:
    """"小型或微型" / "micro or small": the values of an enum fact the profile leaves open."""
    if spec.values is not None and len(values) == len(spec.values):
        return UNKNOWN[lang]
    ordered = [tables.label(spec.vocabulary or spec.name, value, lang)
               for value in (spec.values or sorted(values)) if value in values]
    if lang == "zh":
        return "、".join(ordered[:-1]) + "或" + ordered[-1]
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


def format_parameter(value: Any, unit: str, lang: str, tables: Tables) -> str:
    if unit == "list":
        return _LIST_SEPARATOR[lang].join(tables.value_label(item, lang) for item in value) or _NONE[lang]
    return format_number(value, unit, lang)


def format_regions(codes: tuple[str, ...] | list[str], lang: str, tables: Tables) -> str:
    return _LIST_SEPARATOR[lang].join(tables.region_name(code, lang) for code in codes)


def field_labels(fields: list[str], lang: str, tables: Tables) -> str:
    return _LIST_SEPARATOR[lang].join(tables.label("fields", field, lang) for field in fields) or _NONE[lang]
