"""The condition language: parsing, type checking and three-valued evaluation."""

from __future__ import annotations

import operator

import pytest

from app.engine.errors import ExpressionError
from app.engine.expressions import (
    MAX_DEPTH,
    And,
    Compare,
    Fact,
    Intersects,
    IsTrue,
    Literal,
    Member,
    Or,
    Param,
    ParamSpec,
    Within,
    check,
    compile_node,
    parse,
    render,
)
from app.engine.facts import ACTIVITIES, fact_specs
from app.engine.tables import load_tables
from tests.profiles import catalogue

TABLES = load_tables()
SPECS = fact_specs(TABLES)
PARAMS = {
    "min_share": ParamSpec("min_share", 0.1, "ratio"),
    "min_revenue": ParamSpec("min_revenue", 20_000_000, "yuan"),
    "min_staff": ParamSpec("min_staff", 10, "persons"),
    "sme": ParamSpec("sme", ("micro", "small", "medium"), "list"),
    "equipment": ParamSpec("equipment", ("machine_tools", "intelligent_robots"), "list"),
    "importer": ParamSpec("importer", ("importer",), "list"),
}


def evaluate(condition: str, **facts: object) -> bool | None:
    node = check(parse(condition), SPECS, PARAMS, TABLES)
    return compile_node(node, PARAMS, TABLES)(facts)


def test_precedence_and_binds_tighter_than_or() -> None:
    assert parse("a or b and c") == Or((IsTrue(Fact("a")), And((IsTrue(Fact("b")), IsTrue(Fact("c"))))))


def test_all_any_not_and_parentheses_build_the_same_tree_as_infix() -> None:
    assert parse("all(a, any(b, c), not d)") == parse("a and (b or c) and not d")


def test_membership_forms() -> None:
    assert parse('"car_dealer" in activities') == Member(Literal("car_dealer"), Fact("activities"))
    assert parse('size_class not in ["large"]') == Member(Fact("size_class"), Literal(("large",)), negated=True)


def test_a_condition_may_nest_to_the_limit_and_run_on_at_any_length() -> None:
    assert parse("not " * (MAX_DEPTH - 1) + "above_quota") is not None  # nested as deep as allowed
    many = ["above_quota"] * (MAX_DEPTH + 8)  # side by side is no nesting, however many
    assert len(parse("all(" + ", ".join(many) + ")").items) == len(many)
    assert len(parse(" and ".join(many)).items) == len(many)
    assert len(parse("any(" + ", ".join(f"not {item}" for item in many) + ")").items) == len(many)
    # Depth is counted where it is reached, whatever came before it at a shallower level.
    after_a_sibling = "(" * 10 + "above_quota and " + "not " * 22 + "urban_district" + ")" * 10  # 33 deep
    with pytest.raises(ExpressionError, match=r"^the condition is nested more than 32 levels deep \(column 115\)$"):
        parse(after_a_sibling)
    assert parse(after_a_sibling.replace("not " * 22, "not " * 21)) is not None


def test_a_list_may_be_empty_or_end_with_a_comma() -> None:
    assert parse('activities intersects ["importer",]') == Intersects(Fact("activities"), Literal(("importer",)))
    assert parse("activities intersects []") == Intersects(Fact("activities"), Literal(()))
    assert parse("any(above_quota, urban_district,)") == Or((IsTrue(Fact("above_quota")), IsTrue(Fact("urban_district"))))


def test_within_takes_one_code_or_a_list() -> None:
    assert parse("region within 320000") == Within(Fact("region"), ("320000",))
    assert parse("industry within [C3831, C22]") == Within(Fact("industry"), ("C3831", "C22"))


@pytest.mark.parametrize("text", [
    'all(export_share >= min_share, any("retail" in activities, region within [320100, 320500]))',
    'not size_class in sme',
    'any(region within 320000, size_class not in ["large", "medium"])',
    'clusters intersects ["machine_tools", "intelligent_robots"]',
    'entity_type == "enterprise"',
])
def test_render_writes_the_canonical_form_back(text: str) -> None:
    assert render(parse(text)) == text


def test_every_condition_of_the_catalogue_reads_back_as_itself() -> None:
    for rule in catalogue().rules.values():
        params = {name: ParamSpec(name, tuple(p.value) if isinstance(p.value, list) else p.value, p.unit)
                  for name, p in rule.definition.parameters.items()}
        for criterion in rule.criteria:
            assert check(parse(render(criterion.node)), SPECS, params, TABLES) == criterion.node, (rule.id, criterion.id)


