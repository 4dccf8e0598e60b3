"""The condition language: a tokenizer, a recursive-descent parser into a small tree, a type check
against the facts and the rule's parameters, and three-valued (Kleene) evaluation. Nothing is ever
passed to `eval`.

    condition  := or
    or         := and ("or" and)*
    and        := unary ("and" unary)*
    unary      := "not" unary | "(" condition ")" | ("all" | "any") "(" condition ("," condition)* ")"
                | comparison
    comparison := operand [ ("<" | "<=" | ">" | ">=" | "==" | "!=") operand
                          | ["not"] "in" operand | "intersects" operand | "within" codes ]
    operand    := NAME | STRING | "[" [STRING ("," STRING)*] "]"
    codes      := CODE | "[" CODE ("," CODE)* "]"        CODE: 320000 (GB/T 2260) or C3831 (GB/T 4754)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ExpressionError
from .facts import FactSpec
from .tables import Tables

Truth = bool | None  # True = met, False = not met, None = unknown

# ---------------------------------------------------------------------------------------------- tree


@dataclass(frozen=True, slots=True)
class Fact:
    name: str


@dataclass(frozen=True, slots=True)
class Param:
    name: str


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | tuple[str, ...]


Operand = Fact | Param | Literal


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Member:
    item: Operand
    container: Operand
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Intersects:
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Within:
    fact: Fact
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IsTrue:
    fact: Fact


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Compare | Member | Intersects | Within | IsTrue | And | Or | Not

# ------------------------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<op><=|>=|==|!=|<|>|\(|\)|\[|\]|,)
  | (?P<string>"[^"\\]*")
  | (?P<code>[A-T]\d{0,4}(?![A-Za-z0-9_])|\d{6}(?![A-Za-z0-9_]))
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[a-z_][a-z0-9_]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "within", "intersects", "all", "any"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # op, string, code, name, keyword, end
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected character {text[position]!r}", position + 1)
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "number":
            raise ExpressionError(
                f"bare number {value} in a condition: name it as a parameter with its basis and citation",
                position + 1,
            )
        if kind == "name" and value in _KEYWORDS:
            kind = "keyword"
        if kind != "space":
            tokens.append(Token(kind, value, position + 1))
        position = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


# ------------------------------------------------------------------------------------------- parser

_COMPARISONS = {"<", "<=", ">", ">=", "==", "!="}
MAX_DEPTH = 32  # deeper nesting is no condition an official could read; refuse it before recursion does


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        if self.current.text == text and self.current.kind in ("op", "keyword"):
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise ExpressionError(f"expected {text!r}, found {self._describe(self.current)}", self.current.column)

    @staticmethod
    def _describe(token: Token) -> str:
        return "the end of the condition" if token.kind == "end" else repr(token.text)

    def parse(self) -> Node:
        node = self.parse_or()
        if self.current.kind != "end":
            raise ExpressionError(f"unexpected {self._describe(self.current)}", self.current.column)
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.accept("or"):
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while self.accept("and"):
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"the condition is nested more than {MAX_DEPTH} levels deep",
                                      self.current.column)
            return self._parse_unary()
        finally:
            self.depth -= 1

    def _parse_unary(self) -> Node:
        if self.accept("not"):
            return Not(self.parse_unary())
        if self.accept("("):
            node = self.parse_or()
            self.expect(")")
            return node
        if self.current.kind == "keyword" and self.current.text in ("all", "any"):
            combinator = self.advance().text
            self.expect("(")
            items = [self.parse_or()]
            while self.accept(","):
                if self.current.text == ")":
                    break
                items.append(self.parse_or())
            self.expect(")")
            return And(tuple(items)) if combinator == "all" else Or(tuple(items))
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        start = self.current
        left = self.parse_operand()
        token = self.current
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            return Compare(token.text, left, self.parse_operand())
        if self.accept("in"):
            return Member(left, self.parse_operand())
        if token.text == "not" and self.tokens[self.index + 1].text == "in":
            self.index += 2
            return Member(left, self.parse_operand(), negated=True)
        if self.accept("intersects"):
            return Intersects(left, self.parse_operand())
        if self.accept("within"):
            if not isinstance(left, Fact):
                raise ExpressionError("only a fact can be `within` codes", start.column)
            return Within(left, self.parse_codes())
        if isinstance(left, Fact):
            return IsTrue(left)
        raise ExpressionError(f"a literal alone is not a condition: {start.text}", start.column)

    def parse_operand(self) -> Operand:
        token = self.current
        if token.kind == "name":
            self.advance()
            return Fact(token.text)  # facts and parameters share a namespace; resolved in the type check
        if token.kind == "string":
            self.advance()
            return Literal(token.text[1:-1])
        if self.accept("["):
            values: list[str] = []
            while not self.accept("]"):
                if values:
                    self.expect(",")
                    if self.accept("]"):
                        break
                item = self.advance()
                if item.kind != "string":
                    raise ExpressionError(f"a list holds quoted strings, found {self._describe(item)}", item.column)
                values.append(item.text[1:-1])
            return Literal(tuple(values))
        if token.kind == "code" and token.text.isdigit():
            raise ExpressionError(
                f"bare number {token.text} in a condition: name it as a parameter with its basis and citation",
                token.column,
            )
        if token.kind == "code":
            raise ExpressionError(f"a code ({token.text}) may only follow `within`", token.column)
        raise ExpressionError(f"expected a fact, a parameter or a literal, found {self._describe(token)}",
                              token.column)

    def parse_codes(self) -> tuple[str, ...]:
        if self.current.kind == "code":
            return (self.advance().text,)
        self.expect("[")
        codes = []
        while True:
            token = self.advance()
            if token.kind != "code":
                raise ExpressionError(f"expected a region or industry code, found {self._describe(token)}",
                                      token.column)
            codes.append(token.text)
            if self.accept("]"):
                return tuple(codes)
            self.expect(",")


def parse(text: str) -> Node:
    """Parse a condition into its tree; raise ExpressionError naming the column of the problem."""
    return _Parser(text).parse()


# --------------------------------------------------------------------------------------- type check


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """What the type check needs to know of a rule parameter."""

    name: str
    value: Any
    unit: str


def _resolve(operand: Operand, facts: Mapping[str, FactSpec], params: Mapping[str, ParamSpec]) -> Operand:
    if isinstance(operand, Fact):
        if operand.name in params:
            return Param(operand.name)
        if operand.name not in facts:
            raise ExpressionError(f"unknown fact or parameter {operand.name!r}")
    return operand


def _allowed(values: tuple[str, ...] | None, given: tuple[str, ...], spec: FactSpec) -> None:
    if values is None:
        return
    for value in given:
        if value not in values:
            raise ExpressionError(f"{value!r} is not a valid value of {spec.name} (valid: {', '.join(values)})")


def check(node: Node, facts: Mapping[str, FactSpec], params: Mapping[str, ParamSpec], tables: Tables) -> Node:
    """Resolve names into facts and parameters and check every operation's types; return the checked tree."""

    def fact_spec(operand: Operand) -> FactSpec | None:
        return facts[operand.name] if isinstance(operand, Fact) else None

    def strings(operand: Operand) -> tuple[str, ...] | None:
        if isinstance(operand, Literal):
            return operand.value if isinstance(operand.value, tuple) else (operand.value,)
        if isinstance(operand, Param) and params[operand.name].unit == "list":
            return tuple(params[operand.name].value)
        return None

    def visit(node: Node) -> Node:
        if isinstance(node, (And, Or)):
            return type(node)(tuple(visit(item) for item in node.items))
        if isinstance(node, Not):
            return Not(visit(node.item))
        if isinstance(node, IsTrue):
            spec = facts.get(node.fact.name)
            if node.fact.name in params:
                raise ExpressionError(f"parameter {node.fact.name!r} alone is not a condition")
            if spec is None:
                raise ExpressionError(f"unknown fact {node.fact.name!r}")
            if spec.kind != "bool":
                raise ExpressionError(f"{spec.name} is not a yes/no fact; compare it with something")
            return node
        if isinstance(node, Within):
            spec = facts.get(node.fact.name)
            if spec is None or spec.kind not in ("region", "industry"):
                raise ExpressionError(f"`within` needs region or industry, not {node.fact.name!r}")
            table = tables.regions if spec.kind == "region" else tables.industries
            for code in node.codes:
                if code not in table:
                    kind = "GB/T 2260 region" if spec.kind == "region" else "GB/T 4754 industry"
                    raise ExpressionError(f"{code} is not a {kind} code")
            return node
        if isinstance(node, Compare):
            left, right = _resolve(node.left, facts, params), _resolve(node.right, facts, params)
            if not isinstance(left, Fact):
                left, right = right, left
                node = Compare(_MIRROR[node.op], left, right)
            spec = fact_spec(left)
            if spec is None:
                raise ExpressionError("a comparison needs a fact on one side")
            if spec.kind == "number":
                other = fact_spec(right)
                unit = params[right.name].unit if isinstance(right, Param) else other.unit if other else None
                if isinstance(right, Literal) or unit is None:
                    raise ExpressionError(f"{spec.name} is a number: compare it with a numeric parameter")
                if other is not None and other.kind != "number":
                    raise ExpressionError(f"cannot compare {spec.name} with {other.name}")
                if unit != spec.unit:
                    raise ExpressionError(
                        f"type mismatch: {spec.name} is in {spec.unit}, {right.name} is in {unit}"
                    )
                return Compare(node.op, left, right)
            if spec.kind == "enum":
                if node.op not in ("==", "!=") or not isinstance(right, Literal) or isinstance(right.value, tuple):
                    raise ExpressionError(f"{spec.name} can only be compared with == or != to a quoted value")
                _allowed(spec.values, (right.value,), spec)
                return Compare(node.op, left, right)
            raise ExpressionError(f"{spec.name} ({spec.kind}) cannot be compared with {node.op}")
        if isinstance(node, Member):
            item, container = _resolve(node.item, facts, params), _resolve(node.container, facts, params)
            container_spec, item_spec = fact_spec(container), fact_spec(item)
            if container_spec is not None:  # "x" in list_fact
                if container_spec.kind != "list":
                    raise ExpressionError(f"{container_spec.name} is not a list")
                values = strings(item)
                if not isinstance(item, Literal) or values is None or len(values) != 1 or isinstance(item.value, tuple):
                    raise ExpressionError(f"membership in {container_spec.name} takes one quoted value")
                _allowed(container_spec.values, values, container_spec)
                return Member(item, container, node.negated)
            if item_spec is not None and item_spec.kind == "enum":  # enum_fact in [..]
                values = strings(container)
                if values is None:
                    raise ExpressionError(f"{item_spec.name} must be `in` a list of quoted values or a list parameter")
                _allowed(item_spec.values, values, item_spec)
                return Member(item, container, node.negated)
            raise ExpressionError("`in` needs a value and a list fact, or an enum fact and a list")
        if isinstance(node, Intersects):
            left, right = _resolve(node.left, facts, params), _resolve(node.right, facts, params)
            spec = fact_spec(left)
            values = strings(right)
            if spec is None or spec.kind != "list" or values is None:
                raise ExpressionError("`intersects` needs a list fact on the left and a list on the right")
            _allowed(spec.values, values, spec)
            return Intersects(left, right)
        raise AssertionError(f"unhandled node {node!r}")

    return visit(node)


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def names_in(node: Node) -> Iterator[Fact | Param]:
    """Every fact and parameter a checked tree names."""
    if isinstance(node, (And, Or)):
        for item in node.items:
            yield from names_in(item)
    elif isinstance(node, Not):
        yield from names_in(node.item)
    elif isinstance(node, (IsTrue, Within)):
        yield node.fact
    elif isinstance(node, Compare):
        yield from (o for o in (node.left, node.right) if not isinstance(o, Literal))
    elif isinstance(node, Member):
        yield from (o for o in (node.item, node.container) if not isinstance(o, Literal))
    elif isinstance(node, Intersects):
        yield from (o for o in (node.left, node.right) if not isinstance(o, Literal))


