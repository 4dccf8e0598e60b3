"""company_fact: typed fact columns of each stored company, for registry-wide matching in SQL.

Revision ID: d771191054bf
Revises: a2b9779c0330
Create Date: 2026-11-26 08:20:19.682056
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d771191054bf"
down_revision: str | Sequence[str] | None = "a2b9779c0330"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("company_fact",
    sa.Column("company_id", sa.Uuid(), nullable=False),
    sa.Column("facts_version", sa.String(length=16), nullable=False),
    sa.Column("region_code", sa.String(length=6), nullable=False),
    sa.Column("region_l1", sa.String(length=6), nullable=True),
    sa.Column("region_l2", sa.String(length=6), nullable=True),
    sa.Column("region_l3", sa.String(length=6), nullable=True),
    sa.Column("industry_code", sa.String(length=5), nullable=True),
    sa.Column("entity_type", sa.String(length=32), nullable=True),
    sa.Column("listing_status", sa.String(length=16), nullable=True),
    sa.Column("founded_on", sa.Date(), nullable=True),
    sa.Column("employees", sa.Integer(), nullable=True),
    sa.Column("rd_staff", sa.Integer(), nullable=True),
    sa.Column("invention_patents", sa.Integer(), nullable=True),
    sa.Column("annual_revenue", sa.Double(), nullable=True),
    sa.Column("main_business_revenue", sa.Double(), nullable=True),
    sa.Column("total_assets", sa.Double(), nullable=True),
    sa.Column("rd_expense", sa.Double(), nullable=True),
    sa.Column("export_revenue", sa.Double(), nullable=True),
    sa.Column("import_value", sa.Double(), nullable=True),
    sa.Column("valuation", sa.Double(), nullable=True),
    sa.Column("size_class", sa.String(length=16), nullable=True),
    sa.Column("industry_group", sa.String(length=32), nullable=True),
    sa.Column("above_designated_size", sa.Boolean(), nullable=True),
    sa.Column("above_quota", sa.Boolean(), nullable=True),
    sa.Column("designated_size_line", sa.Double(), nullable=True),
    sa.Column("rd_intensity", sa.Double(), nullable=True),
    sa.Column("rd_staff_share", sa.Double(), nullable=True),
    sa.Column("export_share", sa.Double(), nullable=True),
    sa.Column("main_business_share", sa.Double(), nullable=True),
    sa.Column("domestic_revenue", sa.Double(), nullable=True),
    sa.Column("certifications_mask", sa.BigInteger(), nullable=True),
    sa.Column("clusters_mask", sa.BigInteger(), nullable=True),
    sa.Column("activities_mask", sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(["company_id"], ["company.id"], name=op.f("fk_company_fact_company_id_company"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("company_id", name=op.f("pk_company_fact"))
    )
    with op.batch_alter_table("company_fact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_fact_region_l1"), ["region_l1"], unique=False)
        batch_op.create_index(batch_op.f("ix_company_fact_region_l2"), ["region_l2"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("company_fact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_fact_region_l2"))
        batch_op.drop_index(batch_op.f("ix_company_fact_region_l1"))

    op.drop_table("company_fact")
