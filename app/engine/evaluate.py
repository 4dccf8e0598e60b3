"""Evaluating a profile against a rule set: a decision per rule in force, criterion by criterion,
with bilingual explanations, the missing fields of each needs_info answer and the gap of each near miss.

The fast path decides every rule's status; explanations, gaps and missing fields are built only when
a result is read, and the rules outside the company's region are answered `ineligible` on their
region criterion without evaluating anything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from .expressions import Fact, deciding_leaves, near_miss
from .facts import RATIOS, derive_facts, missing_inputs
from .formatting import field_labels, format_fact, format_number
from .profile import Profile
from .ruleset import ELIGIBLE, INELIGIBLE, NEEDS_INFO, CompiledCriterion, Rule, RuleSet, PLACEHOLDER

LANGUAGES = ("zh", "en")
MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
_STATUS_ORDER = {ELIGIBLE: 0, NEEDS_INFO: 1, INELIGIBLE: 2}
_TRUTH_STATUS = {True: MET, False: NOT_MET, None: UNKNOWN}
PROFILE_FIELDS = tuple(Profile.model_fields)
DERIVED_FACTS = (
    "size_class", "industry_group", "above_designated_size", "above_quota", "designated_size_line",
    "rd_intensity", "rd_staff_share", "export_share", "main_business_share", "domestic_revenue",
    "company_age_years",
)
_OP_TEXT = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}


@dataclass(frozen=True, slots=True)
class CriterionResult:
    id: str
    status: str  # met | not_met | unknown
    explanation: dict[str, str]
    gaps: tuple[dict[str, Any], ...] = ()
    missing_fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "status": self.status, "explanation": self.explanation}
        if self.gaps:
            data["gaps"] = list(self.gaps)
        return data


class RuleResult:
    """One rule's answer. Its criteria, gaps and missing fields are worked out on first use."""

    def __init__(self, rule: Rule, status: str, facts: dict[str, Any], ruleset: RuleSet, in_region: bool) -> None:
        self.rule = rule
        self.status = status
        self._facts = facts
        self._ruleset = ruleset
        self.in_region = in_region

    @property
    def policy_id(self) -> str:
        return self.rule.id

    @cached_property
    def criteria(self) -> tuple[CriterionResult, ...]:
        region = self._region_criterion()
        if not self.in_region:
            return (region,)
        return (region, *(self._criterion(criterion) for criterion in self.rule.criteria))

    @cached_property
    def missing_fields(self) -> tuple[str, ...]:
        if self.status != NEEDS_INFO:
            return ()
        wanted = {name for criterion in self.criteria for name in criterion.missing_fields}
        return tuple(name for name in PROFILE_FIELDS if name in wanted)

    def to_dict(self) -> dict[str, Any]:
        criteria = self.criteria if self.in_region else (self._region_criterion(),)
        return {
            "policy_id": self.rule.id,
            "status": self.status,
            "title": self.rule.title,
            "criteria": [criterion.to_dict() for criterion in criteria],
            "missing_fields": list(self.missing_fields) if self.status == NEEDS_INFO else [],
            "rule_version": self.rule.version,
        }

    # -- building the explanation ------------------------------------------------------------------

    def _region_criterion(self) -> CriterionResult:
        tables, code = self._ruleset.tables, self._facts["region"]
        place = {lang: tables.region_name(code, lang) for lang in LANGUAGES}
        scope = self._ruleset.scope_names(self.rule)
        if self.in_region:
            explanation = {"zh": f"注册地{place['zh']}属于本政策适用地区（{scope['zh']}）。",
                           "en": f"Registered in {place['en']}, within the measure's region ({scope['en']})."}
        else:
            explanation = {"zh": f"注册地{place['zh']}不在本政策适用地区（{scope['zh']}）内。",
                           "en": f"Registered in {place['en']}, outside the measure's region ({scope['en']})."}
        return CriterionResult("region", MET if self.in_region else NOT_MET, explanation)

    def _criterion(self, criterion: CompiledCriterion) -> CriterionResult:
        truth = criterion.evaluate(self._facts)
        status = _TRUTH_STATUS[truth]
        missing: tuple[str, ...] = ()
        gaps: tuple[dict[str, Any], ...] = ()
        if truth is None:
            missing = self._missing(criterion)
        elif truth is False:
            gaps = self._gaps(criterion)
        template = getattr(criterion.definition.explain, status)
        explanation = {lang: self._render(getattr(template, lang), lang, missing) for lang in LANGUAGES}
        return CriterionResult(criterion.id, status, explanation, gaps, missing)

    def _leaves(self, criterion: CompiledCriterion, want: bool | None) -> list[tuple[Any, bool]]:
        return deciding_leaves(criterion.node, self._facts, criterion.subtrees, want)

    def _missing(self, criterion: CompiledCriterion) -> tuple[str, ...]:
        tables, fields = self._ruleset.tables, []
        for leaf, _ in self._leaves(criterion, None):
            for operand in _facts_of(leaf):
                if self._facts.get(operand) is None:
                    fields.extend(missing_inputs(operand, self._facts, tables))
        return tuple(dict.fromkeys(fields))

    def _gaps(self, criterion: CompiledCriterion) -> tuple[dict[str, Any], ...]:
        """What it would take: the minimums to reach, where reaching them would meet the criterion."""
        found = near_miss(criterion.node, self._facts, criterion.subtrees, self.rule.params)
        if found is None:
            return ()
        return tuple(
            self._gap(leaf.left.name, leaf.op, self.rule.params[leaf.right.name].value)  # type: ignore[union-attr]
            for leaf in found[1]
            if self._ruleset.facts[leaf.left.name].kind == "number"  # type: ignore[union-attr]
        )

    def _gap(self, fact: str, op: str, required: float) -> dict[str, Any]:
        tables, specs = self._ruleset.tables, self._ruleset.facts
        unit, actual = specs[fact].unit, self._facts.get(fact)
        text = {}
        for lang in LANGUAGES:
            label = _mid_sentence(tables.label("fields", fact, lang), lang)
            need, has = format_number(required, unit, lang), format_fact(specs[fact], actual, lang, tables)
            if lang == "zh":
                text[lang] = f"需要{label}{_OP_TEXT[op]}{need}；目前为{has}"
            else:
                text[lang] = f"needs {label} {_OP_TEXT[op]} {need}; has {has}"
        gap: dict[str, Any] = {"fact": fact, "op": op, "required": required, "actual": actual}
        if fact in RATIOS:
            numerator, denominator = RATIOS[fact]
            base = self._facts.get(denominator)
            if base:
                needed = required * base
                gap.update(field=numerator, field_required=needed, field_actual=self._facts.get(numerator))
                numerator_unit = specs[numerator].unit
                for lang in LANGUAGES:
                    label = _mid_sentence(tables.label("fields", numerator, lang), lang)
                    amount = format_number(needed, numerator_unit, lang)
                    text[lang] += f"（即{label}{_OP_TEXT[op]}{amount}）" if lang == "zh" else f" (that is {label} {_OP_TEXT[op]} {amount})"
        gap["text"] = text
        return gap

    def _render(self, template: str, lang: str, missing: tuple[str, ...]) -> str:
        tables, specs, params = self._ruleset.tables, self._ruleset.facts, self.rule.params

        def value(match: Any) -> str:
            name = match.group(1)
            if name == "missing":
                return field_labels(list(missing), lang, tables)
            if name in params:
                return self._ruleset.parameter_text(self.rule, name, lang)
            return format_fact(specs[name], self._facts.get(name), lang, tables)

        return PLACEHOLDER.sub(value, template)


