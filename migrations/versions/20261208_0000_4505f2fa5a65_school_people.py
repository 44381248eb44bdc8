"""person: people engaged by a school itself (issue 14, item 1): a person belongs to a provider or a school

Revision ID: 4505f2fa5a65
Revises: b4d1f6a2c8e3
Create Date: 2026-12-08 00:00:00

provider_id becomes nullable, school_id (FK school.id) and engagement (退休教师、家长、...) are added, and a CHECK
requires exactly one owner. A school registers an ID number once (one_person_per_school).
"""
import sqlalchemy as sa
from alembic import op

revision = '4505f2fa5a65'
down_revision = 'b4d1f6a2c8e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('engagement', sa.Enum('retired_teacher', 'parent', 'volunteer', 'heritage',
                                                            'coach', 'other', name='engagementkind',
                                                            native_enum=False, length=16), nullable=True))
        batch_op.alter_column('provider_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_person_school_id'), ['school_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_person_school_id_school'), 'school', ['school_id'], ['id'])
        batch_op.create_unique_constraint('one_person_per_school', ['school_id', 'id_bidx'])
        batch_op.create_check_constraint(op.f('ck_person_one_owner'), '(provider_id IS NULL) <> (school_id IS NULL)')


def downgrade():
    op.execute("DELETE FROM person WHERE provider_id IS NULL")
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_person_one_owner'), type_='check')
        batch_op.drop_constraint('one_person_per_school', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_person_school_id_school'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_person_school_id'))
        batch_op.alter_column('provider_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('engagement')
        batch_op.drop_column('school_id')
