"""`appointment_travel.home_icc` (the Integrated Care Community of the patient's postcode
district) and `appointment_travel.starts_at` (so the report can keep booked appointments still
to come apart, as a forecast).

`starts_at` is copied from the appointments here; `home_icc` is filled by the worker, so every
existing record is queued for it (the report counts them as pending until it has run).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps timestamps as text in SQLAlchemy's format, as migration 0006 writes them.
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


def upgrade() -> None:
    # Plain ADD COLUMNs, nullable: SQLite needs no batch copy of the table.
    op.add_column("appointment_travel", sa.Column("home_icc", sa.String(100), nullable=True))
    op.add_column(
        "appointment_travel", sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE appointment_travel SET starts_at = (SELECT a.starts_at FROM appointments a"
        " WHERE a.id = appointment_travel.appointment_id)"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    now = "clock_timestamp()" if postgresql else SQLITE_NOW
    op.execute(
        f"INSERT INTO travel_queue (appointment_id, queued_at)"
        f" SELECT appointment_id, {now} FROM appointment_travel"
        f" WHERE appointment_id NOT IN (SELECT appointment_id FROM travel_queue)"
    )


def downgrade() -> None:
    op.drop_column("appointment_travel", "starts_at")
    op.drop_column("appointment_travel", "home_icc")
