"""city_policy: public-notice settings (issue 19): contact, phone, objection address, supervision phone, 文号

Revision ID: e19b7c4d2a61
Revises: c78af728ce1b
Create Date: 2026-12-08 00:00:00

Five text columns, empty ("" = not set) for every existing city.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e19b7c4d2a61'
down_revision = 'c78af728ce1b'
branch_labels = None
depends_on = None

COLUMNS = (("notice_contact", 64), ("notice_phone", 32), ("objection_address", 255), ("supervision_phone", 32),
           ("doc_number_pattern", 64))


def upgrade():
    with op.batch_alter_table('city_policy', schema=None) as batch_op:
        for name, size in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=size), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('city_policy', schema=None) as batch_op:
        for name, _size in reversed(COLUMNS):
            batch_op.drop_column(name)
