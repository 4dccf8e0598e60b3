"""sign_in_throttle: sign-in attempts per (username, address) and per address, counted atomically.

The throttle counted failures in audit_event with a SELECT before the attempt, so parallel attempts
all read the same count (20 in parallel: 19 checked against a limit of 5), and it counted per
username, so five wrong passwords from anywhere locked a real official out. One row per key now,
counted by a single INSERT … ON CONFLICT DO UPDATE … RETURNING.

Revision ID: 5c1e0a7d2b91
Revises: 5c2e9a7d41b0
Create Date: 2026-11-28 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0a7d2b91"
down_revision: str | Sequence[str] | None = "5c2e9a7d41b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    with op.batch_alter_table("sign_in_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_throttle_window_start"), ["window_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_throttle_window_start"))
    op.drop_table("sign_in_throttle")
