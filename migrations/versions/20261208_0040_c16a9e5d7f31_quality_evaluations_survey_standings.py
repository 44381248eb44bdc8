"""quality (issue 16): school evaluations, parent survey codes and answers, alerts, term standings; the city's
parent weight for the combined satisfaction rate

Revision ID: c16a9e5d7f31
Revises: c6e2a9d41f07
Create Date: 2026-12-08 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c16a9e5d7f31'
down_revision = 'c6e2a9d41f07'
branch_labels = None
depends_on = None

GRADE = sa.Enum('good', 'fair', 'poor', name='grade', native_enum=False, length=16)
SATISFACTION = sa.Enum('satisfied', 'basic', 'dissatisfied', name='satisfaction', native_enum=False, length=16)
INTEREST = sa.Enum('high', 'some', 'none', name='interest', native_enum=False, length=16)
SAFETY = sa.Enum('safe', 'concerned', 'unsafe', name='safetyfeeling', native_enum=False, length=16)
LEVEL = sa.Enum('ok', 'few', 'below', name='standinglevel', native_enum=False, length=16)


def upgrade():
    op.create_table('standing_run',
    sa.Column('term_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['term_id'], ['term.id'], name=op.f('fk_standing_run_term_id_term')),
    sa.PrimaryKeyConstraint('term_id', name=op.f('pk_standing_run'))
    )
    op.create_table('project_standing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('parent_responses', sa.Integer(), nullable=False),
    sa.Column('parent_satisfied', sa.Integer(), nullable=False),
    sa.Column('school_responses', sa.Integer(), nullable=False),
    sa.Column('school_satisfied', sa.Integer(), nullable=False),
    sa.Column('parent_weight', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('no_show_rate', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('extra_fee_count', sa.Integer(), nullable=False),
    sa.Column('not_voluntary_count', sa.Integer(), nullable=False),
    sa.Column('level', LEVEL, nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['region.id'], name=op.f('fk_project_standing_city_id_region')),
    sa.ForeignKeyConstraint(['county_id'], ['region.id'], name=op.f('fk_project_standing_county_id_region')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'],
                            name=op.f('fk_project_standing_project_id_project')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                            name=op.f('fk_project_standing_provider_id_provider')),
    sa.ForeignKeyConstraint(['term_id'], ['term.id'], name=op.f('fk_project_standing_term_id_term')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_standing')),
    sa.UniqueConstraint('project_id', 'term_id', name=op.f('uq_project_standing_project_id_term_id'))
    )
    with op.batch_alter_table('project_standing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_standing_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_project_standing_term_city', ['term_id', 'city_id'], unique=False)

    op.create_table('school_evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('content', GRADE, nullable=False),
    sa.Column('punctuality', GRADE, nullable=False),
    sa.Column('safety', GRADE, nullable=False),
    sa.Column('engagement', GRADE, nullable=False),
    sa.Column('overall', SATISFACTION, nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('no_show_count', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_school_evaluation_created_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['service_order.id'],
                            name=op.f('fk_school_evaluation_order_id_service_order')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_school_evaluation_project_id_project')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                            name=op.f('fk_school_evaluation_provider_id_provider')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_school_evaluation_school_id_school')),
    sa.ForeignKeyConstraint(['term_id'], ['term.id'], name=op.f('fk_school_evaluation_term_id_term')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_evaluation')),
    sa.UniqueConstraint('order_id', name=op.f('uq_school_evaluation_order_id'))
    )
    with op.batch_alter_table('school_evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_evaluation_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_school_evaluation_term_project', ['term_id', 'project_id'], unique=False)

    op.create_table('survey_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('extra_fee', 'not_voluntary')", name=op.f('ck_survey_alert_kind')),
    sa.ForeignKeyConstraint(['case_id'], ['complaint.id'], name=op.f('fk_survey_alert_case_id_complaint')),
    sa.ForeignKeyConstraint(['order_id'], ['service_order.id'], name=op.f('fk_survey_alert_order_id_service_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_alert')),
    sa.UniqueConstraint('order_id', 'kind', name=op.f('uq_survey_alert_order_id_kind'))
    )
    op.create_table('survey_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['service_order.id'], name=op.f('fk_survey_code_order_id_service_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_survey_code_code_hash'))
    )
    with op.batch_alter_table('survey_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_code_order_id'), ['order_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', SATISFACTION, nullable=False),
    sa.Column('interest', INTEREST, nullable=False),
    sa.Column('safety', SAFETY, nullable=False),
    sa.Column('extra_fee', sa.Boolean(), nullable=False),
    sa.Column('voluntary', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['survey_code.id'], name=op.f('fk_survey_response_code_id_survey_code')),
    sa.ForeignKeyConstraint(['order_id'], ['service_order.id'],
                            name=op.f('fk_survey_response_order_id_service_order')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_survey_response_project_id_project')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_survey_response_provider_id_provider')),
    sa.ForeignKeyConstraint(['term_id'], ['term.id'], name=op.f('fk_survey_response_term_id_term')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sa.UniqueConstraint('code_id', name=op.f('uq_survey_response_code_id'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_survey_response_term_project', ['term_id', 'project_id'], unique=False)

    with op.batch_alter_table('city_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('satisfaction_parent_weight', sa.Numeric(precision=4, scale=3), nullable=False,
                                      server_default='0.700'))



def downgrade():
    with op.batch_alter_table('city_policy', schema=None) as batch_op:
        batch_op.drop_column('satisfaction_parent_weight')

    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_response_term_project')
        batch_op.drop_index(batch_op.f('ix_survey_response_order_id'))

    op.drop_table('survey_response')
    with op.batch_alter_table('survey_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_code_order_id'))

    op.drop_table('survey_code')
    op.drop_table('survey_alert')
    with op.batch_alter_table('school_evaluation', schema=None) as batch_op:
        batch_op.drop_index('ix_school_evaluation_term_project')
        batch_op.drop_index(batch_op.f('ix_school_evaluation_provider_id'))

    op.drop_table('school_evaluation')
    with op.batch_alter_table('project_standing', schema=None) as batch_op:
        batch_op.drop_index('ix_project_standing_term_city')
        batch_op.drop_index(batch_op.f('ix_project_standing_provider_id'))

    op.drop_table('project_standing')
    op.drop_table('standing_run')
