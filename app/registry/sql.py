"""Rule conditions compiled to SQL over the `company_fact` table, for matching the whole registry in
the database. SQL's NULL logic is our unknown: a comparison with NULL is NULL, and AND / OR / NOT
treat NULL exactly as Kleene's three-valued logic treats unknown. So a rule's conjunction is TRUE
(eligible), FALSE (ineligible) or NULL (needs_info), as the Python evaluator decides it.

List facts (certifications, clusters, activities) are stored as bit masks, NULL when the company did
not say, so membership is `mask & bit <> 0` on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import Table, and_, case, false, func, literal, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from app.engine import Rule
from app.engine.expressions import And, Compare, Fact, Intersects, IsTrue, Member, Node, Not, Or, Param, Within
from app.engine.facts import ACTIVITIES, CERTIFICATIONS
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
    chain: list[str] = []
    current: str | None = code
    while current:
        chain.append(current)
        current = tables.regions[current].parent if current in tables.regions else None
    chain.reverse()
    padded = (chain + [None, None, None])[:3]
    return padded[0], padded[1], padded[2]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


class SqlCompiler:
    """Compiles checked condition trees of one rule to SQL expressions on `table`."""

    def __init__(self, table: Table, rule: Rule, tables: Tables, *, as_of: date) -> None:
        self.table = table
        self.rule = rule
        self.tables = tables
        self.as_of = as_of
        self.bits = list_bits(tables)

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
            return self.column(node.fact.name) == true()  # NULL stays NULL
        if isinstance(node, Within):
            return or_(*(self.within(node.fact.name, code) for code in node.codes))
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Member):
            return self.member(node)
        if isinstance(node, Intersects):
            mask = sum(self.bits[node.left.name][v] for v in self.value(node.right))  # type: ignore[union-attr]
            return self.column(f"{node.left.name}_mask").op("&")(mask) != 0  # type: ignore[union-attr]
        raise AssertionError(node)

    def within(self, fact: str, code: str) -> ColumnElement[bool]:
        if fact == "region":
            # A company registered at city level has no level-3 code: that is "not within", not unknown.
            return func.coalesce(self.column(f"region_l{region_depth(code, self.tables)}"), "") == code
        return func.substr(self.column("industry_code"), 1, len(code)) == code

    def compare(self, node: Compare) -> ColumnElement[bool]:
        name, op, bound = node.left.name, node.op, self.value(node.right)  # type: ignore[union-attr]
        if isinstance(node.right, Fact):
            bound = self.column(node.right.name)
        if name == "company_age_years":
            return self.age(op, bound)
        column = self.column(name)
        return {
            ">=": column >= bound, ">": column > bound, "<=": column <= bound, "<": column < bound,
            "==": column == bound, "!=": column != bound,
        }[op]

    def age(self, op: str, years: float) -> ColumnElement[bool]:
        """Age in whole years on `as_of`, as a comparison of the founding date with a cut-off date:
        age >= k exactly when founded on or before as_of minus k years."""
        founded = self.column("founded_on")

        def at_least(k: int) -> ColumnElement[bool]:
            return founded <= _years_before(self.as_of, k)

        def at_most(k: int) -> ColumnElement[bool]:
            return founded > _years_before(self.as_of, k + 1)

        if op in (">=", ">"):
            return at_least(math.ceil(years) if op == ">=" else math.floor(years) + 1)
        if op in ("<=", "<"):
            return at_most(math.floor(years) if op == "<=" else math.ceil(years) - 1)
        exactly = and_(at_least(int(years)), at_most(int(years))) if years == int(years) else _null_or(founded, false())
        return exactly if op == "==" else not_(exactly)

    def member(self, node: Member) -> ColumnElement[bool]:
        if isinstance(node.container, Fact):  # "x" in list fact
            name = node.container.name
            found = self.column(f"{name}_mask").op("&")(self.bits[name][node.item.value]) != 0  # type: ignore[union-attr]
        else:  # enum fact in a list
            values = list(self.value(node.container))
            found = self.column(node.item.name).in_(values) if values else _null_or(self.column(node.item.name), false())  # type: ignore[union-attr]
        return not_(found) if node.negated else found


def _null_or(column: ColumnElement[Any], value: ColumnElement[bool]) -> ColumnElement[Any]:
    return case((column.is_(None), literal(None)), else_=value)


def rule_condition(table: Table, rule: Rule, tables: Tables, *, as_of: date) -> ColumnElement[bool]:
    """The rule as one SQL condition: region AND every criterion. TRUE eligible, FALSE ineligible,
    NULL needs_info."""
    compiler = SqlCompiler(table, rule, tables, as_of=as_of)
    region = or_(*(compiler.within("region", code) for code in rule.definition.region))
    return and_(region, *(compiler.compile(criterion.node) for criterion in rule.criteria))


def region_prefilter(table: Table, codes: list[str], tables: Tables) -> ColumnElement[bool]:
    """Companies registered within any of `codes`, as plain equalities on region_l1..3 that the indexes
    on region_l1 and region_l2 serve (`within` wraps the column in coalesce, which no index serves).
    Only for narrowing a scan: unlike `within`, it is NULL rather than FALSE for a missing level."""
    return or_(*(table.c[f"region_l{region_depth(code, tables)}"] == code for code in codes))


def rule_status(table: Table, rule: Rule, tables: Tables, *, as_of: date) -> ColumnElement[str]:
    condition = rule_condition(table, rule, tables, as_of=as_of)
    return case((condition, literal(ELIGIBLE)), (not_(condition), literal(INELIGIBLE)), else_=literal(NEEDS_INFO))
