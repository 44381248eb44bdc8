"""application: a partial unique index allows one open application per provider (open_marker goes)

Revision ID: b4d1f6a2c8e3
Revises: a7c3e1f04b2d
Create Date: 2026-12-07 20:00:00

The unique (provider_id, open_marker) constraint, with open_marker kept at 1 while the application was open,
becomes a unique index on provider_id over the open statuses. The open statuses are spelled here as the
model's OPEN_PREDICATE spells them (the Enum column holds member names).
"""
import sqlalchemy as sa
from alembic import op

revision = 'b4d1f6a2c8e3'
down_revision = 'a7c3e1f04b2d'
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('draft', 'submitted', 'county_review', 'city_review', 'publicity')")


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint('one_open_per_provider', type_='unique')
        batch_op.drop_column('open_marker')
    op.create_index('uq_application_one_open', 'application', ['provider_id'], unique=True,
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade():
    op.drop_index('uq_application_one_open', table_name='application',
                  postgresql_where=OPEN, sqlite_where=OPEN)
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_marker', sa.Integer(), nullable=True))
    op.execute("UPDATE application SET open_marker = 1 WHERE " + OPEN.text)
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_unique_constraint('one_open_per_provider', ['provider_id', 'open_marker'])
