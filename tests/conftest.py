"""One suite, two databases: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (a server URL; each run creates and drops its own
databases). Without it the PostgreSQL half is skipped locally; CI always sets it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app import create_app
from telehealth.kernel import migrations
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine

DIALECTS = ["sqlite", "postgresql"]


TEST_SETTINGS = Settings(environment="test", secret_key="test-secret-key-not-for-production")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("CI must set TEST_DATABASE_URL: PostgreSQL tests may not skip")


class Databases:
    """Creates throwaway databases: SQLite files, or PostgreSQL databases on one server."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.server_url = os.environ.get("TEST_DATABASE_URL")
        self.created: list[str] = []

    def available(self, dialect: str) -> bool:
        return dialect == "sqlite" or bool(self.server_url)

    async def create(self, dialect: str) -> str:
        name = f"telehealth_test_{uuid.uuid4().hex[:12]}"
        if dialect == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / name}.db"
        assert self.server_url
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        if not self.created or not self.server_url:
            return
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            for name in self.created:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    async def migrated(self, dialect: str) -> str:
        url = await self.create(dialect)
        engine = create_engine(url)
        await migrations.upgrade(engine)
        await engine.dispose()
        return url


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    found = Databases(tmp_path_factory.mktemp("db"))
    yield found
    await found.drop_all()


def _require(databases: Databases, dialect: str) -> None:
    if not databases.available(dialect):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")


@pytest.fixture(scope="session", params=DIALECTS)
async def engine(
    request: pytest.FixtureRequest, databases: Databases
) -> AsyncIterator[AsyncEngine]:
    """A migrated database per dialect, shared by the session; tests roll back their changes."""
    _require(databases, request.param)
    found = create_engine(await databases.migrated(request.param))
    yield found
    await found.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        await outer.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions joined to the test's transaction: their commits are savepoints."""
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as s:
        yield s


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


@pytest.fixture
async def client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture(params=DIALECTS)
async def fresh_database(request: pytest.FixtureRequest, databases: Databases) -> str:
    """An empty, migrated database of its own, for tests that need real commits across
    several connections or processes."""
    _require(databases, request.param)
    return await databases.migrated(request.param)


@pytest.fixture
def dialect(engine: AsyncEngine) -> str:
    return engine.dialect.name


@pytest.fixture(scope="session")
def project_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
