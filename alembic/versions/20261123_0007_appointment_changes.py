"""The appointment change feed: a trigger on `appointments` records each booking, move and
cancellation in `appointment_changes` with a copy of the appointment as it was, and the
worker turns those into messages (confirmation, change, cancellation, reminders). No writer
can change an appointment and leave its patient untold, and booking saves the round trip (and
the work) of writing the messages itself.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "trg_appointments_record_change"

# As in 0006: SQLite keeps timestamps as text in SQLAlchemy's format.
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"

# The appointment's columns copied into each change, in this order.
COPIED = (
    "sequence",
    "status",
    "starts_at",
    "ends_at",
    "mode",
    "site_id",
    "clinician_id",
    "patient_id",
    "cancel_reason",
)
COLUMNS = ", ".join(("appointment_id", "change", *COPIED, "at"))
# A move and a cancellation both bump the iCalendar SEQUENCE; the status tells them apart.
# Other updates (check-in, arrival, the call) are not news to anyone's inbox.
CHANGE_OF_UPDATE = "CASE WHEN NEW.status = 'cancelled' THEN 'cancelled' ELSE 'rescheduled' END"


def _values(change: str, now: str) -> str:
    return ", ".join(("NEW.id", change, *(f"NEW.{c}" for c in COPIED), now))


BOOKED = "'booked'"


def upgrade() -> None:
    op.create_table(
        "appointment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_changes_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_changes")),
    )
    op.create_index(
        op.f("ix_appointment_changes_appointment_id"),
        "appointment_changes",
        ["appointment_id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION record_appointment_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO appointment_changes ({COLUMNS})
                    VALUES ({_values(BOOKED, "clock_timestamp()")});
                ELSE
                    INSERT INTO appointment_changes ({COLUMNS})
                    VALUES ({_values(CHANGE_OF_UPDATE, "clock_timestamp()")});
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
        # Two triggers, each firing only when it has news: check-ins, arrivals and calls
        # (updates that leave `sequence` alone) do not run the function at all.
        op.execute(
            f"CREATE TRIGGER {TRIGGER}_insert AFTER INSERT ON appointments FOR EACH ROW "
            "WHEN (NEW.status = 'booked') EXECUTE FUNCTION record_appointment_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TRIGGER}_update AFTER UPDATE OF sequence ON appointments "
            "FOR EACH ROW WHEN (NEW.sequence IS DISTINCT FROM OLD.sequence) "
            "EXECUTE FUNCTION record_appointment_change()"
        )
        return
    op.execute(
        f"CREATE TRIGGER {TRIGGER}_insert AFTER INSERT ON appointments "
        "WHEN NEW.status = 'booked'\n"
        f"BEGIN\n  INSERT INTO appointment_changes ({COLUMNS})\n"
        f"  VALUES ({_values(BOOKED, SQLITE_NOW)});\nEND"
    )
    op.execute(
        f"CREATE TRIGGER {TRIGGER}_update AFTER UPDATE OF sequence ON appointments "
        "WHEN NEW.sequence IS NOT OLD.sequence\n"
        f"BEGIN\n  INSERT INTO appointment_changes ({COLUMNS})\n"
        f"  VALUES ({_values(CHANGE_OF_UPDATE, SQLITE_NOW)});\nEND"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER {TRIGGER}_{event}" + (" ON appointments" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION record_appointment_change()")
    op.drop_index(op.f("ix_appointment_changes_appointment_id"), table_name="appointment_changes")
    op.drop_table("appointment_changes")
