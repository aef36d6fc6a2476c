"""Referrals and what the patient's own pages need: `referrals` (a patient to be seen by a
service, booked at most once), patients' accessible-information and companion needs, a
service's notice period for online changes, and `rate_limit_hits` (limits that hold across
app processes, for the lost-link lookup).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Column constraints, so SQLite's ALTER TABLE ... ADD COLUMN can carry the check too.
    op.add_column(
        "patients", sa.Column("accessible_information", sa.String(length=200), nullable=True)
    )
    op.add_column(
        "patients",
        sa.Column("companion", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "services",
        sa.Column(
            "change_notice_minutes",
            sa.Integer(),
            sa.CheckConstraint(
                "change_notice_minutes >= 0", name=op.f("ck_services_change_notice_not_negative")
            ),
            nullable=False,
            server_default="0",
        ),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("see_by", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("video_suitable", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("invited_at", UTC_DATETIME, nullable=True),
        sa.Column("help_requested_at", UTC_DATETIME, nullable=True),
        sa.Column("help_reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_system", sa.String(length=100), nullable=True),
        sa.Column("source_reference", sa.String(length=100), nullable=True),
        sa.Column("referred_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "priority IN ('routine', 'urgent', 'two_week_wait')",
            name=op.f("ck_referrals_priority_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'booked', 'closed')", name=op.f("ck_referrals_status_known")
        ),
        sa.CheckConstraint(
            "source IN ('navigator', 'api')", name=op.f("ck_referrals_source_known")
        ),
        sa.CheckConstraint(
            "status <> 'booked' OR appointment_id IS NOT NULL",
            name=op.f("ck_referrals_booked_has_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_referrals_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_referrals_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_referrals_service_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["referred_by_user_id"],
            ["staff_users.id"],
            name=op.f("fk_referrals_referred_by_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_referrals_appointment_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_referrals_reference")),
        sa.UniqueConstraint("source_system", "source_reference", name="uq_referrals_source"),
    )
    op.create_index(op.f("ix_referrals_patient_id"), "referrals", ["patient_id"])
    op.create_index("ix_referrals_status_see_by", "referrals", ["status", "see_by"])
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index(
        "ix_rate_limit_hits_bucket_key_at", "rate_limit_hits", ["bucket", "key", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_rate_limit_hits_bucket_key_at", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
    op.drop_index("ix_referrals_status_see_by", table_name="referrals")
    op.drop_index(op.f("ix_referrals_patient_id"), table_name="referrals")
    op.drop_table("referrals")
    # Plain DROP COLUMNs (see 0010); SQLite drops a column's own CHECK with it.
    op.drop_column("services", "change_notice_minutes")
    op.drop_column("patients", "companion")
    op.drop_column("patients", "accessible_information")
