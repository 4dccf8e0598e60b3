"""Console drafts refuse YAML aliases (a few hundred bytes of aliases of aliases expand to millions of
items) and nesting deep enough to reach Python's recursion limit, with a 422 naming the problem. The
loader itself is tested in tests/engine/test_yamlfile.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import alias_bomb


@pytest.mark.parametrize("text", [alias_bomb(), "x: " + "[" * 999 + "]" * 999 + "\n"], ids=["bomb", "deep"])
def test_a_draft_bomb_is_a_422_naming_the_problem(client: TestClient, signed_in: str, text: str) -> None:
    response = client.post("/console/drafts", data={"text": text, "csrf_token": signed_in})
    assert response.status_code == 422
    assert "aliases" in response.text or "nested deeper" in response.text
