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

import orjson

from .errors import ProfileDateError
from .expressions import Fact, Param, any_of_truths, deciding_leaves, names_in, near_miss
from .facts import RATIOS, SIZE_CLASSES, derive_facts, missing_inputs
from .formatting import field_labels, format_fact, format_number
from .profile import Profile
from .ruleset import (
    ELIGIBLE,
    INELIGIBLE,
    LANGUAGES,
    NEEDS_INFO,
    CompiledCriterion,
    Rule,
    RuleSet,
    Template,
    settled_by_sector,
)

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
_STATUS_ORDER = {ELIGIBLE: 0, NEEDS_INFO: 1, INELIGIBLE: 2}
_TRUTH_STATUS = {True: MET, False: NOT_MET, None: UNKNOWN}
PROFILE_FIELDS = tuple(Profile.model_fields)
DERIVED_FACTS = (
    "size_class", "industry_group", "above_designated_size", "above_quota", "designated_size_line",
    "rd_intensity", "rd_staff_share", "export_share", "main_business_share", "domestic_revenue",
    "company_age_years",
)
# Said after the explanation of a criterion whose verdict rests on a threshold of Huiqi's own.
PROVISIONAL = {
    "zh": "（此门槛为本系统的暂定假设，尚待主管部门确认。）",
    "en": " (This threshold is provisional: Huiqi's assumption, pending confirmation by the department.)",
}
# Bounds the rule set's memory of region criteria as answered (some 500 bytes each): the catalogue
# in 600 places, or 10,000 rules in 2.
REGION_CRITERIA_KEPT = 20_000
# Stands for the region criterion in a result kept as bytes around it (RuleResult.to_json): JSON as
# orjson writes it never holds a NUL byte (it escapes control characters).
_PLACE = b"\x00"
_OP_TEXT = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 3x slower, ~30 of them per answer
class CriterionOutcome:
    id: str
    status: str  # met | not_met | unknown
    explanation: dict[str, str]
    gaps: tuple[dict[str, Any], ...] = ()
    missing_fields: tuple[str, ...] = ()
    provisional: bool = False  # the verdict rests on a parameter with basis `assumption`
    already: bool = False  # not met because the firm already has what the measure leads to

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "status": self.status, "explanation": self.explanation}
        if self.gaps:
            data["gaps"] = list(self.gaps)
        if self.already:
            data["already"] = True
        return data


class Reading:
    """What every result of one evaluation shares: the company's facts, and how a reader sees them
    (`texts[lang][fact]`, each written on first use, however many explanations quote it)."""

    __slots__ = ("facts", "languages", "ruleset", "texts")

    def __init__(self, ruleset: RuleSet, facts: dict[str, Any], languages: tuple[str, ...] = LANGUAGES) -> None:
        self.ruleset = ruleset
        self.facts = facts
        self.languages = languages  # the answer's languages: both, or the one the reader asked for
        self.texts = {lang: _FactTexts(ruleset, facts, lang) for lang in languages}


class _FactTexts(dict[str, str]):
    """Fact name -> its value as a reader sees it in one language, written on first lookup."""

    __slots__ = ("_facts", "_lang", "_ruleset")

    def __init__(self, ruleset: RuleSet, facts: dict[str, Any], lang: str) -> None:
        super().__init__()
        self._ruleset, self._facts, self._lang = ruleset, facts, lang

    def __missing__(self, name: str) -> str:
        ruleset = self._ruleset
        text = self[name] = format_fact(ruleset.facts[name], self._facts.get(name), self._lang, ruleset.tables)
        return text