def render(node: Node) -> str:
    """The condition written back in its canonical form (for display and diffs)."""
    if isinstance(node, And):
        return "all(" + ", ".join(render(item) for item in node.items) + ")"
    if isinstance(node, Or):
        return "any(" + ", ".join(render(item) for item in node.items) + ")"
    if isinstance(node, Not):
        return f"not {render(node.item)}"
    if isinstance(node, IsTrue):
        return node.fact.name
    if isinstance(node, Within):
        codes = node.codes[0] if len(node.codes) == 1 else "[" + ", ".join(node.codes) + "]"
        return f"{node.fact.name} within {codes}"
    if isinstance(node, Compare):
        return f"{_operand(node.left)} {node.op} {_operand(node.right)}"
    if isinstance(node, Member):
        return f"{_operand(node.item)} {'not in' if node.negated else 'in'} {_operand(node.container)}"
    if isinstance(node, Intersects):
        return f"{_operand(node.left)} intersects {_operand(node.right)}"
    raise AssertionError(node)


def _operand(operand: Operand) -> str:
    if isinstance(operand, Literal):
        if isinstance(operand.value, tuple):
            return "[" + ", ".join(f'"{v}"' for v in operand.value) + "]"
        return f'"{operand.value}"'
    return operand.name


# --------------------------------------------------------------------------------------- evaluation

