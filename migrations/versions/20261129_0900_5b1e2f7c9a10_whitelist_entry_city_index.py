"""whitelist entry: one index for a city's entries in force

Revision ID: 5b1e2f7c9a10
Revises: c797384072bf
Create Date: 2026-11-29 09:00:00

(city_id, status, valid_until) answers the public list and the school catalog from the index; it
also serves every lookup by city alone, so the single-column index goes.
"""
from alembic import op

revision = '5b1e2f7c9a10'
down_revision = 'c797384072bf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('whitelist_entry', schema=None) as batch_op:
        batch_op.create_index('ix_whitelist_entry_city_status_until', ['city_id', 'status', 'valid_until'],
                              unique=False)
        batch_op.drop_index('ix_whitelist_entry_city_id')


def downgrade():
    with op.batch_alter_table('whitelist_entry', schema=None) as batch_op:
        batch_op.create_index('ix_whitelist_entry_city_id', ['city_id'], unique=False)
        batch_op.drop_index('ix_whitelist_entry_city_status_until')
