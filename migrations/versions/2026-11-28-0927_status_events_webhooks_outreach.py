"""Events, webhooks and outreach (issue 14): each stored company's status per measure
(company_status, and policy_status_run saying what each measure's statuses were decided with), every
change of it as a status_event, partners' webhooks and their deliveries, officials' outreach marks,
and company.client_id (the partner that stored a company, whose feed its events go to).

Revision ID: b5b031fc6ef3
Revises: 5c1e0a7d2b91
Create Date: 2026-11-28 09:27:37
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b5b031fc6ef3'
down_revision: str | Sequence[str] | None = '5c1e0a7d2b91'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('policy_status_run',
    sa.Column('policy_id', sa.String(length=100), nullable=False),
    sa.Column('rule_version', sa.String(length=64), nullable=False),
    sa.Column('facts_version', sa.String(length=16), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('policy_id', name=op.f('pk_policy_status_run'))
    )
    op.create_table('webhook',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], name=op.f('fk_webhook_client_id_api_client'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook'))
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_client_id'), ['client_id'], unique=False)

    op.create_table('company_status',
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('policy_id', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rule_version', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_company_status_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('company_id', 'policy_id', name=op.f('pk_company_status'))
    )
    with op.batch_alter_table('company_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_status_policy_id'), ['policy_id'], unique=False)

    op.create_table('outreach',
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('policy_id', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('official_id', sa.Uuid(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_outreach_company_id_company'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['official_id'], ['official.id'], name=op.f('fk_outreach_official_id_official'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('company_id', 'policy_id', name=op.f('pk_outreach'))
    )
    op.create_table('status_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=True),
    sa.Column('policy_id', sa.String(length=100), nullable=False),
    sa.Column('old_status', sa.String(length=16), nullable=False),
    sa.Column('new_status', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('cause', sa.String(length=16), nullable=False),
    sa.Column('rule_version', sa.String(length=64), nullable=False),
    sa.Column('previous_rule_version', sa.String(length=64), nullable=True),
    sa.Column('company_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], name=op.f('fk_status_event_client_id_api_client'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_status_event_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_event')),
    sa.UniqueConstraint('company_id', 'policy_id', 'revision', name=op.f('uq_status_event_company_id_policy_id_revision'))
    )
    with op.batch_alter_table('status_event', schema=None) as batch_op:
        batch_op.create_index('ix_status_event_client_id_id', ['client_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_event_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_status_event_policy_id_new_status_recorded_at', ['policy_id', 'new_status', 'recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_event_recorded_at'), ['recorded_at'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('webhook_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['status_event.id'], name=op.f('fk_webhook_delivery_event_id_status_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_webhook_delivery_webhook_id_webhook'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('webhook_id', 'event_id', name=op.f('uq_webhook_delivery_webhook_id_event_id'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_delivery_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_webhook_delivery_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_webhook_delivery_webhook_id_id', ['webhook_id', 'id'], unique=False)
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_company_client_id'), ['client_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_company_client_id_api_client'), 'api_client', ['client_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_company_client_id_api_client'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_company_client_id'))
        batch_op.drop_column('client_id')

    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_webhook_id_id')
        batch_op.drop_index('ix_webhook_delivery_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_event_id'))

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('status_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_event_recorded_at'))
        batch_op.drop_index('ix_status_event_policy_id_new_status_recorded_at')
        batch_op.drop_index(batch_op.f('ix_status_event_company_id'))
        batch_op.drop_index('ix_status_event_client_id_id')

    op.drop_table('status_event')
    op.drop_table('outreach')
    with op.batch_alter_table('company_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_status_policy_id'))

    op.drop_table('company_status')
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_client_id'))

    op.drop_table('webhook')
    op.drop_table('policy_status_run')
