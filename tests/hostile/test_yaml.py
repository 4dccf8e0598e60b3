"""Rule files and console drafts refuse YAML aliases (a few hundred bytes of aliases of aliases expand
to millions of items) and nesting deep enough to reach Python's recursion limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.engine.errors import RuleFileError
from app.engine.yamlfile import MAX_DEPTH, load_yaml


def alias_bomb(levels: int = 9) -> str:
    """Each level is nine aliases of the one before: 9**levels strings once expanded."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


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
        load_yaml("x: " + "[" * depth + "]" * depth + "\n", "draft.yaml")


@pytest.mark.parametrize("text", [alias_bomb(), "x: " + "[" * 999 + "]" * 999 + "\n"], ids=["bomb", "deep"])
def test_a_draft_bomb_is_a_422_naming_the_problem(client: TestClient, signed_in: str, text: str) -> None:
    response = client.post("/console/drafts", data={"text": text, "csrf_token": signed_in})
    assert response.status_code == 422
    assert "aliases" in response.text or "nested deeper" in response.text


@pytest.mark.parametrize(("text", "reason"), [
    ("0000-00-00\n", "not a date"), ("effective_from: 2024-02-30\n", "not a date"),
    ("x: " + "9" * 5000 + "\n", "more than 40 digits"),
])
def test_impossible_dates_and_endless_integers_are_rule_file_errors(text: str, reason: str) -> None:
    with pytest.raises(RuleFileError, match=reason):
        load_yaml(text, "draft.yaml")
