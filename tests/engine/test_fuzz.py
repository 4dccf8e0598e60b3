"""Hostile input to the engine: the condition parser and profile validation never fail with anything
but their own clear errors, whatever they are given."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.engine import Profile
from app.engine.errors import ExpressionError
from app.engine.expressions import ParamSpec, check, compile_node, parse
from app.engine.facts import fact_specs
from app.engine.tables import load_tables
from tests.helpers import examples

TABLES = load_tables()
SPECS = fact_specs(TABLES)
PARAMS = {"p": ParamSpec("p", 0.1, "ratio"), "q": ParamSpec("q", ("micro",), "list")}
WORDS = ["and", "or", "not", "in", "within", "intersects", "all", "any", "(", ")", "[", "]", ",", ">=", "<", "==",
         "!=", '"car_dealer"', '"x"', "export_share", "activities", "size_class", "region", "industry", "p", "q",
         "320000", "C38", "1", "above_quota", "employees", "'", "\\", "é", "__import__"]


@settings(max_examples=examples(250), suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join) | st.text(max_size=60))
def test_the_parser_accepts_or_rejects_clearly(text: str) -> None:
    try:
        node = check(parse(text), SPECS, PARAMS, TABLES)
    except ExpressionError as exc:
        assert str(exc)  # a message that names the problem
        return
    evaluator = compile_node(node, PARAMS, TABLES)
    assert evaluator({}) in (True, False, None)  # anything that checks also evaluates on an empty profile


def test_deeply_nested_conditions_are_rejected_not_crashing() -> None:
    text = "(" * 5000 + "above_quota" + ")" * 5000
    try:
        parse(text)
    except ExpressionError as exc:
        assert "nested" in str(exc)
    else:
        raise AssertionError("a 5000-deep condition should be refused")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIELDS = list(Profile.model_fields)


@settings(max_examples=examples(250), suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), JSON, max_size=8))
def test_profile_validation_accepts_or_names_the_field(data: dict[str, Any]) -> None:
    try:
        Profile.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            assert error["msg"]
            assert error["loc"] or error["type"] == "model_type"
