"""decision.outcomes ({policy_id: status}, searched by the console), and decision.results as text on
PostgreSQL.

The answer (~20 KB) is written on every match and only ever read back whole; as JSONB, PostgreSQL
converted each one to its binary form on insert (250-350 µs of server CPU a row, against ~70 µs as
text). Searching decisions by policy and outcome now reads the small `outcomes` instead. Existing rows
get their outcomes from their answers.

Revision ID: 1bb54f6f183b
Revises: fa0ab5cda58c
Create Date: 2026-11-26 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "1bb54f6f183b"
down_revision: str | Sequence[str] | None = "fa0ab5cda58c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcomes", _json(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("decision", "results", type_=sa.Text(), postgresql_using="results::text")
        op.execute(
            "UPDATE decision SET outcomes = (SELECT coalesce(jsonb_object_agg(r ->> 'policy_id', r ->> 'status'), "
            "'{}'::jsonb) FROM jsonb_array_elements(results::jsonb -> 'results') AS r)"
        )
    else:
        op.execute(
            "UPDATE decision SET outcomes = (SELECT coalesce(json_group_object(json_extract(value, '$.policy_id'), "
            "json_extract(value, '$.status')), '{}') FROM json_each(results, '$.results'))"
        )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.alter_column("outcomes", existing_type=_json(), nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("decision", "results", type_=postgresql.JSONB(astext_type=sa.Text()),
                        postgresql_using="results::jsonb")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("outcomes")
