"""Which question to ask next: the missing fields ranked by how many needs_info answers they bear on."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from .evaluate import Evaluation
from .facts import ACTIVITIES, CERTIFICATIONS, ENTITY_TYPES, LISTING_STATUSES
from .ruleset import NEEDS_INFO
from .tables import Tables

# How each profile field is asked: its input type, and the unit or the table its options come from.
_INTEGER = {"employees": "persons", "rd_staff": "persons", "invention_patents": "count"}
_MONEY = ("annual_revenue", "main_business_revenue", "total_assets", "rd_expense", "export_revenue",
          "import_value", "valuation")
_ENUM = {"entity_type": ENTITY_TYPES, "listing_status": LISTING_STATUSES}
_LIST = {"certifications": CERTIFICATIONS, "activities": ACTIVITIES}


@dataclass(frozen=True, slots=True)
class NextQuestion:
    field: str
    settles: int  # needs_info answers where this is the only missing field: answering it decides them
    bears_on: int  # needs_info answers that list this field among their missing fields
    policy_ids: tuple[str, ...]


def next_questions(evaluation: Evaluation, limit: int | None = None) -> list[NextQuestion]:
    """Missing fields, most useful first: those that alone settle the most answers, then those that
    bear on the most, then by the weight of the answers they share with fewer other fields."""
    bears_on: Counter[str] = Counter()
    settles: Counter[str] = Counter()
    weight: defaultdict[str, float] = defaultdict(float)  # shares of answers: fractions
    policies: dict[str, list[str]] = {}
    for result in evaluation.evaluated:
        if result.status != NEEDS_INFO:
            continue
        fields = result.missing_fields
        for field in fields:
            bears_on[field] += 1
            weight[field] += 1 / len(fields)
            policies.setdefault(field, []).append(result.policy_id)
        if len(fields) == 1:
            settles[fields[0]] += 1
    ranked = sorted(bears_on, key=lambda field: (-settles[field], -bears_on[field], -weight[field], field))
    questions = [NextQuestion(field, settles[field], bears_on[field], tuple(policies[field])) for field in ranked]
    return questions[:limit] if limit is not None else questions


def question_text(field: str, facts: dict[str, Any], tables: Tables) -> dict[str, Any]:
    """What a partner app needs to ask for `field` with no table of its own: the label, a prompt and
    the input (type, unit or options), in Chinese and English. A region is asked one level down from
    what the company gave."""
    label = {lang: tables.label("fields", field, lang) for lang in ("zh", "en")}
    help_text = tables.vocabulary["fields"].get(field, {}).get("help") or {}
    prompt = {"zh": f"请提供{label['zh']}。" + help_text.get("zh", ""),
              "en": f"Please give the {label['en'][0].lower() + label['en'][1:]}. " + help_text.get("en", "")}
    return {"label": label, "prompt": {lang: text.strip() for lang, text in prompt.items()},
            "input": question_input(field, facts, tables)}


def question_input(field: str, facts: dict[str, Any], tables: Tables) -> dict[str, Any]:
    if field in _INTEGER:
        return {"type": "integer", "unit": _INTEGER[field]}
    if field in _MONEY:
        return {"type": "number", "unit": "yuan"}
    if field == "founded_on":
        return {"type": "date"}
    if field in _ENUM:
        return {"type": "enum", "options": _options(field, _ENUM[field], tables)}
    if field in _LIST:
        return {"type": "list", "options": _options(field, _LIST[field], tables)}
    if field == "clusters":
        return {"type": "list", "options": _options("clusters", tuple(tables.clusters), tables)}
    if field == "region_code":
        known = facts.get("region")
        children = tables.region_children.get(known, ()) if known else ()
        return {"type": "region", "parent": known,
                "options": [{"value": code, "label": {lang: tables.region_name(code, lang) for lang in ("zh", "en")}}
                            for code in children]}
    if field == "industry_code":
        return {"type": "industry"}
    return {"type": "text"}


def _options(kind: str, values: tuple[str, ...], tables: Tables) -> list[dict[str, Any]]:
    return [{"value": value, "label": {lang: tables.label(kind, value, lang) for lang in ("zh", "en")}}
            for value in values]
