"""Which question to ask next: the missing fields ranked by how many needs_info answers they bear on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .evaluate import Decision
from .ruleset import NEEDS_INFO


@dataclass(frozen=True, slots=True)
class Question:
    field: str
    settles: int  # needs_info answers where this is the only missing field: answering it decides them
    bears_on: int  # needs_info answers that list this field among their missing fields
    policy_ids: tuple[str, ...]


def next_questions(decision: Decision, limit: int | None = None) -> list[Question]:
    """Missing fields, most useful first: those that alone settle the most answers, then those that
    bear on the most, then by the weight of the answers they share with fewer other fields."""
    bears_on: Counter[str] = Counter()
    settles: Counter[str] = Counter()
    weight: Counter[str] = Counter()
    policies: dict[str, list[str]] = {}
    for result in decision.evaluated:
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
    questions = [Question(field, settles[field], bears_on[field], tuple(policies[field])) for field in ranked]
    return questions[:limit] if limit is not None else questions
