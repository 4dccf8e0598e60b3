"""Loading rule files into a compiled, versioned rule set, indexed by region.

A rule's version is the hash of its file; the rule set's version is the hash of every rule file and
every standards table, so two processes that answer with the same version decided with the same rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from .errors import ExpressionError, RuleFileError, RuleSetError
from .expressions import (
    Compare,
    Evaluator,
    Fact,
    Node,
    Param,
    ParamSpec,
    check,
    compile_node,
    leaves,
    names_in,
    parse,
)
from .facts import UNSETTLEABLE_FACTS, FactSpec, fact_specs, unsettleable
from .formatting import format_parameter, format_regions
from .schema import Criterion, RuleDefinition
from .tables import Tables, load_tables
from .yamlfile import line_of, load_yaml

ELIGIBLE, NEEDS_INFO, INELIGIBLE = "eligible", "needs_info", "ineligible"
LANGUAGES = ("zh", "en")
STATES = ("met", "not_met", "unknown")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
SOURCES_DIR = "sources"


def in_language(value: Any, lang: str) -> Any:
    """`value` with one language's texts: every {"zh": …, "en": …} keeps only `lang`."""
    if isinstance(value, dict):
        if "zh" in value and "en" in value:
            other = "en" if lang == "zh" else "zh"
            return {key: in_language(item, lang) for key, item in value.items() if key != other}
        return {key: in_language(item, lang) for key, item in value.items()}
    if isinstance(value, list):
        return [in_language(item, lang) for item in value]
    return value


# Bounds RuleSet.in_force_on's memory: a date per day of the years an API is asked about.
IN_FORCE_DATES_KEPT = 4_000
# The fields of a result that depend only on the rule version (Rule.result_texts_in).
RESULT_TEXT_FIELDS = ("title", "kind", "benefit", "how_to_apply", "validity", "document")

@dataclass(frozen=True, slots=True)
class Template:
    """An explanation text compiled once into a `str.format_map` string: the parameters' values are
    written in, and only `{fact}` fields (and `{missing}`) are left to fill in for each company."""

    text: str
    names: tuple[str, ...]

    @classmethod
    def compile(cls, text: str, parameter_text: Callable[[str], str | None]) -> Template:
        pieces = PLACEHOLDER.split(text)  # literal, name, literal, …

        def literal(piece: str) -> str:
            return piece.replace("{", "{{").replace("}", "}}")

        out, names = [literal(pieces[0])], []
        for name, after in zip(pieces[1::2], pieces[2::2], strict=True):
            written = parameter_text(name)
            if written is None:
                names.append(name)
                out.append("{" + name + "}")
            else:
                out.append(literal(written))
            out.append(literal(after))
        return cls("".join(out), tuple(names))

    def render(self, texts: Mapping[str, str]) -> str:
        """The text with each `{name}` replaced by `texts[name]`."""
        return self.text.format_map(texts)


@dataclass(frozen=True, slots=True)
class CompiledCriterion:
    id: str
    when: str
    node: Node
    evaluate: Evaluator
    definition: Criterion
    subtrees: dict[int, Evaluator]  # id(sub-tree) -> its closure, to explain without recompiling
    explain: Mapping[str, Mapping[str, Template]]  # state (met, not_met, unknown) -> language -> text
    # The parameters it names: whether any is an assumption is asked of every answer.
    param_names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = frozenset(operand.name for operand in names_in(self.node) if isinstance(operand, Param))
        object.__setattr__(self, "param_names", names)