Evaluator = Callable[[Mapping[str, Any]], Truth]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}


def compile_node(node: Node, params: Mapping[str, ParamSpec], tables: Tables,
                 compiled: dict[int, Evaluator] | None = None) -> Evaluator:
    """Turn a checked tree into a closure facts -> True / False / None (unknown). Parameters and
    literals are bound at compile time, so evaluation only looks facts up. `compiled`, if given,
    receives the closure of every sub-tree by id(sub-tree), for explaining without recompiling."""
    evaluator = _compile(node, params, tables, {} if compiled is None else compiled)
    if compiled is not None:
        compiled[id(node)] = evaluator
    return evaluator


def _compile(node: Node, params: Mapping[str, ParamSpec], tables: Tables, compiled: dict[int, Evaluator]) -> Evaluator:
    if isinstance(node, And):
        parts = tuple(compile_node(item, params, tables, compiled) for item in node.items)

        def all_of(facts: Mapping[str, Any]) -> Truth:
            result: Truth = True
            for part in parts:
                value = part(facts)
                if value is False:
                    return False
                if value is None:
                    result = None
            return result

        return all_of
    if isinstance(node, Or):
        parts = tuple(compile_node(item, params, tables, compiled) for item in node.items)

        def any_of(facts: Mapping[str, Any]) -> Truth:
            result: Truth = False
            for part in parts:
                value = part(facts)
                if value is True:
                    return True
                if value is None:
                    result = None
            return result

        return any_of
    if isinstance(node, Not):
        inner = compile_node(node.item, params, tables, compiled)

        def negation(facts: Mapping[str, Any]) -> Truth:
            value = inner(facts)
            return None if value is None else not value

        return negation
    if isinstance(node, IsTrue):
        name = node.fact.name
        return lambda facts: facts.get(name)
    if isinstance(node, Within):
        name, codes = node.fact.name, frozenset(node.codes)
        if name == "region":
            relation = tables.region_within

            def region_within(facts: Mapping[str, Any]) -> Truth:
                code = facts.get(name)
                return None if code is None else any_of_truths(relation(code, area) for area in codes)

            return region_within
        prefixes = tuple(node.codes)

        def industry_within(facts: Mapping[str, Any]) -> Truth:
            code = facts.get(name)
            return None if code is None else code.startswith(prefixes)

        return industry_within
    if isinstance(node, Compare):
        compare, name = _OPERATORS[node.op], node.left.name  # type: ignore[union-attr]
        right = node.right
        if isinstance(right, Fact):
            other = right.name

            def compare_facts(facts: Mapping[str, Any]) -> Truth:
                a, b = facts.get(name), facts.get(other)
                return None if a is None or b is None else compare(a, b)

            return compare_facts
        bound = params[right.name].value if isinstance(right, Param) else right.value
        if isinstance(right, Literal):  # an enum fact, which may be known only as a set of possible values
            return _enum_test(name, lambda value: compare(value, bound))

        def compare_value(facts: Mapping[str, Any]) -> Truth:
            value = facts.get(name)
            return None if value is None else compare(value, bound)

        return compare_value
    if isinstance(node, Member):
        negated = node.negated
        if isinstance(node.container, Fact):
            name, item = node.container.name, node.item.value  # type: ignore[union-attr]

            def in_list_fact(facts: Mapping[str, Any]) -> Truth:
                values = facts.get(name)
                return None if values is None else (item in values) != negated

            return in_list_fact
        name = node.item.name  # type: ignore[union-attr]
        allowed = frozenset(list_value(node.container, params))
        return _enum_test(name, lambda value: (value in allowed) != negated)
    if isinstance(node, Intersects):
        name = node.left.name  # type: ignore[union-attr]
        wanted = frozenset(list_value(node.right, params))

        def intersects(facts: Mapping[str, Any]) -> Truth:
            values = facts.get(name)
            return None if values is None else not wanted.isdisjoint(values)

        return intersects
    raise AssertionError(node)


