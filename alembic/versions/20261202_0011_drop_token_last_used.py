"""`api_tokens.last_used_at` goes: nothing ever wrote it, so it only ever said NULL (recording
each token's use would be a write on every API request, for nothing that reads it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain DROP COLUMN (SQLite has had it since 3.35), as in 0010: the column is in no
    # index, key or trigger, so SQLite needs no batch copy of the table.
    op.drop_column("api_tokens", "last_used_at")


def downgrade() -> None:
    op.add_column(
        "api_tokens", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True)
    )
