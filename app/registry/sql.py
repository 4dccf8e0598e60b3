"""Rule conditions compiled to SQL over the `company_fact` table, for matching the whole registry in
the database. SQL's NULL logic is our unknown: a comparison with NULL is NULL, and AND / OR / NOT
treat NULL exactly as Kleene's three-valued logic treats unknown. So a rule's conjunction is TRUE
(eligible), FALSE (ineligible) or NULL (needs_info), as the Python evaluator decides it.

List facts (certifications, clusters, activities) are stored as bit masks, NULL when the company did
not say, so membership is `mask & bit <> 0` on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Table, and_, case, false, func, literal, not_, null, or_, true
from sqlalchemy.sql.elements import ColumnElement

from app.engine import Rule
from app.engine.expressions import (
    And,
    Compare,
    Fact,
    Intersects,
    IsTrue,
    Literal,
    Member,
    Node,
    Not,
    Or,
    Param,
    Within,
    list_value,
    names_in,
)
from app.engine.facts import ACTIVITIES, CERTIFICATIONS, SIZE_CLASSES, UNSETTLEABLE_FACTS, years_before
from app.engine.tables import Tables

ELIGIBLE, NEEDS_INFO, INELIGIBLE = "eligible", "needs_info", "ineligible"


def list_bits(tables: Tables) -> dict[str, dict[str, int]]:
    """Bit of each value of each list fact. Append-only: a value's bit never changes."""
    return {
        "certifications": {value: 1 << index for index, value in enumerate(CERTIFICATIONS)},
        "activities": {value: 1 << index for index, value in enumerate(ACTIVITIES)},
        "clusters": {value: 1 << index for index, value in enumerate(tables.clusters)},
    }


def mask_of(values: list[str] | None, bits: dict[str, int]) -> int | None:
    return None if values is None else sum(bits[value] for value in set(values))


def region_depth(code: str, tables: Tables) -> int:
    """1 for a province, 2 for what sits right under one, 3 below that (the region_l1..3 columns)."""
    return len(tables.region_ancestors.get(code, (code,)))


def region_levels(code: str, tables: Tables) -> tuple[str | None, str | None, str | None]:
    """The region and its ancestors as (level 1, level 2, level 3), province first."""
    padded: list[str | None] = [*(tables.region_chain(code) or [code]), None, None, None][:3]
    return padded[0], padded[1], padded[2]


_UNKNOWN = null().cast(Boolean)


class SqlCompiler:
    """Compiles checked condition trees of one rule to SQL expressions on `table`."""

    def __init__(self, table: Table, rule: Rule, tables: Tables, *, as_of: date) -> None:
        self.table = table
        self.rule = rule
        self.tables = tables
        self.as_of = as_of
        self.bits = list_bits(tables)
        self.assumed: dict[str, ColumnElement[bool]] = {}  # facts taken as a given truth (see criterion)

    def column(self, name: str) -> ColumnElement[Any]:
        return self.table.c[name]

    def value(self, operand: Any) -> Any:
        if isinstance(operand, Param):
            return self.rule.params[operand.name].value
        return operand.value

    def compile(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, And):
            return and_(*(self.compile(item) for item in node.items))
        if isinstance(node, Or):
            return or_(*(self.compile(item) for item in node.items))
        if isinstance(node, Not):
            return not_(self.compile(node.item))
        if isinstance(node, IsTrue):
            if node.fact.name in self.assumed:
                return self.assumed[node.fact.name]
            return self.column(node.fact.name) == true()  # NULL stays NULL
        if isinstance(node, Within):
            return or_(*(self.within(node.fact.name, code) for code in node.codes))
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Member):
            return self.member(node)
        if isinstance(node, Intersects):
            assert isinstance(node.left, Fact), node  # the checker puts the list fact on the left
            mask: int = sum(self.bits[node.left.name][v] for v in list_value(node.right, self.rule.params))
            return self.column(f"{node.left.name}_mask").op("&")(mask) != 0
        raise AssertionError(node)

    def criterion(self, node: Node) -> ColumnElement[bool]:
        """A criterion as the engine decides it: unknown only where a profile field could settle it;
        where the company's sector alone keeps it open (规上 status in construction or finance) it is
        not met, as `ruleset._settled_by_sector` does in Python."""
        condition = self.compile(node)
        bound = sorted({operand.name for operand in names_in(node)} & UNSETTLEABLE_FACTS)
        if not bound:
            return condition
        settled = []
        for truth in (true(), false()):
            self.assumed = dict.fromkeys(bound, truth)
            settled.append(self.compile(node).is_not(None))
        self.assumed = {}
        sector_bound = and_(self.column("industry_code").is_not(None), self.column("designated_size_line").is_(None),
                            *(self.column(name).is_(None) for name in bound))
        return case((and_(condition.is_(None), sector_bound, *settled), false()), else_=condition)

    def within(self, fact: str, code: str) -> ColumnElement[bool]:
        if fact == "region":
            return region_within(self.table, code, self.tables)
        return func.substr(self.column("industry_code"), 1, len(code)) == code

    def compare(self, node: Compare) -> ColumnElement[bool]:
        name, op = node.left.name, node.op  # type: ignore[union-attr]
        # Two figures compared (export_revenue > import_value): the other side is a column too.
        bound: Any = self.column(node.right.name) if isinstance(node.right, Fact) else self.value(node.right)
        if name == "company_age_years":
            return self.age(op, bound)
        if name == "size_class":
            return self.size_class({bound} if op == "==" else set(SIZE_CLASSES) - {bound})
        column = self.column(name)
        return {
            ">=": column >= bound, ">": column > bound, "<=": column <= bound, "<": column < bound,
            "==": column == bound, "!=": column != bound,
        }[op]

    def age(self, op: str, years: float) -> ColumnElement[bool]:
        """Age on `as_of`, exact to the day, as a comparison of the founding date with the date `years`
        whole years before `as_of` (the loader admits only whole years here): "not more than 10 years"
        holds on the tenth anniversary and fails the day after, as in Python."""
        founded, cut = self.column("founded_on"), years_before(self.as_of, int(years))
        return {">=": founded <= cut, ">": founded < cut, "<=": founded >= cut, "<": founded > cut,
                "==": founded == cut, "!=": founded != cut}[op]

    def size_class(self, allowed: set[str]) -> ColumnElement[bool]:
        """`size_class in allowed` over the classes still possible (size_class_mask): true when every
        one is allowed, false when none is, unknown otherwise (the engine's partial enum facts)."""
        mask = self.column("size_class_mask")
        bits = sum(1 << index for index, value in enumerate(SIZE_CLASSES) if value in allowed)
        return case((mask.is_(None), _UNKNOWN), (mask.op("&")(bits) == mask, true()),
                    (mask.op("&")(bits) == 0, false()), else_=_UNKNOWN)

    def member(self, node: Member) -> ColumnElement[bool]:
        item = node.item
        if isinstance(node.container, Fact):  # "x" in list fact
            assert isinstance(item, Literal) and isinstance(item.value, str), node  # as the checker allows
            name = node.container.name
            found = self.column(f"{name}_mask").op("&")(self.bits[name][item.value]) != 0
        else:
            assert not isinstance(item, Literal), node  # a fact in a list, as the checker allows
            if item.name == "size_class":
                allowed = set(list_value(node.container, self.rule.params))
                return self.size_class(set(SIZE_CLASSES) - allowed if node.negated else allowed)
            # an enum fact in a list
            values = list(list_value(node.container, self.rule.params))
            found = self.column(item.name).in_(values) if values else _null_or(self.column(item.name), false())
        return not_(found) if node.negated else found


