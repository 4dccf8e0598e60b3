"""GET /v1/policies: the catalogue of measures, read-only and open to anonymous callers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.deps import RuleSetDep, SessionDep
from app.engine import Rule
from app.policies import service
from app.policies.schemas import BenefitKind, PolicyPage, PolicyRead, PolicyVersion

router = APIRouter(prefix="/policies", tags=["policies"])


def _summary(rule: Rule) -> dict:
    data = rule.definition.model_dump(mode="json", by_alias=True)
    return {**{k: data[k] for k in ("id", "title", "region", "kind", "for_whom", "issuer", "benefit", "validity")},
            "version": rule.version}


@router.get("", response_model=PolicyPage, summary="List policies")
def list_policies(
    ruleset: RuleSetDep,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$",
                                        description="a company's region code: policies covering it")] = None,
    benefit_kind: BenefitKind | None = None,
    activity: Annotated[str | None, Query(description="an activity id the policy's conditions mention")] = None,
    in_force_on: Annotated[date | None, Query(description="only policies in force on this date")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> dict:
    rules = service.list_policies(ruleset, region=region, benefit_kind=benefit_kind, activity=activity,
                                  in_force_on=in_force_on)
    return {"items": [_summary(r) for r in rules[offset:offset + limit]], "total": len(rules),
            "limit": limit, "offset": offset}


@router.get("/{policy_id}", response_model=PolicyRead, summary="Read a policy",
            responses={404: {"description": "No such policy"}})
def read_policy(
    policy_id: Annotated[str, Path(max_length=100)], ruleset: RuleSetDep, session: SessionDep,
) -> dict:
    rule = service.get_policy(ruleset, policy_id)
    data = rule.definition.model_dump(mode="json", by_alias=True)
    versions = [PolicyVersion(version=v.version, first_seen_at=v.first_seen_at, current=v.version == rule.version)
                for v in service.list_versions(session, rule.id)]
    return {
        **_summary(rule),
        **{k: data[k] for k in ("document", "provenance", "how_to_apply", "notes", "not_found", "parameters")},
        "criteria": [{"id": c["id"], "when": c["when"], "explain": c["explain"]} for c in data["criteria"]],
        "file_name": rule.file_name,
        "versions": versions,
    }
