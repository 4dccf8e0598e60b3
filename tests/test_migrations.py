"""Migrations: upgrade, downgrade to nothing, upgrade again, and no drift from the models."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from tests.conftest import alembic_config, scratch_database


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
