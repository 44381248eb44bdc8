"""passes: entry passes, pass photos, gate scans; the gate keeper role; the gate window and photo retention
(issue 14)

Revision ID: da78a6318e12
Revises: 4505f2fa5a65
Create Date: 2026-12-08 00:10:00

A gate keeper (门卫) is bound to one school like a school admin: the user table's CHECK now names both roles.
"""
import sqlalchemy as sa
from alembic import op

revision = 'da78a6318e12'
down_revision = '4505f2fa5a65'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pass_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('consent_on', sa.Date(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_pass_photo_file_id_stored_file')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_pass_photo_person_id_person')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_pass_photo_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pass_photo')),
    sa.UniqueConstraint('person_id', name=op.f('uq_pass_photo_person_id'))
    )
    op.create_table('entry_pass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('order', 'school', name='passkind', native_enum=False, length=8), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('link_key', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('time_slot', sa.String(length=32), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=255), nullable=True),
    sa.Column('token', sa.String(length=600), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user.id'], name=op.f('fk_entry_pass_issued_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['service_order.id'], name=op.f('fk_entry_pass_order_id_service_order')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_entry_pass_person_id_person')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_entry_pass_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_pass')),
    sa.UniqueConstraint('code', name=op.f('uq_entry_pass_code')),
    sa.UniqueConstraint('link_key', name=op.f('uq_entry_pass_link_key')),
    sa.UniqueConstraint('order_id', 'person_id', name='one_pass_per_order_person')
    )
    with op.batch_alter_table('entry_pass', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_pass_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_pass_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_pass_school_id'), ['school_id'], unique=False)

    op.create_table('gate_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pass_id', sa.Integer(), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('scanned_at', sa.DateTime(), nullable=False),
    sa.Column('scan_day', sa.Date(), nullable=False),
    sa.Column('result', sa.Enum('allowed', 'denied', name='scanresult', native_enum=False, length=8), nullable=False),
    sa.Column('direction', sa.Enum('entry', 'leave', name='scandirection', native_enum=False, length=8),
              nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('offline_result', sa.Enum('allowed', 'denied', name='scanresult', native_enum=False, length=8),
              nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pass_id'], ['entry_pass.id'], name=op.f('fk_gate_scan_pass_id_entry_pass')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_gate_scan_school_id_school')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_gate_scan_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_scan')),
    sa.UniqueConstraint('client_id', name=op.f('uq_gate_scan_client_id'))
    )
    with op.batch_alter_table('gate_scan', schema=None) as batch_op:
        batch_op.create_index('ix_gate_scan_pass_day', ['pass_id', 'scan_day'], unique=False)
        batch_op.create_index('ix_gate_scan_school_day', ['school_id', 'scan_day'], unique=False)

    with op.batch_alter_table('city_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gate_window_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.add_column(sa.Column('pass_photo_retention_months', sa.Integer(), nullable=False,
                                      server_default='6'))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_school_admin_has_school'), type_='check')
        batch_op.create_check_constraint(op.f('ck_user_school_admin_has_school'),
                                         "(role IN ('school_admin', 'gate_keeper')) = (school_id IS NOT NULL)")



def downgrade():
    op.execute("DELETE FROM user_session WHERE user_id IN (SELECT id FROM \"user\" WHERE role = 'gate_keeper')")
    op.execute("UPDATE \"user\" SET school_id = NULL, disabled_at = CURRENT_TIMESTAMP, role = 'auditor' "
               "WHERE role = 'gate_keeper'")
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_school_admin_has_school'), type_='check')
        batch_op.create_check_constraint(op.f('ck_user_school_admin_has_school'),
                                         "(role = 'school_admin') = (school_id IS NOT NULL)")
    with op.batch_alter_table('city_policy', schema=None) as batch_op:
        batch_op.drop_column('pass_photo_retention_months')
        batch_op.drop_column('gate_window_minutes')

    with op.batch_alter_table('gate_scan', schema=None) as batch_op:
        batch_op.drop_index('ix_gate_scan_school_day')
        batch_op.drop_index('ix_gate_scan_pass_day')

    op.drop_table('gate_scan')
    with op.batch_alter_table('entry_pass', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_pass_school_id'))
        batch_op.drop_index(batch_op.f('ix_entry_pass_person_id'))
        batch_op.drop_index(batch_op.f('ix_entry_pass_order_id'))

    op.drop_table('entry_pass')
    op.drop_table('pass_photo')