class RuleResult:
    """One rule's answer. Its criteria, gaps and missing fields are worked out on first use."""

    # Lazy attributes by hand: functools.cached_property takes a lock on first use (Python 3.11), and a
    # result is read once or twice per answer.
    __slots__ = ("_criteria", "_missing_fields", "_own", "_reading", "in_region", "rule", "status")

    def __init__(self, rule: Rule, status: str, reading: Reading, in_region: bool | None) -> None:
        self.rule = rule
        self.status = status
        self._reading = reading
        self.in_region = in_region
        self._criteria: tuple[CriterionOutcome, ...] | None = None
        self._own: tuple[CriterionOutcome, ...] | None = None
        self._missing_fields: tuple[str, ...] | None = None

    @property
    def policy_id(self) -> str:
        return self.rule.id

    @property
    def criteria(self) -> tuple[CriterionOutcome, ...]:
        """The region criterion first, then the rule's own (not evaluated outside the region)."""
        if self._criteria is None:
            self._criteria = (self._region_criterion(), *self._own_criteria)
        return self._criteria

    @property
    def _own_criteria(self) -> tuple[CriterionOutcome, ...]:
        if self._own is None:
            self._own = tuple(map(self._criterion, self.rule.criteria)) if self.in_region is not False else ()
        return self._own

    @property
    def missing_fields(self) -> tuple[str, ...]:
        if self._missing_fields is None:
            self._missing_fields = ()
            if self.status == NEEDS_INFO:
                wanted = {name for criterion in self._own_criteria for name in criterion.missing_fields}
                if self.in_region is None:
                    wanted.add("region_code")
                self._missing_fields = tuple(name for name in PROFILE_FIELDS if name in wanted)
        return self._missing_fields

    def to_json(self) -> tuple[bytes, bytes]:
        """The contract's result as JSON, and the same without the texts that depend only on the rule
        version (RESULT_TEXT_FIELDS), as the decision log keeps it. Written from parts kept once made:
        the rule's texts, its region criterion for this place and, for a rule whose region does not
        hold the company (most of an answer), everything around that criterion."""
        if self.in_region is not False:
            return self._joined(self._region_json())
        reading = self._reading
        kept, key = reading.ruleset.outside_results, (self.rule.id, reading.languages)
        parts = kept.get(key)
        if parts is None:  # the same for every company outside the rule's region, but for the place named
            sent, logged = (text.partition(_PLACE) for text in self._joined(_PLACE))
            parts = kept[key] = (sent[0], sent[2], logged[0], logged[2])
        sent_before, sent_after, logged_before, logged_after = parts
        region = self._region_json()
        return sent_before + region + sent_after, logged_before + region + logged_after

    def _joined(self, region: bytes) -> tuple[bytes, bytes]:
        title, actionable = self.rule.result_texts_json(self._reading.languages)
        dumps, own = orjson.dumps, self._own_criteria
        start = (b'{"policy_id":', dumps(self.rule.id), b',"status":', dumps(self.status))
        decided = (b',"criteria":[', region,
                   b"," + dumps([criterion.to_dict() for criterion in own])[1:-1] if own else b"",
                   b'],"missing_fields":', dumps(self.missing_fields), b',"rule_version":', dumps(self.rule.version))
        end = (b',"assumptions":', dumps(self.assumptions), b',"already":true}' if self.already else b',"already":false}')
        return (b"".join((*start, b',"title":', title, *decided, b",", actionable, *end)),
                b"".join((*start, *decided, *end)))

    @property
    def already(self) -> bool:
        """Ineligible only because the firm already has what the measure leads to: good news."""
        if self.status != INELIGIBLE or self.in_region is not True:
            return False
        unmet = [criterion for criterion in self._own_criteria if criterion.status == NOT_MET]
        return bool(unmet) and all(criterion.already for criterion in unmet)

    @property
    def assumptions(self) -> list[str]:
        """The criteria whose verdict rests on a threshold of Huiqi's own (basis `assumption`)."""
        return [criterion.id for criterion in self._own_criteria if criterion.provisional]

    def _region_json(self) -> bytes:
        reading = self._reading
        kept, key = reading.ruleset.region_criteria, (self.rule.id, reading.facts["region"], reading.languages)
        criterion = kept.get(key)
        if criterion is None:
            if len(kept) >= REGION_CRITERIA_KEPT:
                kept.clear()
            criterion = kept[key] = orjson.dumps(self._region_criterion().to_dict())
        return criterion

    # -- building the explanation ------------------------------------------------------------------

    def _region_criterion(self) -> CriterionOutcome:
        texts, scope = self._reading.texts, self.rule.scope_names
        zh, en = (texts[lang]["region"] if lang in texts else "" for lang in LANGUAGES)
        if self.in_region:
            explanation = {"zh": f"注册地{zh}属于本政策适用地区（{scope['zh']}）。",
                           "en": f"Registered in {en}, within the measure's region ({scope['en']})."}
        elif self.in_region is None:
            explanation = {
                "zh": f"注册地只知道在{zh}，本政策只适用于其中的{scope['zh']}：请补充下一级行政区划。",
                "en": f"Registered somewhere in {en}; the measure covers only {scope['en']} there: "
                      "please give the next level down (city or district).",
            }
            return CriterionOutcome("region", UNKNOWN, self._in_languages(explanation), missing_fields=("region_code",))
        else:
            explanation = {"zh": f"注册地{zh}不在本政策适用地区（{scope['zh']}）内。",
                           "en": f"Registered in {en}, outside the measure's region ({scope['en']})."}
        return CriterionOutcome("region", MET if self.in_region else NOT_MET, self._in_languages(explanation))

    def _in_languages(self, text: dict[str, str]) -> dict[str, str]:
        return {lang: text[lang] for lang in self._reading.languages}

    def _criterion(self, criterion: CompiledCriterion) -> CriterionOutcome:
        truth = criterion.evaluate(self._reading.facts)
        status = _TRUTH_STATUS[truth]
        missing: tuple[str, ...] = ()
        gaps: tuple[dict[str, Any], ...] = ()
        if truth is None:
            missing = self._missing(criterion)
        elif truth is False:
            gaps = self._gaps(criterion)
        if truth is False and settled_by_sector(criterion, self._reading.facts):
            return CriterionOutcome(criterion.id, status, self._in_languages(self._beyond_profile()), gaps)
        templates = criterion.explain[status]
        explanation = {lang: self._render(templates[lang], lang, missing) for lang in self._reading.languages}
        provisional = truth is not None and self._rests_on_assumption(criterion, truth)
        if provisional:
            explanation = {lang: text + PROVISIONAL[lang] for lang, text in explanation.items()}
        already = truth is False and criterion.definition.already_if_not_met
        return CriterionOutcome(criterion.id, status, explanation, () if already else gaps, missing, provisional,
                               already)

    def _rests_on_assumption(self, criterion: CompiledCriterion, truth: bool) -> bool:
        assumed = self.rule.assumed_params
        if not assumed or assumed.isdisjoint(criterion.param_names):
            return False
        return any(isinstance(operand, Param) and operand.name in assumed
                   for leaf, _ in self._leaves(criterion, truth) for operand in names_in(leaf))

    def _beyond_profile(self) -> dict[str, str]:
        """Why a criterion on 规上 status is answered not met in a sector where no figure decides it."""
        tables = self._reading.ruleset.tables
        line = tables.line_for(self._reading.facts["industry"])
        if line is None:
            return {"zh": "本行业没有规模以上（限额以上）统计标准，无法据企业信息认定为规上企业，按不符合处理。",
                    "en": "This sector has no above-designated-size (above-quota) statistical line, so no "
                          "figure of the company can make it one: treated as not met."}
        return {"zh": f"本行业按{line.name['zh']}的口径纳入规上统计，不看营业收入，无法据所填信息判断，按不符合处理；"
                      "如已纳入统计，请向当地统计部门确认。",
                "en": f"This sector counts as above designated size by another measure than revenue "
                      f"({line.name['en']}), which no figure here can show: treated as not met. A firm "
                      "already in the statistics can confirm it with the local statistics bureau."}

    def _leaves(self, criterion: CompiledCriterion, want: bool | None) -> list[tuple[Any, bool]]:
        return deciding_leaves(criterion.node, self._reading.facts, criterion.subtrees, want)

    def _missing(self, criterion: CompiledCriterion) -> tuple[str, ...]:
        facts, tables, fields = self._reading.facts, self._reading.ruleset.tables, []
        for leaf, _ in self._leaves(criterion, None):
            for operand in _facts_of(leaf):
                value = facts.get(operand)
                if value is None or isinstance(value, frozenset):  # unknown, or known only in part
                    fields.extend(missing_inputs(operand, facts, tables))
        return tuple(dict.fromkeys(fields))

    def _gaps(self, criterion: CompiledCriterion) -> tuple[dict[str, Any], ...]:
        """What it would take: the minimums to reach, where reaching them would meet the criterion."""
        found = near_miss(criterion.node, self._reading.facts, criterion.subtrees, self.rule.params)
        if found is None:
            return ()
        return tuple(
            self._gap(leaf.left.name, leaf.op, self.rule.params[leaf.right.name].value)  # type: ignore[union-attr]
            for leaf in found[1]
            if self._reading.ruleset.facts[leaf.left.name].kind == "number"  # type: ignore[union-attr]
        )

    def _gap(self, fact: str, op: str, required: float) -> dict[str, Any]:
        reading = self._reading
        facts, tables, specs = reading.facts, reading.ruleset.tables, reading.ruleset.facts
        unit, actual = specs[fact].unit, facts.get(fact)
        text = {}
        for lang in reading.languages:
            label = _mid_sentence(tables.label("fields", fact, lang), lang)
            need, has = format_number(required, unit, lang), reading.texts[lang][fact]
            if lang == "zh":
                text[lang] = f"需要{label}{_OP_TEXT[op]}{need}；目前为{has}"
            else:
                text[lang] = f"needs {label} {_OP_TEXT[op]} {need}; has {has}"
        gap: dict[str, Any] = {"fact": fact, "op": op, "required": required, "actual": actual}
        if fact in RATIOS:
            numerator, denominator = RATIOS[fact]
            base = facts.get(denominator)
            if base:
                needed = required * base
                gap.update(field=numerator, field_required=needed, field_actual=facts.get(numerator))
                numerator_unit = specs[numerator].unit
                for lang in reading.languages:
                    label = _mid_sentence(tables.label("fields", numerator, lang), lang)
                    amount = format_number(needed, numerator_unit, lang)
                    text[lang] += f"（即{label}{_OP_TEXT[op]}{amount}）" if lang == "zh" else f" (that is {label} {_OP_TEXT[op]} {amount})"
        gap["text"] = text
        return gap

    def _render(self, template: Template, lang: str, missing: tuple[str, ...]) -> str:
        texts: dict[str, str] = self._reading.texts[lang]
        if "missing" in template.names:  # an `unknown` text: the fields that would settle it
            texts = {name: texts[name] for name in template.names if name != "missing"}
            texts["missing"] = field_labels(list(missing), lang, self._reading.ruleset.tables)
        return template.render(texts)


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


