"""Clinic day: video room names, consultation medium and timestamps on appointments, the
appointment event history, and video room closures.

Columns are added with plain ADD COLUMN (no batch mode): on SQLite, batch mode would rebuild
the appointments table and silently drop its overlap triggers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = {
    "video_room": sa.String(length=64),
    "medium": sa.String(length=20),
    "checked_in_at": sa.DateTime(timezone=True),
    "arrived_at": sa.DateTime(timezone=True),
    "call_started_at": sa.DateTime(timezone=True),
    "finished_at": sa.DateTime(timezone=True),
}


def upgrade() -> None:
    op.create_table(
        "video_room_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_video_room_closures_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["staff_users.id"],
            name=op.f("fk_video_room_closures_created_by_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["video_rooms.id"],
            name=op.f("fk_video_room_closures_room_id_video_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_room_closures")),
    )
    op.create_index("ix_video_room_closures_room_id", "video_room_closures", ["room_id"])
    op.create_table(
        "appointment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["staff_users.id"],
            name=op.f("fk_appointment_events_actor_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_events_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_events")),
    )
    op.create_index(
        "ix_appointment_events_appointment_id", "appointment_events", ["appointment_id"]
    )
    for name, type_ in NEW_COLUMNS.items():
        op.add_column("appointments", sa.Column(name, type_, nullable=True))
    op.create_index("ix_appointments_video_room", "appointments", ["video_room"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_appointments_video_room", table_name="appointments")
    for name in reversed(NEW_COLUMNS):
        op.drop_column("appointments", name)
    op.drop_index("ix_appointment_events_appointment_id", table_name="appointment_events")
    op.drop_table("appointment_events")
    op.drop_index("ix_video_room_closures_room_id", table_name="video_room_closures")
    op.drop_table("video_room_closures")
