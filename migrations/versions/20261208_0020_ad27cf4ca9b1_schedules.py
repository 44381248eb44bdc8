"""schedules (issue 15): after-school schedules and their filing, non-teaching days, fee notices; the city's
after-school window, 1+N, filing deadline and class-hour policy columns

Revision ID: ad27cf4ca9b1
Revises: da78a6318e12
Create Date: 2026-12-08 00:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ad27cf4ca9b1"
down_revision = "da78a6318e12"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fee_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column(
            "status", sa.Enum("draft", "published", name="feestatus", native_enum=False, length=16), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fee_standard", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("service_time", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("class_minutes", sa.Integer(), nullable=False),
        sa.Column("subsidy", sa.String(length=255), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("class_minutes > 0", name=op.f("ck_fee_notice_fee_class_minutes")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_fee_notice_school_id_school")),
        sa.ForeignKeyConstraint(["term_id"], ["term.id"], name=op.f("fk_fee_notice_term_id_term")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_notice")),
        sa.UniqueConstraint("school_id", "term_id", name=op.f("uq_fee_notice_school_id_term_id")),
    )
    op.create_table(
        "school_non_teaching_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_school_non_teaching_day_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_non_teaching_day")),
        sa.UniqueConstraint("school_id", "day", name=op.f("uq_school_non_teaching_day_school_id_day")),
    )
    op.create_table(
        "schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "accepted",
                "returned",
                "superseded",
                name="schedulestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_schedule_created_by_id_user")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_schedule_decided_by_id_user")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_schedule_school_id_school")),
        sa.ForeignKeyConstraint(["term_id"], ["term.id"], name=op.f("fk_schedule_term_id_term")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule")),
        sa.UniqueConstraint("school_id", "term_id", "revision", name=op.f("uq_schedule_school_id_term_id_revision")),
    )
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.create_index("ix_schedule_term_status", ["term_id", "status"], unique=False)

    op.create_table(
        "schedule_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("grade_from", sa.Integer(), nullable=False),
        sa.Column("grade_to", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.String(length=32), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.Integer(), nullable=False),
        sa.Column("ends_at", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("one", "n", name="rowkind", native_enum=False, length=8), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "science",
                "sports",
                "arts",
                "labour",
                "reading",
                "traditional_culture",
                "intangible_heritage",
                "career",
                "mental_health",
                "clubs",
                name="category",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "source", sa.Enum("own", "order", "person", name="rowsource", native_enum=False, length=8), nullable=False
        ),
        sa.Column("content", sa.String(length=128), nullable=False),
        sa.Column("school_project_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("teacher_name", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=128), nullable=False),
        sa.Column("class_size", sa.Integer(), nullable=False),
        sa.CheckConstraint("class_size > 0", name=op.f("ck_schedule_row_schedule_class_size")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_schedule_row_schedule_row_range")),
        sa.CheckConstraint(
            "grade_from >= 1 AND grade_to <= 9 AND grade_from <= grade_to", name=op.f("ck_schedule_row_schedule_grades")
        ),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 4", name=op.f("ck_schedule_row_schedule_weekday")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["service_order.id"], name=op.f("fk_schedule_row_order_id_service_order")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_schedule_row_person_id_person")),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedule.id"], name=op.f("fk_schedule_row_schedule_id_schedule"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_project_id"], ["school_project.id"], name=op.f("fk_schedule_row_school_project_id_school_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_row")),
    )
    with op.batch_alter_table("schedule_row", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_row_schedule_id"), ["schedule_id"], unique=False)

    with op.batch_alter_table("city_policy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("after_school_end_earliest", sa.Integer(), nullable=False, server_default=sa.text("1050"))
        )
        batch_op.add_column(
            sa.Column("n_share_min", sa.Numeric(precision=4, scale=3), nullable=False, server_default=sa.text("0.500"))
        )
        batch_op.add_column(sa.Column("science_per_week", sa.Integer(), nullable=False, server_default=sa.text("1")))
        batch_op.add_column(
            sa.Column("filing_deadline_days", sa.Integer(), nullable=False, server_default=sa.text("30"))
        )
        batch_op.add_column(
            sa.Column("class_minutes_primary", sa.Integer(), nullable=False, server_default=sa.text("40"))
        )
        batch_op.add_column(
            sa.Column("class_minutes_junior", sa.Integer(), nullable=False, server_default=sa.text("45"))
        )


def downgrade():
    with op.batch_alter_table("city_policy", schema=None) as batch_op:
        batch_op.drop_column("class_minutes_junior")
        batch_op.drop_column("class_minutes_primary")
        batch_op.drop_column("filing_deadline_days")
        batch_op.drop_column("science_per_week")
        batch_op.drop_column("n_share_min")
        batch_op.drop_column("after_school_end_earliest")

    with op.batch_alter_table("schedule_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_row_schedule_id"))

    op.drop_table("schedule_row")
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_term_status")

    op.drop_table("schedule")
    op.drop_table("school_non_teaching_day")
    op.drop_table("fee_notice")
