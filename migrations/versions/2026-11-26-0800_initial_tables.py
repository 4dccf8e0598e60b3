"""Initial tables: company, rule_version, api_client, decision.

Revision ID: a2b9779c0330
Revises:
Create Date: 2026-11-26 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a2b9779c0330"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_client",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_client_key_hash")),
    )
    op.create_table(
        "company",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("profile", _json(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_company_credit_code")),
    )
    op.create_index(op.f("ix_company_region_code"), "company", ["region_code"])
    op.create_table(
        "rule_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_version")),
        sa.UniqueConstraint("rule_id", "version", name=op.f("uq_rule_version_rule_id_version")),
    )
    op.create_index(op.f("ix_rule_version_rule_id"), "rule_version", ["rule_id"])
    op.create_table(
        "decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("ruleset_version", sa.String(length=64), nullable=False),
        sa.Column("profile", _json(), nullable=False),
        sa.Column("results", _json(), nullable=False),
        sa.Column("rule_versions", _json(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_client.id"], name=op.f("fk_decision_client_id_api_client"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_decision_company_id_company"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
    )
    op.create_index(op.f("ix_decision_client_id"), "decision", ["client_id"])
    op.create_index(op.f("ix_decision_company_id"), "decision", ["company_id"])
    op.create_index(op.f("ix_decision_created_at"), "decision", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_decision_created_at"), table_name="decision")
    op.drop_index(op.f("ix_decision_company_id"), table_name="decision")
    op.drop_index(op.f("ix_decision_client_id"), table_name="decision")
    op.drop_table("decision")
    op.drop_index(op.f("ix_rule_version_rule_id"), table_name="rule_version")
    op.drop_table("rule_version")
    op.drop_index(op.f("ix_company_region_code"), table_name="company")
    op.drop_table("company")
    op.drop_table("api_client")
