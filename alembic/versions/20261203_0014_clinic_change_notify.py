"""Tell every app process when a clinic changes: statement triggers on the tables a clinic day
is read from NOTIFY `telehealth_clinic` (PostgreSQL delivers it at commit), and each process
drops the clinic days it had kept for checking bookings (`scheduling.placement.ClinicDays`).
Triggers, so a change from anywhere (the pages, the API, the CLI, a hand-made fix in psql)
takes effect at once. SQLite needs nothing: there the cache is off.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "telehealth_clinic"  # scheduling.placement.CLINIC_CHANNEL, frozen here
TABLES = (
    "services",
    "clinicians",
    "clinician_sessions",
    "session_services",
    "session_hubs",
    "clinician_leave",
    "sites",
    "video_rooms",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION notify_clinic_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_notify_clinic AFTER INSERT OR UPDATE OR DELETE OR "
            f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION notify_clinic_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER trg_{table}_notify_clinic ON {table}")
    op.execute("DROP FUNCTION notify_clinic_change()")
