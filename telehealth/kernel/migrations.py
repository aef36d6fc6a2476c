"""Running the alembic migrations from code: the CLI, `make run` and the tests all use this."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alembic import command

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def upgrade_connection(connection: AsyncConnection, revision: str = "head") -> None:
    """Migrate inside the caller's transaction (the tests roll it back)."""
    await connection.run_sync(_upgrade, revision)


async def downgrade_connection(connection: AsyncConnection, revision: str) -> None:
    await connection.run_sync(_downgrade, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    async with engine.begin() as connection:
        await upgrade_connection(connection, revision)
