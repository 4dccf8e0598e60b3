"""official, official_session and audit_event: the console's accounts, sessions and append-only log.

audit_event gets triggers that refuse UPDATE and DELETE on both backends, so "append-only" does not
rest on the application code alone.

Revision ID: fa0ab5cda58c
Revises: d771191054bf
Create Date: 2026-11-26 08:26:29.039126
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "fa0ab5cda58c"
down_revision: str | Sequence[str] | None = "d771191054bf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "official",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official")),
        sa.UniqueConstraint("username", name=op.f("uq_official_username")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("official_id", sa.Uuid(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(["official_id"], ["official.id"], name=op.f("fk_audit_event_official_id_official")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_ip"), ["ip"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_official_id"), ["official_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_recorded_at"), ["recorded_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_username"), ["username"], unique=False)
    op.create_table(
        "official_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("official_id", sa.Uuid(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["official_id"], ["official.id"],
                                name=op.f("fk_official_session_official_id_official"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_session")),
    )
    with op.batch_alter_table("official_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_official_session_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_official_session_official_id"), ["official_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
            END $$""")
        op.execute("""
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_event_no_{operation.lower()} BEFORE {operation} ON audit_event
                BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: {operation} refused'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    with op.batch_alter_table("official_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_official_session_official_id"))
        batch_op.drop_index(batch_op.f("ix_official_session_expires_at"))
    op.drop_table("official_session")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_username"))
        batch_op.drop_index(batch_op.f("ix_audit_event_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_official_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_ip"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))
    op.drop_table("audit_event")
    op.drop_table("official")
