"""Draft rules: a rule file an official pastes or uploads, validated, its examples run, and its impact
on the stored companies compared with the published rule's. Nothing is published."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session

from app.engine import Rule, RuleSet, RuleSetError, compile_rule
from app.engine.errors import RuleFileError
from app.engine.examples import ExampleOutcome, run_examples
from app.engine.ruleset import SOURCES_DIR
from app.registry import service as registry_service

_ID_LINE = re.compile(r"^id:\s*[\"']?([A-Za-z0-9._-]+)", re.MULTILINE)


def draft_file_name(text: str, uploaded: str | None) -> str:
    """The file name a draft is checked under: the upload's, else `<its id>.yaml`."""
    if uploaded:
        return uploaded.replace("\\", "/").rsplit("/", 1)[-1]
    match = _ID_LINE.search(text)
    return f"{match.group(1)}.yaml" if match else "draft.yaml"


@dataclass
class DraftReport:
    file_name: str
    errors: list[RuleFileError] = field(default_factory=list)
    rule: Rule | None = None
    examples: list[ExampleOutcome] = field(default_factory=list)
    impact: registry_service.Impact | None = None
    current_version: str | None = None

    @property
    def examples_passed(self) -> int:
        return sum(outcome.passed for outcome in self.examples)


def evaluate_draft(session: Session, ruleset: RuleSet, *, text: str, file_name: str,
                   sources: Mapping[str, str], as_of: date) -> DraftReport:
    """Everything an official needs to judge a draft before it is published; publishes nothing."""
    report = DraftReport(file_name)
    try:
        rule = compile_rule(text, file_name, tables=ruleset.tables, sources=sources,
                            display_path=f"draft/{file_name}")
    except RuleSetError as exc:
        report.errors = list(exc.errors)
        return report
    report.rule = rule
    report.examples = run_examples(ruleset, rule)
    report.impact = registry_service.impact(session, rule, ruleset, as_of=as_of)
    current = ruleset.rules.get(rule.id)
    report.current_version = current.version if current else None
    return report


@cache
def _sources(rules_dir: Path, stamp: float) -> dict[str, str]:
    directory = rules_dir / SOURCES_DIR
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.txt"))}


def sources_of(rules_dir: Path) -> dict[str, str]:
    """The policy source texts quotes are checked against (re-read when the directory changes)."""
    directory = rules_dir / SOURCES_DIR
    return _sources(rules_dir, directory.stat().st_mtime if directory.exists() else 0.0)