class Evaluation:
    """The answer for one profile on one date: a result for every rule in force."""

    def __init__(self, reading: Reading, as_of: date, evaluated: list[RuleResult]) -> None:
        self.ruleset = reading.ruleset
        self.as_of = as_of
        self.facts = reading.facts
        self._reading = reading
        self._evaluated = evaluated

    @cached_property
    def results(self) -> list[RuleResult]:
        """Every rule in force, eligible first, then needs_info, then ineligible; by id within each."""
        candidates = {rule for rule, _ in self.ruleset.candidates(self.facts["region"])}
        outside = [RuleResult(rule, INELIGIBLE, self._reading, in_region=False)
                   for rule in self.ruleset.in_force_on(self.as_of) if rule not in candidates]
        return sorted(self._evaluated + outside, key=lambda result: (_STATUS_ORDER[result.status], result.rule.id))

    @property
    def evaluated(self) -> list[RuleResult]:
        """The results of the rules whose region holds the company (the others are ineligible on region)."""
        return self._evaluated

    @property
    def derived_facts(self) -> dict[str, Any]:
        """The derived facts as the engine knows them (a size class may be a set of possible ones)."""
        return {name: self.facts.get(name) for name in DERIVED_FACTS}

    @property
    def derived(self) -> dict[str, Any]:
        """The derived facts as the contract shows them: a size class the figures settle only in part
        is null, with the classes still open in `size_class_possible`; age in whole years."""
        derived = self.derived_facts
        size = derived["size_class"]
        derived["size_class_possible"] = None if size is None else \
            [value for value in SIZE_CLASSES if value == size or (isinstance(size, frozenset) and value in size)]
        if isinstance(size, frozenset):
            derived["size_class"] = None
        age = derived["company_age_years"]
        if age is not None:
            derived["company_age_years"] = int(age)
        return derived

    def result(self, policy_id: str) -> RuleResult:
        return next(result for result in self.results if result.rule.id == policy_id)

    @property
    def local_results(self) -> list[RuleResult]:
        """The results of the rules whose region holds, or may hold, the company: `scope=local`."""
        return sorted(self._evaluated, key=lambda result: (_STATUS_ORDER[result.status], result.rule.id))

    def results_in(self, scope: str) -> list[RuleResult]:
        """Every policy in force (`scope="all"`), or only those whose region holds or may hold the
        company (`scope="local"`)."""
        if scope == "all":
            return self.results
        if scope == "local":
            return self.local_results
        raise ValueError(f"unknown scope {scope!r}: 'all' or 'local'")

    def to_json(self, scope: str = "all", members: dict[str, Any] | None = None) -> tuple[bytes, bytes]:
        """The public contract's answer for `scope` as JSON, with `members` after its results; and the
        same without each result's rule-version texts, as the decision log keeps it (RuleResult.to_json)."""
        head = orjson.dumps({"ruleset": {"version": self.ruleset.version, "as_of": self.as_of.isoformat()},
                             "derived": self.derived})[:-1] + b',"results":['
        tail = b"]" + (b"," + orjson.dumps(members)[1:] if members else b"}")
        results = [result.to_json() for result in self.results_in(scope)]
        return (head + b",".join(sent for sent, _ in results) + tail,
                head + b",".join(kept for _, kept in results) + tail)