def problem_of(condition: str) -> str:
    """What a rule author reads for a condition that does not parse or check (the specs are built
    here, not at import, so the check runs on this process's code)."""
    with pytest.raises(ExpressionError) as caught:
        check(parse(condition), fact_specs(TABLES), PARAMS, TABLES)
    return str(caught.value)


OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
             "!=": operator.ne}
PARAMETER_ADVICE = "in a condition: name it as a parameter with its basis and citation"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("employees >= 100", f"bare number 100 {PARAMETER_ADVICE} (column 14)"),
        ("annual_revenue >= 20000000", f"bare number 20000000 {PARAMETER_ADVICE} (column 19)"),
        ("export_share >= ", "expected a fact, a parameter or a literal, found the end of the condition (column 17)"),
        ("(export_share >= min_share", "expected ')', found the end of the condition (column 27)"),
        ("export_share >= min_share)", "unexpected ')' (column 26)"),
        ("export_share => min_share", "unexpected character '=' (column 14)"),
        ("region within", "expected '[', found the end of the condition (column 14)"),
        ("employees >= min_staff or", "expected a fact, a parameter or a literal, found the end of the condition (column 26)"),
        ('"retail"', 'a literal alone is not a condition: "retail" (column 1)'),
        ("import os", "unexpected 'os' (column 8)"),
        ("__import__('os')", "unexpected character \"'\" (column 12)"),
        ('activities intersects ["importer", retail]', "a list holds quoted strings, found 'retail' (column 36)"),
        ("activities intersects [,]", "a list holds quoted strings, found ',' (column 24)"),
        ('activities intersects ["importer",,]', "a list holds quoted strings, found ',' (column 35)"),
        ("activities intersects [", "a list holds quoted strings, found the end of the condition (column 24)"),
        ('activities intersects ["importer" "retail"]', "expected ',', found '\"retail\"' (column 35)"),
        ("employees >= 320000", f"bare number 320000 {PARAMETER_ADVICE} (column 14)"),
        ("industry == C39", "a code (C39) may only follow `within` (column 13)"),
        ('"retail" in ]', "expected a fact, a parameter or a literal, found ']' (column 13)"),
        ("region within [320000 440300]", "expected ',', found '440300' (column 23)"),
        ("region within []", "expected a region or industry code, found ']' (column 16)"),
        ("all()", "expected a fact, a parameter or a literal, found ')' (column 5)"),
        ("any(above_quota, above_quota,, )", "expected a fact, a parameter or a literal, found ',' (column 30)"),
        ("employees not min_staff", "unexpected 'not' (column 11)"),
        ("and above_quota", "expected a fact, a parameter or a literal, found 'and' (column 1)"),
        ("not " * MAX_DEPTH + "above_quota", f"the condition is nested more than {MAX_DEPTH} levels deep (column 129)"),
    ],
)
def test_syntax_errors_name_the_problem_and_its_column(condition: str, message: str) -> None:
    assert problem_of(condition) == message


def test_a_parameter_on_the_left_is_turned_around() -> None:
    node = check(parse("min_share <= export_share"), SPECS, PARAMS, TABLES)
    assert isinstance(node, Compare) and node.op == ">=" and node.left == Fact("export_share")


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"export_share": 0.1}, True),  # the bound itself meets ">="
        ({"export_share": 0.0999}, False),
        ({"export_share": None}, None),  # absent is unknown, never zero
        ({}, None),
    ],
)
def test_comparison_is_three_valued(facts: dict, expected: bool | None) -> None:
    assert evaluate("export_share >= min_share", **facts) is expected


# Kleene truth tables: T, F, U for (a, b)
KLEENE_AND = {(True, True): True, (True, False): False, (True, None): None, (False, None): False,
              (None, None): None, (False, False): False}
KLEENE_OR = {(True, True): True, (True, False): True, (True, None): True, (False, None): None,
             (None, None): None, (False, False): False}


@pytest.mark.parametrize(("pair", "expected"), KLEENE_AND.items())
def test_and_follows_kleene(pair: tuple, expected: bool | None) -> None:
    a, b = pair
    assert evaluate("above_quota and above_designated_size", above_quota=a, above_designated_size=b) is expected
    assert evaluate("all(above_designated_size, above_quota)", above_quota=a, above_designated_size=b) is expected


@pytest.mark.parametrize(("pair", "expected"), KLEENE_OR.items())
def test_or_follows_kleene(pair: tuple, expected: bool | None) -> None:
    a, b = pair
    assert evaluate("above_quota or above_designated_size", above_quota=a, above_designated_size=b) is expected


