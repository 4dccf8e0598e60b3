"""Registry-wide matching in SQL must decide exactly as the Python evaluator does: every seed company,
every rule, on dates inside and outside the rules' validity; and a draft's impact is what Python says."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.companies.service import create_company
from app.db.models import Company
from app.engine import Profile, compile_rule, evaluate_rule
from app.engine.expressions import Compare, Param, leaves
from app.engine.facts import years_before
from app.registry import service as registry
from app.registry.sql import region_prefilter
from tests.helpers import AGE_RULE, SUMAO_STRICTER, examples
from tests.profiles import coarser, profiles
from tests.registry.test_sql import EDGES, FORMS, form_rule

ROOT = Path(__file__).resolve().parents[2]
DATES = (date(2023, 6, 30), date(2026, 11, 26))


@pytest.fixture
def stored(client: TestClient, app: FastAPI, seeds: dict[str, dict[str, Any]]) -> dict[str, Profile]:
    """Every seed company stored; returns their profiles by company id."""
    profiles = {}
    with app.state.session_factory() as session:
        for data in seeds.values():
            profile = Profile.model_validate(data)
            profiles[create_company(session, profile).id] = profile
        session.commit()
    return profiles


def python_statuses(app: FastAPI, rule, profiles: dict, as_of: date) -> dict:  # type: ignore[no-untyped-def]
    ruleset = app.state.rules.current
    return {cid: evaluate_rule(ruleset, rule, p, as_of=as_of).status for cid, p in profiles.items()}


@pytest.mark.parametrize("as_of", DATES, ids=str)
def test_sql_and_python_agree_on_every_seed_company_and_rule(app: FastAPI, stored: dict, as_of: date) -> None:
    ruleset = app.state.rules.current
    with app.state.session_factory() as session:
        for rule in ruleset.rules.values():
            assert registry.statuses(session, rule, ruleset, as_of=as_of) == python_statuses(app, rule, stored, as_of), rule.id


def test_every_outcome_occurs_among_the_seeds(app: FastAPI, stored: dict) -> None:
    # The agreement above means something only if the seeds reach every status.
    ruleset = app.state.rules.current
    seen = {status for rule in ruleset.rules.values() for status in python_statuses(app, rule, stored, DATES[0]).values()}
    assert seen == {"eligible", "needs_info", "ineligible"}


@pytest.mark.parametrize("as_of", DATES, ids=str)
def test_reach_counts_match_python(app: FastAPI, stored: dict, as_of: date) -> None:
    ruleset = app.state.rules.current
    with app.state.session_factory() as session:
        reach = {r.policy_id: r for r in registry.reach(session, ruleset, as_of=as_of)}
    in_force = {rule.id for rule in ruleset.rules.values() if rule.in_force(as_of)}
    assert set(reach) == in_force
    for policy_id in in_force:
        statuses = list(python_statuses(app, ruleset.rules[policy_id], stored, as_of).values())
        counted = reach[policy_id]
        assert (counted.eligible, counted.needs_info, counted.ineligible) == (
            statuses.count("eligible"), statuses.count("needs_info"), statuses.count("ineligible")), policy_id


def draft_of_sumao(app: FastAPI, stored: dict, old: str, new: str):  # type: ignore[no-untyped-def]
    """js-sumao-loan's file with `old` replaced by `new`, compiled as a draft: each stored company's
    status under today's rule and under the draft (by the Python evaluator), and the registry's impact."""
    ruleset = app.state.rules.current
    current = ruleset.rules["js-sumao-loan"]
    text = current.source_text.replace(old, new, 1)
    assert text != current.source_text
    draft = compile_rule(text, current.file_name, tables=ruleset.tables)
    before = python_statuses(app, current, stored, DATES[1])
    after = python_statuses(app, draft, stored, DATES[1])
    with app.state.session_factory() as session:
        impact = registry.impact(session, draft, ruleset, as_of=DATES[1])
    return before, after, impact


def test_a_draft_rule_shows_who_gains_and_who_loses(app: FastAPI, stored: dict) -> None:
    before, after, impact = draft_of_sumao(app, stored, *SUMAO_STRICTER)
    lost = {cid for cid in stored if before[cid] == "eligible" and after[cid] != "eligible"}
    gained = {cid for cid in stored if after[cid] == "eligible" and before[cid] != "eligible"}
    assert lost, "the seeds should include exporters between 10% and 50% export share"
    assert {c["company_id"] for c in impact.lost} == lost
    assert {c["company_id"] for c in impact.gained} == gained
    assert impact.companies == len(stored)
    assert impact.before.get("eligible", 0) - impact.after.get("eligible", 0) == len(lost) - len(gained)


@pytest.mark.parametrize("region", ['["440300"]', '["320000", "440300"]', '["320583"]'])
def test_a_draft_moved_to_other_regions_counts_every_company(app: FastAPI, stored: dict, region: str) -> None:
    # impact() evaluates only the companies inside either version's regions and counts the rest:
    # moving a measure must still show who gains (the new region) and who loses (the old one).
    before, after, impact = draft_of_sumao(app, stored, 'region: ["320000"]', f"region: {region}")
    assert impact.companies == len(stored)
    assert {c["company_id"]: (c["before"], c["after"]) for c in impact.changes} == {
        cid: (before[cid], after[cid]) for cid in stored if before[cid] != after[cid]}
    for status in ("eligible", "needs_info", "ineligible"):
        assert impact.before.get(status, 0) == list(before.values()).count(status)
        assert impact.after.get(status, 0) == list(after.values()).count(status)


@pytest.mark.parametrize("op", [">=", ">", "<=", "<", "==", "!="])
def test_company_age_boundaries_agree(client: TestClient, app: FastAPI, op: str) -> None:
    ruleset = app.state.rules.current
    rule = compile_rule(AGE_RULE.replace("OP", op), "age-rule.yaml", tables=ruleset.tables)
    as_of = date(2024, 2, 29)
    founded = [None, date(2021, 2, 28), date(2021, 3, 1), date(2021, 2, 27), date(2020, 2, 29), date(2020, 3, 1),
               date(2019, 3, 1), date(2024, 2, 29)]
    profiles = {}
    with app.state.session_factory() as session:
        for day in founded:
            profile = Profile.model_validate({"region_code": "440305", **({"founded_on": day} if day else {})})
            profiles[create_company(session, profile).id] = profile
        session.commit()
        assert registry.statuses(session, rule, ruleset, as_of=as_of) == python_statuses(app, rule, profiles, as_of)


@st.composite
def registry_profiles(draw: st.DrawFn) -> dict[str, Any]:
    """A drawn company as stored: full, or known less well (a city or province code, figures left out)."""
    full = draw(profiles())
    return draw(coarser(full)) if draw(st.booleans()) else full


@settings(max_examples=examples(6), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(registry_profiles(), min_size=40, max_size=40))
def test_sql_and_python_agree_on_drawn_companies(client: TestClient, app: FastAPI, drawn: list[dict]) -> None:
    """Three-valued regions, partial size classes, revenue lines, sector-bound 规上 status and exact
    ages decide the same in SQL as in Python, for drawn companies (tests/profiles.py)."""
    ruleset = app.state.rules.current
    with app.state.session_factory() as session:
        session.execute(delete(Company))
        profiles = {}
        for data in drawn:
            profile = Profile.model_validate({k: v for k, v in data.items() if k != "credit_code"})
            profiles[create_company(session, profile).id] = profile
        session.commit()
        for as_of in DATES:
            for rule in ruleset.rules.values():
                sql = registry.statuses(session, rule, ruleset, as_of=as_of)
                python = {cid: status for cid, status in python_statuses(app, rule, profiles, as_of).items()
                          if profiles[cid].founded_on is None or profiles[cid].founded_on <= as_of}
                assert sql == python, rule.id


def a_district_in(code: str, tables) -> str:  # type: ignore[no-untyped-def]
    while tables.region_children.get(code):
        code = tables.region_children[code][0]
    return code


def at_bound(fact: str, bound: float, step: int, as_of: date) -> dict[str, Any] | None:
    """Profile fields that put `fact` at `bound` plus `step` of its smallest unit (a yuan, a person, a
    day), or None where that lies below zero."""
    if fact == "company_age_years":  # the anniversary, the day before and the day after
        return {"founded_on": years_before(as_of, int(bound)) - timedelta(days=step)}
    if fact == "rd_intensity":
        return {"annual_revenue": 100_000_000, "rd_expense": bound * 100_000_000 + step}
    if fact == "rd_staff_share":
        return {"employees": 1000, "rd_staff": round(bound * 1000) + step}
    value = bound + step
    if value < 0:
        return None
    if fact == "domestic_revenue":
        return {"annual_revenue": 100_000_000, "export_revenue": 100_000_000 - value}
    return {fact: value}


@pytest.mark.parametrize("as_of", DATES, ids=str)
def test_sql_and_python_agree_at_every_bound_of_every_rule(client: TestClient, app: FastAPI, as_of: date) -> None:
    """Each figure a rule compares with a parameter, at the parameter's value and one step either side,
    for a company inside the rule's region that gives nothing else: the boundary decides between
    ineligible and needs_info (or eligible), the same in SQL as in Python."""
    ruleset = app.state.rules.current
    for rule in ruleset.rules.values():
        if not rule.in_force(as_of):
            continue
        district = a_district_in(rule.definition.region[0], ruleset.tables)
        companies = []
        for criterion in rule.criteria:
            for leaf in leaves(criterion.node):
                if isinstance(leaf, Compare) and isinstance(leaf.right, Param):
                    bound = rule.params[leaf.right.name].value
                    companies += [fields for step in (-1, 0, 1)
                                  if (fields := at_bound(leaf.left.name, bound, step, as_of)) is not None]
        if not companies:
            continue
        with app.state.session_factory() as session:
            session.execute(delete(Company))
            profiles = {}
            for fields in companies:
                profile = Profile.model_validate({"region_code": district, **fields})
                profiles[create_company(session, profile).id] = profile
            session.commit()
            python = python_statuses(app, rule, profiles, as_of)
            assert registry.statuses(session, rule, ruleset, as_of=as_of) == python, rule.id


@pytest.mark.parametrize("codes", [["320583"], ["320500"], ["320000"], ["320583", "440305"], ["110101"]], ids=str)
def test_the_region_prefilter_keeps_exactly_the_companies_a_region_may_hold(
        client: TestClient, app: FastAPI, codes: list[str]) -> None:
    """impact() counts only the companies the prefilter keeps and takes the rest as outside: it must
    keep every company registered within a region or at a larger area holding it, and no other."""
    tables = app.state.rules.current.tables
    places = ["320583", "320500", "320000", "320505", "320200", "440305", "440300", "440000", "110101", "110100",
              "110000", "330106"]
    with app.state.session_factory() as session:
        session.execute(delete(Company))
        stored = {create_company(session, Profile.model_validate({"region_code": place})).id: place for place in places}
        session.commit()
        kept = set(session.execute(select(registry.FACTS.c.company_id).where(
            region_prefilter(registry.FACTS, codes, tables))).scalars())
    assert {stored[cid] for cid in kept} == {
        place for place in places if any(tables.region_within(place, code) is not False for code in codes)}


@pytest.mark.parametrize("condition", FORMS)
def test_sql_and_python_agree_on_every_form_of_condition(app: FastAPI, stored: dict, condition: str) -> None:
    """Forms the catalogue does not use today (an enum compared with == or !=, not in, <, !=, two figures,
    an empty list), on every seed company and on companies known in part: a draft may use any of them."""
    ruleset = app.state.rules.current
    rule = form_rule(condition, ruleset.tables)
    with app.state.session_factory() as session:
        companies = dict(stored)
        for fields in EDGES:
            profile = Profile.model_validate({"region_code": "440305", **fields})
            companies[create_company(session, profile).id] = profile
        session.commit()
        for as_of in DATES:
            assert registry.statuses(session, rule, ruleset, as_of=as_of) == python_statuses(app, rule, companies, as_of)
