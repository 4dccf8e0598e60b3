"""Running a rule's worked examples: each profile must get the status (and criterion statuses, and
missing fields) the file says it must."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from .evaluate import evaluate_rule
from .profile import Profile
from .ruleset import Rule, RuleSet
from .schema import STATUSES, Example


@dataclass(frozen=True, slots=True)
class ExampleOutcome:
    rule_id: str
    index: int
    example: Example
    problems: tuple[str, ...]  # empty when the example passes
    status: str | None  # what the engine answered

    @property
    def passed(self) -> bool:
        return not self.problems


def run_example(ruleset: RuleSet, rule: Rule, index: int, example: Example) -> ExampleOutcome:
    try:
        profile = Profile.model_validate(example.profile)
    except ValidationError as exc:
        reasons = tuple(
            f"profile.{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        return ExampleOutcome(rule.id, index, example, reasons, None)
    if not rule.in_force(example.as_of):
        return ExampleOutcome(rule.id, index, example, (f"the rule is not in force on {example.as_of}",), None)
    result = evaluate_rule(ruleset, rule, profile, as_of=example.as_of)
    problems = []
    if result.status != example.expect:
        problems.append(f"expected {example.expect}, got {result.status}")
    statuses = {criterion.id: criterion.status for criterion in result.criteria}
    for criterion_id, expected in example.criteria.items():
        if criterion_id not in statuses:
            known = ", ".join(statuses)
            problems.append(f"criterion {criterion_id!r} is not among this result's criteria ({known})")
        elif statuses[criterion_id] != expected:
            problems.append(f"criterion {criterion_id!r}: expected {expected}, got {statuses[criterion_id]}")
    if example.missing_fields is not None:
        absent = [field for field in example.missing_fields if field not in result.missing_fields]
        if absent:
            problems.append(f"missing_fields should include {absent}; got {list(result.missing_fields)}")
    return ExampleOutcome(rule.id, index, example, tuple(problems), result.status)


def run_examples(ruleset: RuleSet, rule: Rule) -> list[ExampleOutcome]:
    return [run_example(ruleset, rule, index, example) for index, example in enumerate(rule.definition.examples)]


def coverage_problems(rule: Rule) -> list[str]:
    """What a rule's examples fail to cover: every outcome at least once."""
    seen = {example.expect for example in rule.definition.examples}
    return [f"no {status} example" for status in STATUSES if status not in seen]
