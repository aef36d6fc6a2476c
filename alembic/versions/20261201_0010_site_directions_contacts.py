"""Where to go and whom to call: `sites.directions` (how to get there and where to go inside),
`sites.phone` (the site's desk) and `services.phone` (the number patients call about an
appointment), so messages can say them instead of "contact the service".

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = (
    ("sites", "directions", sa.Text()),
    ("sites", "phone", sa.String(length=20)),
    ("services", "phone", sa.String(length=20)),
)


def upgrade() -> None:
    for table, name, type_ in COLUMNS:
        op.add_column(table, sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite has had it since 3.35), not a batch copy of the table: with
    # foreign keys on, SQLite's drop of the old `sites` would cascade to its video rooms.
    for table, name, _ in reversed(COLUMNS):
        op.drop_column(table, name)
