"""Queue an appointment's travel record from the database itself: a trigger on every insert
and update of `appointments` adds it to `travel_queue`, so no writer (the API, the clinic
screens, a script, a hand-made fix) can change an appointment and leave its figures stale,
and the booking path saves a round trip.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "trg_appointments_queue_travel"

# SQLite keeps timestamps as text in SQLAlchemy's format (six fractional digits), and the
# worker orders the queue by them.
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION queue_travel_record() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO travel_queue (appointment_id, queued_at)
                VALUES (NEW.id, clock_timestamp())
                ON CONFLICT (appointment_id) DO NOTHING;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE ON appointments "
            "FOR EACH ROW EXECUTE FUNCTION queue_travel_record()"
        )
        return
    for event in ("insert", "update"):
        op.execute(
            f"CREATE TRIGGER {TRIGGER}_{event} AFTER {event.upper()} ON appointments\n"
            "BEGIN\n"
            "  INSERT OR IGNORE INTO travel_queue (appointment_id, queued_at)\n"
            f"  VALUES (NEW.id, {SQLITE_NOW});\n"
            "END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TRIGGER} ON appointments")
        op.execute("DROP FUNCTION queue_travel_record()")
        return
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER {TRIGGER}_{event}")
