"""Tell every app process when a token or a staff account changes: statement triggers on
`api_tokens` and `staff_users` NOTIFY `telehealth_auth` (PostgreSQL delivers it at commit),
and each process drops the tokens it had verified (`telehealth.kernel.auth.cache`). Triggers, so a
revocation from anywhere (the CLI, a script, a hand-made fix in psql) takes effect at once.
SQLite needs nothing: there the cache is off.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "telehealth_auth"  # telehealth.kernel.auth.cache.CHANNEL, frozen here
TABLES = ("api_tokens", "staff_users")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_notify_auth AFTER UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER trg_{table}_notify_auth ON {table}")
    op.execute("DROP FUNCTION notify_auth_change()")