@dataclass(frozen=True, eq=False)
class Rule:
    """One measure: its file, its version and its compiled criteria."""

    id: str
    file_name: str
    source_text: str
    version: str
    definition: RuleDefinition
    criteria: tuple[CompiledCriterion, ...]
    params: Mapping[str, ParamSpec]
    scope_names: Mapping[str, str]  # language -> the places it covers, as a reader sees them

    def in_force(self, as_of: date) -> bool:
        return self.definition.in_force(as_of)

    @cached_property
    def title(self) -> dict[str, str]:
        return self.definition.title.model_dump()

    @cached_property
    def actionable(self) -> dict[str, Any]:
        """What a business needs to act on an answer, as the contract gives it with every result: the
        measure's kind, its benefit and amount, how to apply, its validity and its document."""
        d = self.definition
        benefit, apply, validity, document = d.benefit, d.how_to_apply, d.validity, d.document
        return {
            "kind": d.kind,
            "benefit": {
                "kind": benefit.kind,
                "summary": benefit.summary.model_dump(),
                "amount": benefit.amount.model_dump() if benefit.amount else None,
                "amount_stated": benefit.amount_stated,
            },
            "how_to_apply": None if apply is None else {
                "zh": apply.zh, "en": apply.en,
                "department": apply.department.model_dump() if apply.department else None,
                "url": apply.url,
            },
            "validity": {
                "from": _iso(validity.from_ if validity else None), "to": _iso(validity.to if validity else None),
                "stated": bool(validity and validity.stated),
            },
            "document": {"title": document.title.model_dump(), "number": document.number,
                         "issued_on": _iso(document.issued_on), "url": document.url},
        }

    def result_texts_in(self, languages: tuple[str, ...]) -> tuple[dict[str, str], dict[str, Any]]:
        """What every result of this rule version carries unchanged, whatever the profile: its title and
        the actionable fields (RESULT_TEXT_FIELDS), in these languages (both, or one), kept once made.
        The decision log keeps them once, with the rule's text, instead of with every decision."""
        made = self._texts_by_languages.get(languages)
        if made is None:
            one = languages != LANGUAGES
            made = ((in_language(self.title, languages[0]), in_language(self.actionable, languages[0])) if one
                    else (self.title, self.actionable))
            self._texts_by_languages[languages] = made
        return made

    def result_texts_json(self, languages: tuple[str, ...]) -> tuple[bytes, bytes]:
        """`result_texts_in` as JSON, kept once made: the title, and the actionable fields as the members
        of an object (`"kind":…,"document":{…}`), to be written into a result as they are."""
        made = self._texts_json_by_languages.get(languages)
        if made is None:
            title, actionable = self.result_texts_in(languages)
            made = self._texts_json_by_languages[languages] = (orjson.dumps(title), orjson.dumps(actionable)[1:-1])
        return made

    @cached_property
    def _texts_json_by_languages(self) -> dict[tuple[str, ...], tuple[bytes, bytes]]:
        return {}

    @cached_property
    def _texts_by_languages(self) -> dict[tuple[str, ...], tuple[dict[str, str], dict[str, Any]]]:
        return {}

    @cached_property
    def assumed_params(self) -> frozenset[str]:
        """The parameters that are Huiqi's assumptions, not law (basis `assumption`)."""
        return frozenset(name for name, parameter in self.definition.parameters.items()
                         if parameter.basis == "assumption")

    def decide(self, facts: Mapping[str, Any], in_region: bool | None) -> str:
        """The rule's status for facts of a company in its region, or that may be (`in_region` None:
        registered in a larger area that holds the rule's)."""
        status = ELIGIBLE if in_region else NEEDS_INFO
        for criterion in self.criteria:
            value = criterion.evaluate(facts)
            if value is False:
                return INELIGIBLE
            if value is None:
                status = NEEDS_INFO
        return status


