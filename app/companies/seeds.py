"""Demo companies from seeds/companies.yaml, loaded idempotently (keyed by credit code)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.companies import service
from app.engine import Profile, RuleSet
from app.events import service as events_service


@dataclass
class SeedReport:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def read_seeds(path: Path) -> list[dict[str, Any]]:
    """The `companies:` entries of a seed file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("companies") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a top-level `companies:` list")
    return entries


def load_seeds(session: Session, path: Path, *, ruleset: RuleSet | None = None, as_of: date | None = None) -> SeedReport:
    """Create or update every seed company; a seed that does not validate is reported, not loaded.
    With `ruleset`, the companies created or changed are decided under it (their status events)."""
    report = SeedReport()
    for index, entry in enumerate(read_seeds(path)):
        fields = dict(entry)
        key = fields.pop("key", None) or f"#{index + 1}"
        try:
            profile = Profile.model_validate(fields)
        except ValidationError as exc:
            where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            report.problems.append(f"{key}: {where}")
            continue
        if profile.credit_code is None:
            report.problems.append(f"{key}: no credit_code, so it cannot be loaded idempotently")
            continue
        company, outcome = service.upsert_company(session, profile)
        if ruleset is not None and as_of is not None and outcome != "unchanged":
            events_service.record_profile_change(session, company, ruleset, as_of=as_of)
        report.counts[outcome] += 1
    return report