def _mid_sentence(label: str, lang: str) -> str:
    """An English label inside a sentence: "export share", but "R&D expense" keeps its acronym."""
    first_word = label.split(" ", 1)[0]
    if lang == "en" and first_word[:1].isupper() and first_word[1:].islower():
        return label[0].lower() + label[1:]
    return label


def _facts_of(leaf: Any) -> Iterator[str]:
    for name in ("left", "right", "item", "container", "fact"):
        operand = getattr(leaf, name, None)
        if isinstance(operand, Fact):
            yield operand.name


class Decision:
    """The answer for one profile on one date: a result for every rule in force."""

    def __init__(self, ruleset: RuleSet, as_of: date, facts: dict[str, Any], evaluated: list[RuleResult]) -> None:
        self.ruleset = ruleset
        self.as_of = as_of
        self.facts = facts
        self._evaluated = evaluated

    @cached_property
    def results(self) -> list[RuleResult]:
        """Every rule in force, eligible first, then needs_info, then ineligible; by id within each."""
        evaluated_ids = {result.rule.id for result in self._evaluated}
        outside = [
            RuleResult(rule, INELIGIBLE, self.facts, self.ruleset, in_region=False)
            for rule in self.ruleset.rules.values()
            if rule.id not in evaluated_ids and rule.in_force(self.as_of)
        ]
        return sorted(self._evaluated + outside, key=lambda result: (_STATUS_ORDER[result.status], result.rule.id))

    @property
    def evaluated(self) -> list[RuleResult]:
        """The results of the rules whose region holds the company (the others are ineligible on region)."""
        return self._evaluated

    @property
    def derived(self) -> dict[str, Any]:
        return {name: self.facts.get(name) for name in DERIVED_FACTS}

    @property
    def rule_versions(self) -> dict[str, str]:
        return {result.rule.id: result.rule.version for result in self.results}

    def result(self, policy_id: str) -> RuleResult:
        return next(result for result in self.results if result.rule.id == policy_id)

    def to_dict(self) -> dict[str, Any]:
        """The public contract's answer."""
        return {
            "ruleset": {"version": self.ruleset.version, "as_of": self.as_of.isoformat()},
            "derived": self.derived,
            "results": [result.to_dict() for result in self.results],
        }


def evaluate(ruleset: RuleSet, profile: Profile | dict[str, Any], *, as_of: date) -> Decision:
    """Decide every rule in force on `as_of` for one profile."""
    if not isinstance(profile, Profile):
        profile = Profile.model_validate(profile)
    facts = derive_facts(profile.values(), as_of, ruleset.tables)
    evaluated = [
        RuleResult(rule, rule.decide(facts), facts, ruleset, in_region=True)
        for rule in ruleset.candidates(profile.region_code)
        if rule.definition.validity is None or rule.in_force(as_of)
    ]
    return Decision(ruleset, as_of, facts, evaluated)


def evaluate_rule(ruleset: RuleSet, rule: Rule, profile: Profile, *, as_of: date) -> RuleResult:
    """One rule's answer for one profile (worked examples, draft rules)."""
    facts = derive_facts(profile.values(), as_of, ruleset.tables)
    in_region = any(code in ruleset.tables.region_ancestors.get(profile.region_code, ())
                    for code in rule.definition.region)
    status = rule.decide(facts) if in_region else INELIGIBLE
    return RuleResult(rule, status, facts, ruleset, in_region=in_region)
