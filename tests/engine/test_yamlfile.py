"""Strict YAML for rule files: aliases and deep nesting refused before anything is built, duplicate
keys, impossible dates and endless integers refused with their line, and the line of every key kept."""

from __future__ import annotations

from datetime import date

import pytest

from app.engine.errors import RuleFileError
from app.engine.yamlfile import MAX_DEPTH, line_of, load_yaml
from tests.helpers import alias_bomb


def nested(depth: int) -> str:
    return "x: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize("text", [
    alias_bomb(),
    "parameters: &p {a: 1}\nother: *p\n",
    "base: &b {a: 1}\nmerged:\n  <<: *b\n  c: 2\n",
    "loop: &l [*l]\n",
], ids=["bomb", "alias", "merge key", "recursive"])
def test_the_rule_loader_refuses_aliases(text: str) -> None:
    with pytest.raises(RuleFileError, match="aliases"):
        load_yaml(text, "draft.yaml")


def test_an_anchor_alone_is_harmless() -> None:
    data, _ = load_yaml("id: &name x\n", "draft.yaml")
    assert data == {"id": "x"}


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 999, 5000])
def test_the_rule_loader_refuses_deep_nesting(depth: int) -> None:
    with pytest.raises(RuleFileError, match="nest"):
        load_yaml(nested(depth), "draft.yaml")


@pytest.mark.parametrize(("text", "reason"), [
    ("0000-00-00\n", "not a date"), ("effective_from: 2024-02-30\n", "not a date"),
    ("x: " + "9" * 5000 + "\n", "more than 40 digits"),
])
def test_impossible_dates_and_endless_integers_are_rule_file_errors(text: str, reason: str) -> None:
    with pytest.raises(RuleFileError, match=reason):
        load_yaml(text, "draft.yaml")


@pytest.mark.parametrize(("text", "problem"), [
    ("a: 1\nparameters: &p {a: 1}\nother: *p\n", "d.yaml:2: invalid YAML: aliases (*name) are not allowed in rule files"),
    (nested(MAX_DEPTH), "d.yaml:1: invalid YAML: nested deeper than 64 levels"),
    ("a: 1\na: 2\n", "d.yaml:2: invalid YAML: duplicate key 'a' (first at line 1)"),
    ("x: " + "9" * 41 + "\n", "d.yaml:1: invalid YAML: an integer of more than 40 digits"),
    ("a: 1\nvalid_from: 2024-02-30\n", "d.yaml:2: invalid YAML: not a date: day is out of range for month"),
    # The reader finds no line for a character it refuses: the file and the position in it.
    ("a: \x00\n", ('d.yaml: invalid YAML: unacceptable character #x0000: control characters are not allowed\n'
                  '  in "<unicode string>", position 3')),
])
def test_a_refusal_names_the_file_the_line_and_the_reason(text: str, problem: str) -> None:
    with pytest.raises(RuleFileError) as caught:
        load_yaml(text, "d.yaml")
    assert str(caught.value) == problem


def test_what_a_rule_file_needs_is_read() -> None:
    assert load_yaml(nested(MAX_DEPTH - 1), "d.yaml")[0]["x"]  # the deepest nesting allowed
    assert load_yaml("x: " + "9" * 40 + "\n", "d.yaml")[0] == {"x": int("9" * 40)}
    assert load_yaml("a: yes\nb: true\nc: 2024-02-29\n", "d.yaml")[0] == {
        "a": "yes", "b": True, "c": date(2024, 2, 29)}  # YAML 1.2 booleans only


def test_an_empty_file_or_one_of_comments_reads_as_nothing() -> None:
    assert load_yaml("", "d.yaml") == (None, {})
    assert load_yaml("# a draft, not written yet\n", "d.yaml") == (None, {})


def test_every_key_and_item_keeps_its_line() -> None:
    _, lines = load_yaml("id: x\ncriteria:\n  - id: a\n    when: b\n", "d.yaml")
    assert lines == {(): 1, ("id",): 1, ("criteria",): 2, ("criteria", 0): 3, ("criteria", 0, "id"): 3,
                     ("criteria", 0, "when"): 4}
    assert line_of(lines, ("criteria", 0, "when", "extra")) == 4  # the deepest known prefix
    assert line_of(lines, ("criteria", 0)) == 3
    assert line_of({}, ("criteria",)) is None