def any_of_truths(truths: Iterator[Truth] | Any) -> Truth:
    """Kleene OR of several truths."""
    result: Truth = False
    for truth in truths:
        if truth is True:
            return True
        if truth is None:
            result = None
    return result


def _enum_test(name: str, test: Callable[[str], bool]) -> Evaluator:
    """A test of an enum fact. A fact the profile settles only in part (the size classes the known
    figures leave open) is a frozenset of the values still possible: the test is true when it holds
    for every one of them, false when for none, and unknown otherwise."""

    def enum_test(facts: Mapping[str, Any]) -> Truth:
        value = facts.get(name)
        if value is None:
            return None
        if isinstance(value, frozenset):
            outcomes = {test(possible) for possible in value}
            return outcomes.pop() if len(outcomes) == 1 else None
        return test(value)

    return enum_test


def list_value(operand: Operand, params: Mapping[str, ParamSpec]) -> tuple[str, ...]:
    """The values of a list operand; a single value (`in "enterprise"`, `intersects "car_dealer"`) is a
    list of one, as the checker lets a rule write it."""
    if isinstance(operand, Param):
        return tuple(params[operand.name].value)
    value = operand.value  # type: ignore[union-attr]
    return value if isinstance(value, tuple) else (value,)


def leaves(node: Node) -> Iterator[Node]:
    """The comparisons of a tree (its leaves), left to right."""
    if isinstance(node, (And, Or)):
        for item in node.items:
            yield from leaves(item)
    elif isinstance(node, Not):
        yield from leaves(node.item)
    else:
        yield node