def check_founding(profile: Profile, as_of: date) -> None:
    """A company cannot be evaluated on a date before it was founded: its age would be negative and the
    measures of that day were never open to it. Raises ProfileDateError naming `founded_on`."""
    if profile.founded_on is not None and profile.founded_on > as_of:
        raise ProfileDateError("founded_on", f"the company was founded on {profile.founded_on.isoformat()}, "
                                             f"after the evaluation date {as_of.isoformat()}")


def evaluate(ruleset: RuleSet, profile: Profile | dict[str, Any], *, as_of: date,
             languages: tuple[str, ...] = LANGUAGES) -> Evaluation:
    """Decide every rule in force on `as_of` for one profile; its texts in `languages` (both, or one:
    an answer in one language is not the bilingual one cut down, it is written in that one only)."""
    if not isinstance(profile, Profile):
        profile = Profile.model_validate(profile)
    check_founding(profile, as_of)
    reading = Reading(ruleset, derive_facts(profile.values(), as_of, ruleset.tables), languages)
    evaluated = [
        RuleResult(rule, rule.decide(reading.facts, in_region), reading, in_region=in_region)
        for rule, in_region in ruleset.candidates(profile.region_code)
        if rule.definition.validity is None or rule.in_force(as_of)
    ]
    return Evaluation(reading, as_of, evaluated)


def evaluate_rule(ruleset: RuleSet, rule: Rule, profile: Profile, *, as_of: date) -> RuleResult:
    """One rule's answer for one profile (worked examples, draft rules)."""
    check_founding(profile, as_of)
    reading = Reading(ruleset, derive_facts(profile.values(), as_of, ruleset.tables))
    relation = ruleset.tables.region_within
    in_region = any_of_truths(relation(profile.region_code, area) for area in rule.definition.region)
    status = rule.decide(reading.facts, in_region) if in_region is not False else INELIGIBLE
    return RuleResult(rule, status, reading, in_region=in_region)