@pytest.mark.parametrize(("value", "expected"), [(True, False), (False, True), (None, None)])
def test_not_keeps_unknown_unknown(value: bool | None, expected: bool | None) -> None:
    assert evaluate("not above_quota", above_quota=value) is expected


def test_membership_of_an_absent_list_is_unknown_but_of_an_empty_list_is_false() -> None:
    assert evaluate('"car_dealer" in activities', activities=None) is None
    assert evaluate('"car_dealer" in activities', activities=[]) is False
    assert evaluate('"car_dealer" in activities', activities=["car_dealer"]) is True
    assert evaluate('"car_dealer" not in activities', activities=[]) is True


def test_enum_in_a_list_parameter() -> None:
    assert evaluate("size_class in sme", size_class="small") is True
    assert evaluate("size_class in sme", size_class="large") is False
    assert evaluate("size_class in sme", size_class=None) is None


@pytest.mark.parametrize(("possible", "expected"), [
    ({"micro", "small"}, True), ({"micro", "small", "medium"}, True),  # every class still open is an SME
    ({"medium", "large"}, None), ({"micro", "small", "medium", "large"}, None),  # some are, some are not
])
def test_a_size_class_known_in_part_decides_where_every_class_still_open_agrees(possible: set, expected: bool | None) -> None:
    assert evaluate("size_class in sme", size_class=frozenset(possible)) is expected
    assert evaluate('size_class != "large"', size_class=frozenset(possible)) is expected
    negated = None if expected is None else not expected
    assert evaluate("size_class not in sme", size_class=frozenset(possible)) is negated


def test_intersects() -> None:
    assert evaluate("clusters intersects equipment", clusters=["new_energy", "machine_tools"]) is True
    assert evaluate("clusters intersects equipment", clusters=["new_energy"]) is False
    assert evaluate("clusters intersects equipment", clusters=None) is None


def test_region_within_follows_the_region_tree() -> None:
    assert evaluate("region within 320000", region="320583") is True  # Kunshan is in Jiangsu
    assert evaluate("region within 320500", region="320583") is True  # and in Suzhou
    assert evaluate("region within 320100", region="320583") is False  # not in Nanjing
    assert evaluate("region within [320100, 320500]", region="320506") is True
    assert evaluate("region within 440300", region="440305") is True


def test_industry_within_follows_the_code_hierarchy() -> None:
    assert evaluate("industry within C", industry="C3831") is True
    assert evaluate("industry within [C38, F52]", industry="F5261") is True
    assert evaluate("industry within C38", industry="C3911") is False
    assert evaluate("industry within C38", industry=None) is None


def test_not_of_a_compound() -> None:
    assert evaluate("not (above_quota or export_share >= min_share)", above_quota=False, export_share=0.05) is True
    assert evaluate("not (above_quota or export_share >= min_share)", above_quota=False, export_share=None) is None


def test_a_syntax_error_points_at_its_column() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("export_share => min_share")
    assert (caught.value.reason, caught.value.column) == ("unexpected character '='", 14)
    assert str(caught.value) == "unexpected character '=' (column 14)"


@pytest.mark.parametrize(("export", "imports", "expected"), [
    (5, 3, True), (3, 3, False), (2, 3, False), (None, 3, None), (5, None, None), (None, None, None)])
def test_two_figures_compared_are_unknown_while_either_is(export: float | None, imports: float | None,
                                                           expected: bool | None) -> None:
    assert evaluate("export_revenue > import_value", export_revenue=export, import_value=imports) is expected


@pytest.mark.parametrize(("region", "expected"), [("320583", False), ("440305", True), ("320000", None)])
def test_a_region_inside_not_all_and_any_stays_three_valued(region: str, expected: bool | None) -> None:
    # Kunshan is in Suzhou; a company known only to be in Jiangsu may or may not be.
    assert evaluate("not region within 320500", region=region) is expected
    assert evaluate("all(not region within 320500, any(region within [440300, 320000]))", region=region) is expected


def test_a_code_list_left_open_says_what_it_expected_and_where() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("region within [320000,")
    assert str(caught.value) == "expected a region or industry code, found the end of the condition (column 23)"