def deciding_leaves(node: Node, facts: Mapping[str, Any], compiled: Mapping[int, Evaluator],
                    want: Truth, negated: bool = False) -> list[tuple[Node, bool]]:
    """The leaves that make a node come out `want`, each with whether it sits under a `not`.
    For `want=None`: the unknown leaves that keep it unknown; for `want=False`: the leaves that fail
    where the node fails. Used on the slow path only: to explain, to find gaps and missing fields.
    `compiled` maps id(sub-tree) to its closure, as compile_node records it."""
    if compiled[id(node)](facts) is not want:
        return []
    if isinstance(node, Not):
        flipped = None if want is None else not want
        return deciding_leaves(node.item, facts, compiled, flipped, not negated)
    if isinstance(node, (And, Or)):
        found: list[tuple[Node, bool]] = []
        for item in node.items:
            found.extend(deciding_leaves(item, facts, compiled, want, negated))
        return found
    return [(node, negated)]


def near_miss(node: Node, facts: Mapping[str, Any], compiled: Mapping[int, Evaluator],
              params: Mapping[str, ParamSpec]) -> tuple[float, list[Compare]] | None:
    """For a node that is not met, the cheapest set of minimums to reach that would meet it: the
    `fact >= parameter` comparisons to raise, with their cost (the sum of required / actual). None
    when no such set exists (a maximum exceeded, a missing title, a `not`): then there is no "what it
    would take" to tell. Among alternatives (`any`), the cheapest wins."""
    if compiled[id(node)](facts) is not False:
        return (0.0, [])
    if isinstance(node, Compare):
        if node.op not in (">=", ">") or not isinstance(node.right, Param):
            return None
        actual, required = facts.get(node.left.name), params[node.right.name].value  # type: ignore[union-attr]
        if not isinstance(actual, (int, float)) or not isinstance(required, (int, float)):
            return None
        return (required / actual if actual > 0 else float("inf"), [node])
    if isinstance(node, And):
        total, found = 0.0, list[Compare]()
        for item in node.items:
            part = near_miss(item, facts, compiled, params)
            if part is None:
                return None
            total, found = total + part[0], found + part[1]
        return (total, found)
    if isinstance(node, Or):
        options = [part for item in node.items if (part := near_miss(item, facts, compiled, params)) is not None]
        return min(options, key=lambda option: (option[0], len(option[1]))) if options else None
    return None
