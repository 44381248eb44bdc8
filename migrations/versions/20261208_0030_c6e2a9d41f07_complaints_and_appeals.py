"""complaints and appeals (issue 17): complaint and appeal tables, the cities' complaint deadlines

Revision ID: c6e2a9d41f07
Revises: ad27cf4ca9b1
Create Date: 2026-12-08 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c6e2a9d41f07"
down_revision = "ad27cf4ca9b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_code", sa.String(length=24), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "public", "school", "inspector", "survey", "visit", name="complaintsource", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "forced_participation",
                "new_lessons",
                "illegal_fees",
                "teacher_subsidy",
                "fund_diversion",
                "safety_incident",
                "staff_conduct",
                "service_quality",
                "selling",
                "other",
                name="complaintcategory",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "subject_kind",
            sa.Enum("provider", "project", "person", "school", name="subjectkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("pass_code", sa.String(length=64), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        sa.Column("complainant_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("complainant_phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "acknowledged",
                "awaiting_response",
                "decided",
                "closed",
                name="complaintstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("ack_due", sa.Date(), nullable=False),
        sa.Column("resolve_due", sa.Date(), nullable=False),
        sa.Column("calendar_warning", sa.String(length=255), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("acknowledged_on", sa.Date(), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("response_request", sa.Text(), nullable=True),
        sa.Column("response_due", sa.Date(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("responded_at", sa.DateTime(), nullable=True),
        sa.Column(
            "outcome", sa.Enum("upheld", "dismissed", name="outcome", native_enum=False, length=16), nullable=True
        ),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("sanction_kind", sa.String(length=16), nullable=True),
        sa.Column(
            "sanction_status",
            sa.Enum("proposed", "confirmed", "rejected", name="sanctionstatus", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column("sanction_action_id", sa.Integer(), nullable=True),
        sa.Column("sanction_decided_by_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("reminders", sa.JSON(), nullable=False),
        sa.Column("escalated_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["city_id"], ["region.id"], name=op.f("fk_complaint_city_id_region")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_complaint_decided_by_id_user")),
        sa.ForeignKeyConstraint(["filed_by_id"], ["user.id"], name=op.f("fk_complaint_filed_by_id_user")),
        sa.ForeignKeyConstraint(["handler_id"], ["user.id"], name=op.f("fk_complaint_handler_id_user")),
        sa.ForeignKeyConstraint(["order_id"], ["service_order.id"], name=op.f("fk_complaint_order_id_service_order")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_complaint_person_id_person")),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_complaint_project_id_project")),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"], name=op.f("fk_complaint_provider_id_provider")),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_complaint_region_id_region")),
        sa.ForeignKeyConstraint(
            ["sanction_action_id"], ["provider_action.id"], name=op.f("fk_complaint_sanction_action_id_provider_action")
        ),
        sa.ForeignKeyConstraint(
            ["sanction_decided_by_id"], ["user.id"], name=op.f("fk_complaint_sanction_decided_by_id_user")
        ),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_complaint_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_complaint_tracking_code")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_city_id"), ["city_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index("ix_complaint_queue", ["region_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_school_id"), ["school_id"], unique=False)

    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column(
            "subject",
            sa.Enum("rejection", "delisting", "ban", "complaint", name="appealsubject", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("original_decider_id", sa.Integer(), nullable=True),
        sa.Column("decided_on_original", sa.Date(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "confirmed", "changed", name="appealstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["provider_action.id"], name=op.f("fk_appeal_action_id_provider_action")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application.id"], name=op.f("fk_appeal_application_id_application")
        ),
        sa.ForeignKeyConstraint(["city_id"], ["region.id"], name=op.f("fk_appeal_city_id_region")),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], name=op.f("fk_appeal_complaint_id_complaint")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_appeal_decided_by_id_user")),
        sa.ForeignKeyConstraint(["filed_by_id"], ["user.id"], name=op.f("fk_appeal_filed_by_id_user")),
        sa.ForeignKeyConstraint(["original_decider_id"], ["user.id"], name=op.f("fk_appeal_original_decider_id_user")),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"], name=op.f("fk_appeal_provider_id_provider")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal")),
    )
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeal_city_id"), ["city_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appeal_provider_id"), ["provider_id"], unique=False)

    with op.batch_alter_table("city_policy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complaint_ack_working_days", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("complaint_resolve_working_days", sa.Integer(), nullable=False, server_default="13")
        )
        batch_op.add_column(
            sa.Column("complaint_extension_working_days", sa.Integer(), nullable=False, server_default="13")
        )
        batch_op.add_column(
            sa.Column("complaint_response_working_days", sa.Integer(), nullable=False, server_default="5")
        )
        batch_op.add_column(
            sa.Column("complaint_remind_working_days", sa.Integer(), nullable=False, server_default="2")
        )
        batch_op.add_column(
            sa.Column("complaint_rating_working_days", sa.Integer(), nullable=False, server_default="10")
        )
        batch_op.add_column(sa.Column("appeal_working_days", sa.Integer(), nullable=False, server_default="10"))


def downgrade():
    with op.batch_alter_table("city_policy", schema=None) as batch_op:
        batch_op.drop_column("appeal_working_days")
        batch_op.drop_column("complaint_rating_working_days")
        batch_op.drop_column("complaint_remind_working_days")
        batch_op.drop_column("complaint_response_working_days")
        batch_op.drop_column("complaint_extension_working_days")
        batch_op.drop_column("complaint_resolve_working_days")
        batch_op.drop_column("complaint_ack_working_days")

    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_provider_id"))
        batch_op.drop_index(batch_op.f("ix_appeal_city_id"))

    op.drop_table("appeal")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_school_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_region_id"))
        batch_op.drop_index("ix_complaint_queue")
        batch_op.drop_index(batch_op.f("ix_complaint_provider_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_city_id"))

    op.drop_table("complaint")
