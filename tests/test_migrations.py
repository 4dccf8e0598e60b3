"""Migrations: upgrade, downgrade to nothing, upgrade again, and no drift from the models."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import create_engine, inspect, text

from tests.conftest import scratch_database
from tests.databases import alembic_config


def test_upgrade_downgrade_upgrade_then_no_drift(tmp_path) -> None:
    with scratch_database(tmp_path) as url:
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        engine = create_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        finally:
            engine.dispose()
        command.upgrade(config, "head")
        command.check(config)  # raises if the models and the migrations disagree
        engine = create_engine(url)
        try:
            assert {"company", "rule_version", "decision", "api_client"} <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()


def test_decisions_logged_before_outcomes_existed_get_them_from_their_answers(tmp_path) -> None:
    answer = {"ruleset": {"version": "v"}, "results": [{"policy_id": "js-sumao-loan", "status": "eligible"},
                                                       {"policy_id": "sz-unicorn", "status": "ineligible"}]}
    with scratch_database(tmp_path) as url:
        config = alembic_config(url)
        command.upgrade(config, "fa0ab5cda58c")  # before decision.outcomes
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO decision (id, created_at, as_of, ruleset_version, profile, results, rule_versions) "
                    "VALUES (:id, :at, :as_of, 'v', :profile, :results, :versions)"),
                    {"id": uuid.uuid4().hex if url.startswith("sqlite") else str(uuid.uuid4()),
                     "at": datetime.now(UTC), "as_of": date(2025, 6, 30), "profile": '{"region_code": "320506"}',
                     "results": json.dumps(answer), "versions": "{}"})
            command.upgrade(config, "head")
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT outcomes, results FROM decision")).one()
            outcomes = stored.outcomes if isinstance(stored.outcomes, dict) else json.loads(stored.outcomes)
            assert outcomes == {"js-sumao-loan": "eligible", "sz-unicorn": "ineligible"}
            assert json.loads(stored.results) == answer  # kept whole (as text on PostgreSQL)
            command.downgrade(config, "fa0ab5cda58c")
            with engine.connect() as conn:
                results = conn.execute(text("SELECT results FROM decision")).scalar_one()
            assert (results if isinstance(results, dict) else json.loads(results)) == answer
        finally:
            engine.dispose()
