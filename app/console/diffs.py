"""Two versions of a rule file side by side: a unified diff as rows the policy page renders."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "context", "delete", "insert", "hunk"
    old: int | None
    new: int | None
    text: str


def diff_lines(old_text: str, new_text: str, *, context: int = 3) -> list[DiffLine]:
    """A unified diff of two texts as rows to render (escaped by the template, never marked safe)."""
    old, new = old_text.splitlines(), new_text.splitlines()
    rows: list[DiffLine] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        rows.append(DiffLine("hunk", None, None,
                             f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffLine("context", i + 1, j + 1, old[i]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
                continue
            if tag in ("replace", "delete"):
                rows.extend(DiffLine("delete", i + 1, None, old[i]) for i in range(i1, i2))
            if tag in ("replace", "insert"):
                rows.extend(DiffLine("insert", None, j + 1, new[j]) for j in range(j1, j2))
    return rows