@dataclass(eq=False)
class RuleSet:
    """Every rule, compiled once, with an index from region code to the rules that cover it."""

    rules: dict[str, Rule]
    version: str
    tables: Tables
    facts: dict[str, FactSpec]
    _by_region: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    _below_region: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    _candidates: dict[str, tuple[tuple[Rule, bool | None], ...]] = field(default_factory=dict)
    # Kept by evaluate.py: each rule's region criterion as answered, which depends only on the rule
    # and the company's region code and the answer's languages.
    region_criteria: dict[tuple[str, str, tuple[str, ...]], bytes] = field(default_factory=dict, repr=False)
    # Kept by evaluate.py: the result of a rule for a company outside its region, as JSON around its
    # region criterion, per rule and languages.
    outside_results: dict[tuple[str, tuple[str, ...]], tuple[bytes, bytes, bytes, bytes]] = field(
        default_factory=dict, repr=False)
    _in_force: dict[date, tuple[Rule, ...]] = field(default_factory=dict, repr=False)
    # Kept by examples.run_examples: each rule's worked examples as run with this rule set (they never
    # change within one), so a page that shows them does not run them again.
    example_outcomes: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_region: dict[str, list[Rule]] = {}
        below_region: dict[str, dict[str, Rule]] = {}
        for rule in self.rules.values():
            for code in dict.fromkeys(rule.definition.region):
                by_region.setdefault(code, []).append(rule)
                for ancestor in self.tables.region_ancestors.get(code, ()):
                    if ancestor != code:
                        below_region.setdefault(ancestor, {})[rule.id] = rule
        self._by_region = {code: tuple(rules) for code, rules in by_region.items()}
        self._below_region = {code: tuple(rules.values()) for code, rules in below_region.items()}

    def in_force_on(self, as_of: date) -> tuple[Rule, ...]:
        """The rules in force on `as_of`, kept per date (every answer asks; the dates asked are few)."""
        found = self._in_force.get(as_of)
        if found is None:
            if len(self._in_force) >= IN_FORCE_DATES_KEPT:
                self._in_force.clear()
            found = self._in_force[as_of] = tuple(rule for rule in self.rules.values() if rule.in_force(as_of))
        return found

    @cached_property
    def covered_regions(self) -> tuple[str, ...]:
        """The broadest regions the rules cover (a province rather than its cities), in code order."""
        codes = sorted({code for rule in self.rules.values() for code in rule.definition.region})
        return tuple(code for code in codes
                     if not any(other != code and other in self.tables.region_ancestors.get(code, ())
                                for other in codes))

    def candidates(self, region_code: str) -> tuple[tuple[Rule, bool | None], ...]:
        """The rules worth evaluating for a company registered at `region_code`, each with whether the
        company is in its region: True when the rule's region holds the code, None (unknown) when the
        code is a larger area that holds part of the rule's region. Every other rule is answered
        `ineligible` on its region alone."""
        cached = self._candidates.get(region_code)
        if cached is None:
            ancestors = self.tables.region_ancestors.get(region_code, frozenset((region_code,)))
            found: dict[str, tuple[Rule, bool | None]] = {
                rule.id: (rule, None) for rule in self._below_region.get(region_code, ())
            }
            found.update((rule.id, (rule, True)) for code in ancestors for rule in self._by_region.get(code, ()))
            cached = tuple(found[rule_id] for rule_id in sorted(found))
            self._candidates[region_code] = cached
        return cached


_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_STRAY_SPACE = re.compile(rf"(?<={_CJK}) +| +(?={_CJK})")
_ASCII_QUOTE = re.compile(r"[\"']")
_FULL_WIDTH_PUNCTUATION = re.compile(r"[，。；：（）！？、“”‘’]")


