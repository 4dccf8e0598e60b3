"""company_fact.size_class_mask (the size classes a company's known figures leave open, so that one
figure below the large line settles "SME" in SQL as in Python) and company_fact.urban_district (市辖区,
for measures limited to 城区). Existing rows are rebuilt at the next start: the facts version changes.

Revision ID: 5c2e9a7d41b0
Revises: 1bb54f6f183b
Create Date: 2026-11-28 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2e9a7d41b0"
down_revision: str | Sequence[str] | None = "1bb54f6f183b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("company_fact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("size_class_mask", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("urban_district", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("company_fact", schema=None) as batch_op:
        batch_op.drop_column("urban_district")
        batch_op.drop_column("size_class_mask")