def _null_or(column: ColumnElement[Any], value: ColumnElement[bool]) -> ColumnElement[Any]:
    return case((column.is_(None), literal(None)), else_=value)


def rule_condition(table: Table, rule: Rule, tables: Tables, *, as_of: date) -> ColumnElement[bool]:
    """The rule as one SQL condition: region AND every criterion. TRUE eligible, FALSE ineligible,
    NULL needs_info."""
    compiler = SqlCompiler(table, rule, tables, as_of=as_of)
    region = or_(*(compiler.within("region", code) for code in rule.definition.region))
    return and_(region, *(compiler.criterion(criterion.node) for criterion in rule.criteria))


def region_within(table: Table, code: str, tables: Tables) -> ColumnElement[bool]:
    """The region criterion in three values, as `Tables.region_within`: true for a company registered
    at `code` or below it, unknown for one registered at a larger area holding it (a province or city
    code for a district's measure), false otherwise."""
    levels = region_levels(code, tables)
    depth = region_depth(code, tables)
    column = table.c[f"region_l{depth}"]
    coarser = [and_(table.c[f"region_l{level}"] == levels[level - 1], table.c[f"region_l{level + 1}"].is_(None))
               for level in range(1, depth)]
    if not coarser:
        return func.coalesce(column, "") == code
    return case((column == code, true()), (or_(*coarser), _UNKNOWN), else_=false())


def region_prefilter(table: Table, codes: list[str], tables: Tables) -> ColumnElement[bool]:
    """Companies whose region criterion may not be false for any of `codes`: registered within one, or
    at a larger area holding one. Plain equalities on region_l1..3 that the indexes on region_l1 and
    region_l2 serve. Only for narrowing a scan: it is NULL rather than FALSE for a missing level."""
    wanted = []
    for code in codes:
        levels, depth = region_levels(code, tables), region_depth(code, tables)
        wanted.append(table.c[f"region_l{depth}"] == code)
        wanted.extend(and_(table.c[f"region_l{level}"] == levels[level - 1], table.c[f"region_l{level + 1}"].is_(None))
                      for level in range(1, depth))
    return or_(*wanted)


def existing_on(table: Table, as_of: date) -> ColumnElement[bool]:
    """The companies that existed on `as_of` (or whose founding date is not known): a company is left
    out of the registry's counts for dates before it was founded."""
    return or_(table.c.founded_on.is_(None), table.c.founded_on <= as_of)


def rule_status(table: Table, rule: Rule, tables: Tables, *, as_of: date) -> ColumnElement[str]:
    condition = rule_condition(table, rule, tables, as_of=as_of)
    return case((condition, literal(ELIGIBLE)), (not_(condition), literal(INELIGIBLE)), else_=literal(NEEDS_INFO))
