"""project and provider: pending changes of reviewed fields

Revision ID: a3c5e7f9b2d4
Revises: 5b1e2f7c9a10
Create Date: 2026-12-07 19:00:00

What was reviewed is what runs: while a project or provider is on the whitelist, its columns hold the
published values and an edit of a reviewed field (price, stages, category, title, qualification; the
provider's name and type) waits in `pending_changes` until a 变更 application carrying it is published.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a3c5e7f9b2d4'
down_revision = '5b1e2f7c9a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_changes', sa.JSON(), nullable=True))
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_changes', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_column('pending_changes')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('pending_changes')