def typography_problems(data: Any, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Texts as a reader expects them (issue: answers a business can act on): Chinese without stray spaces
    beside Chinese characters or ASCII quotes, English without full-width punctuation."""
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*loc, key)
            if key == "zh" and isinstance(value, str):
                if stray := _STRAY_SPACE.search(value):
                    found.append((here, (f"{'.'.join(map(str, here))}: a space beside Chinese text "
                                         f"({value[max(0, stray.start() - 6):][:14]!r})")))
                if _ASCII_QUOTE.search(value):
                    found.append((here, f"{'.'.join(map(str, here))}: ASCII quotes in Chinese text: use “” or ‘’"))
            elif key == "en" and isinstance(value, str):
                match = _FULL_WIDTH_PUNCTUATION.search(value)
                if match:
                    found.append((here, f"{'.'.join(map(str, here))}: full-width {match.group()!r} in English text"))
            elif key not in ("provenance", "examples"):  # quotes are verbatim; examples are data
                found.extend(typography_problems(value, here))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(typography_problems(item, (*loc, index)))
    return found


def _age_problems(node: Node, params: Mapping[str, ParamSpec]) -> list[str]:
    """Ages are compared by date (a whole number of years before the evaluation date), on the Python
    and the SQL path alike, so a parameter compared with company_age_years is a whole number."""
    return [
        f"{leaf.right.name} ({params[leaf.right.name].value}) is compared with company_age_years: "
        "give a whole number of years"
        for leaf in leaves(node)
        if isinstance(leaf, Compare) and isinstance(leaf.left, Fact) and leaf.left.name == "company_age_years"
        and isinstance(leaf.right, Param) and float(params[leaf.right.name].value) % 1
    ]


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _settled_by_sector(evaluator: Evaluator, names: list[str]) -> Evaluator:
    """A criterion that no profile field could settle, because the company's sector leaves a fact
    beyond what a profile tells (规上 status in construction or finance), is answered not met rather
    than left waiting for an answer that cannot come. It is so only when the other facts are settled
    enough that the sector's fact alone keeps it open: both of its values give a definite answer."""

    def settled(facts: Mapping[str, Any]) -> bool | None:
        value = evaluator(facts)
        if (value is None and unsettleable(facts)  # type: ignore[arg-type]
                and all(evaluator({**facts, **dict.fromkeys(names, truth)}) is not None for truth in (True, False))):
            return False
        return value

    return settled


def settled_by_sector(criterion: CompiledCriterion, facts: Mapping[str, Any]) -> bool:
    """Whether the criterion is not met only because the sector leaves it beyond any profile."""
    return criterion.subtrees[id(criterion.node)](facts) is None and criterion.evaluate(facts) is False


def file_version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_ruleset(rules_dir: Path) -> RuleSet:
    """Load every `*.yaml` in `rules_dir`; quotes are checked against `rules_dir/sources/`."""
    files = {path.name: path.read_text(encoding="utf-8") for path in sorted(rules_dir.glob("*.yaml"))}
    sources_dir = rules_dir / SOURCES_DIR
    sources = {path.name: path.read_text(encoding="utf-8") for path in sorted(sources_dir.glob("*.txt"))}
    return build_ruleset(files, sources=sources, display_dir=str(rules_dir))


def build_ruleset(files: Mapping[str, str], *, sources: Mapping[str, str] | None = None,
                  display_dir: str = "rules", tables: Tables | None = None) -> RuleSet:
    """Compile rule files given as {file name: YAML text}. Raises RuleSetError listing every problem."""
    tables = tables or load_tables()
    specs = fact_specs(tables)
    rules: dict[str, Rule] = {}
    errors: list[RuleFileError] = []
    for name in sorted(files):
        try:
            rule = compile_rule(files[name], name, tables=tables, specs=specs, sources=sources,
                                display_path=f"{display_dir}/{name}")
        except RuleSetError as exc:
            errors.extend(exc.errors)
            continue
        rules[rule.id] = rule  # ids are unique: each must equal its file's name
    if errors:
        raise RuleSetError(errors)
    if not rules:
        raise RuleSetError([RuleFileError(display_dir, None, "no rule files (*.yaml) found")])
    digest = hashlib.sha256(tables.version.encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode("utf-8"))
    return RuleSet(rules=dict(sorted(rules.items())), version=digest.hexdigest()[:16], tables=tables, facts=specs)


def compile_rule(text: str, file_name: str, *, tables: Tables | None = None,
                 specs: Mapping[str, FactSpec] | None = None, sources: Mapping[str, str] | None = None,
                 display_path: str | None = None) -> Rule:
    """Parse, validate and compile one rule file. Raises RuleSetError with every problem it finds,
    each naming the file and line."""
    tables = tables or load_tables()
    specs = specs or fact_specs(tables)
    path = display_path or file_name
    try:
        data, lines = load_yaml(text, path)
    except RuleFileError as exc:
        raise RuleSetError([exc]) from None
    if not isinstance(data, dict):
        raise RuleSetError([RuleFileError(path, 1, "a rule file is a mapping (id:, title:, criteria:, ...)")])
    try:
        definition = RuleDefinition.model_validate(data)
    except ValidationError as exc:
        raise RuleSetError([
            RuleFileError(path, line_of(lines, error["loc"]),
                          f"{'.'.join(str(part) for part in error['loc']) or 'file'}: {error['msg']}")
            for error in exc.errors()
        ]) from None

    errors: list[RuleFileError] = []

    def problem(loc: tuple[Any, ...], reason: str) -> None:
        errors.append(RuleFileError(path, line_of(lines, loc), reason))

    for loc, reason in typography_problems(data):
        problem(loc, reason)
    stem = file_name.rsplit(".", 1)[0]
    if definition.id != stem:
        problem(("id",), f"id {definition.id!r} does not match the file name {file_name!r}")
    for index, code in enumerate(definition.region):
        if code not in tables.regions:
            problem(("region", index), f"{code} is not a GB/T 2260 region code")
    if sources is not None:
        for index, quote in enumerate(definition.provenance):
            mismatch = quote_problem(quote.quote, quote.paragraph, sources.get(quote.source), quote.source)
            if mismatch:
                problem(("provenance", index, "quote"), mismatch)

    params = {
        name: ParamSpec(name, tuple(p.value) if isinstance(p.value, list) else p.value, p.unit)
        for name, p in definition.parameters.items()
    }
    used: set[str] = set()
    compiled: list[CompiledCriterion] = []
    seen_ids: set[str] = set()
    for index, criterion in enumerate(definition.criteria):
        if criterion.id in seen_ids:
            problem(("criteria", index, "id"), f"criterion id {criterion.id!r} is used twice")
        seen_ids.add(criterion.id)
        try:
            node = check(parse(criterion.when), specs, params, tables)
        except ExpressionError as exc:
            problem(("criteria", index, "when"), f"criterion {criterion.id!r}: {exc}")
            continue
        used.update(operand.name for operand in names_in(node) if isinstance(operand, Param))
        for reason in _age_problems(node, params):
            problem(("criteria", index, "when"), f"criterion {criterion.id!r}: {reason}")
        explain: dict[str, dict[str, Template]] = {}
        for state in STATES:
            for lang in LANGUAGES:
                written = getattr(getattr(criterion.explain, state), lang)
                used.update(name for name in PLACEHOLDER.findall(written) if name in params)

                def parameter_text(name: str, lang: str = lang) -> str | None:
                    if name not in params:
                        return None
                    return format_parameter(params[name].value, params[name].unit, lang, tables)

                template = explain.setdefault(state, {})[lang] = Template.compile(written, parameter_text)
                for name in template.names:
                    if name not in specs and name != "missing":
                        problem(("criteria", index, "explain", state, lang),
                                f"criterion {criterion.id!r}: {{{name}}} in the {state} text ({lang}) "
                                "names no fact or parameter")
        subtrees: dict[int, Evaluator] = {}
        evaluator = compile_node(node, params, tables, subtrees)
        sector_bound = sorted({operand.name for operand in names_in(node)} & UNSETTLEABLE_FACTS)
        if sector_bound:
            evaluator = _settled_by_sector(evaluator, sector_bound)
        compiled.append(CompiledCriterion(criterion.id, criterion.when, node, evaluator, criterion, subtrees,
                                          explain))
    for name in params:
        if name not in used and len(compiled) == len(definition.criteria):  # else it may be a broken one's
            problem(("parameters", name), f"parameter {name!r} is not used by any criterion or explanation")
    if errors:
        raise RuleSetError(errors)
    return Rule(
        id=definition.id,
        file_name=file_name,
        source_text=text,
        version=file_version(text),
        definition=definition,
        criteria=tuple(compiled),
        params=params,
        scope_names={lang: format_regions(definition.region, lang, tables) for lang in LANGUAGES},
    )


def paragraphs(source_text: str) -> list[str]:
    """The source's paragraphs: its non-empty lines, numbered from 1."""
    return [line.strip() for line in source_text.splitlines() if line.strip()]


def quote_problem(quote: str, paragraph: int, source_text: str | None, source_name: str) -> str | None:
    """Why a quote is not verbatim at its paragraph, or None. A quote may run on across a page-break
    split (two non-empty lines joined with nothing between them)."""
    if source_text is None:
        return f"source {source_name!r} is not in rules/{SOURCES_DIR}/"
    parts = paragraphs(source_text)
    joined = "".join(parts)
    starts, offset = [], 0
    for part in parts:
        starts.append(offset)
        offset += len(part)
    position = joined.find(quote)
    if position < 0:
        matched = next((n for n in range(len(quote), 0, -1) if quote[:n] in joined), 0)
        return (f"quote is not verbatim in {source_name}: it matches up to {quote[max(0, matched - 12):matched]!r} "
                f"and then differs at {quote[matched:matched + 12]!r}")
    found = set()
    while position >= 0:
        found.add(max(index for index, start in enumerate(starts) if start <= position) + 1)
        position = joined.find(quote, position + 1)
    if paragraph not in found:
        where = ", ".join(str(number) for number in sorted(found))
        return f"quote begins in paragraph {where} of {source_name}, not {paragraph}"
    return None