@pytest.mark.parametrize(("condition", "problem"), [
    ("export_revenue > entity_type", "export_revenue is a number: compare it with a numeric parameter"),
    ("export_revenue > employees", "type mismatch: export_revenue is in yuan, employees is in persons"),
    ("export_share >= sme", "type mismatch: export_share is in ratio, sme is in list"),
    ('"a" == "b"', "a comparison needs a fact on one side"),
    ('entity_type >= "enterprise"', "entity_type can only be compared with == or != to a quoted value"),
    ('entity_type == ["enterprise"]', "entity_type can only be compared with == or != to a quoted value"),
    ('"small" in size_class', "size_class is not a list"),
    ('"retail" in employees', "employees is not a list"),
    ("employees in sme", "`in` needs a value and a list fact, or an enum fact and a list"),
    ('size_class in ["small", "huge"]', "'huge' is not a valid value of size_class (valid: micro, small, medium, large)"),
    ("export_shar >= min_share", "unknown fact or parameter 'export_shar'"),
    ("export_share >= min_revenue", "type mismatch: export_share is in ratio, min_revenue is in yuan"),
    ("employees >= min_revenue", "type mismatch: employees is in persons, min_revenue is in yuan"),
    ('"car_deal" in activities', f"'car_deal' is not a valid value of activities (valid: {', '.join(ACTIVITIES)})"),
    ('size_class == "tiny"', "'tiny' is not a valid value of size_class (valid: micro, small, medium, large)"),
    ('size_class >= "small"', "size_class can only be compared with == or != to a quoted value"),
    ("region within 999999", "999999 is not a GB/T 2260 region code"),
    ("industry within C99", "C99 is not a GB/T 4754 industry code"),
    ("employees within 320000", "`within` needs region or industry, not 'employees'"),
    ("employees", "employees is not a yes/no fact; compare it with something"),
    ("clusters intersects sme", f"'micro' is not a valid value of clusters (valid: {', '.join(TABLES.clusters)})"),
    ("min_share", "parameter 'min_share' alone is not a condition"),
    ('employees intersects ["x"]', "`intersects` needs a list fact on the left and a list on the right"),
    ("foo", "unknown fact 'foo'"),
    ("region within C39", "C39 is not a GB/T 2260 region code"),
    ("industry within 320000", "320000 is not a GB/T 4754 industry code"),
    ("foo within 320000", "`within` needs region or industry, not 'foo'"),
    ('export_share >= "x"', "export_share is a number: compare it with a numeric parameter"),
    ("entity_type == sme", "entity_type can only be compared with == or != to a quoted value"),
    ('region == "x"', "region (region) cannot be compared with =="),
    ('certifications != "x"', "certifications (list) cannot be compared with !="),
    ('urban_district == "x"', "urban_district (bool) cannot be compared with =="),
    ('["importer", "retail"] in activities', "membership in activities takes one quoted value"),
    ("sme in activities", "membership in activities takes one quoted value"),
    ("entity_type in activities", "membership in activities takes one quoted value"),
    ("size_class in min_staff", "size_class must be `in` a list of quoted values or a list parameter"),
    ("activities intersects min_staff", "`intersects` needs a list fact on the left and a list on the right"),
    ('region intersects ["a"]', "`intersects` needs a list fact on the left and a list on the right"),
    ('"small" not in sme', "`in` needs a value and a list fact, or an enum fact and a list"),
    ('["importer"] in activities', "membership in activities takes one quoted value"),
    ("importer in activities", "membership in activities takes one quoted value"),
    ("activities intersects certifications", "`intersects` needs a list fact on the left and a list on the right"),
    ('"retail" within 320000', "only a fact can be `within` codes (column 1)"),
])
def test_the_checker_says_why_a_condition_cannot_be_decided(condition: str, problem: str) -> None:
    assert problem_of(condition) == problem


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
@pytest.mark.parametrize("employees", [9, 10, 11])
def test_a_parameter_may_stand_on_either_side_of_any_comparison(op: str, employees: int) -> None:
    expected = OPERATORS[op](10, employees)  # min_staff is 10
    assert evaluate(f"min_staff {op} employees", employees=employees) is expected
    assert evaluate(f"employees {op} min_staff", employees=employees) is OPERATORS[op](employees, 10)


def test_a_parameter_on_the_left_is_turned_round_and_two_figures_may_be_compared() -> None:
    specs = fact_specs(TABLES)
    assert check(parse("min_share <= export_share"), specs, PARAMS, TABLES) == Compare(
        ">=", Fact("export_share"), Param("min_share"))
    assert check(parse("export_revenue > import_value"), specs, PARAMS, TABLES) == Compare(
        ">", Fact("export_revenue"), Fact("import_value"))
    assert check(parse("size_class not in sme"), specs, PARAMS, TABLES) == Member(Fact("size_class"), Param("sme"), negated=True)
