"""Creating the bench database, migrating it and bulk-loading a generated dataset.

The load goes through asyncpg's COPY on the engine's own connection, with every constraint
(foreign keys, checks, the exclusion constraints against overlapping bookings) left on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.columns import COLUMNS
from bench.dataset import Dataset
from telehealth.kernel import migrations
from telehealth.kernel.auth.service import create_token, create_user
from telehealth.kernel.db import make_sessionmaker

# Parents before children, for the foreign keys.
LOAD_ORDER = (
    "organisations",
    "sites",
    "video_rooms",
    "clinicians",
    "services",
    "patients",
    "clinician_sessions",
    "session_services",
    "session_hubs",
    "clinician_leave",
    "appointments",
)
BENCH_USER_EMAIL = "bench.navigator@bay-telehealth.nhs.uk"
# Migrations 0006 (travel queue) and 0007 (change feed for messages).
TRIGGERS = (
    "trg_appointments_queue_travel",
    "trg_appointments_record_change_insert",
    "trg_appointments_record_change_update",
)


@dataclass(frozen=True)
class LoadReport:
    migrate_seconds: float
    copy_seconds: dict[str, float]
    analyze_seconds: float  # VACUUM ANALYZE and CHECKPOINT

    @property
    def total_seconds(self) -> float:
        return self.migrate_seconds + sum(self.copy_seconds.values()) + self.analyze_seconds


async def recreate_database(url: str) -> None:
    """Drop and create the database named in `url` (a local PostgreSQL server only)."""
    parsed = make_url(url)
    if parsed.host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"refusing to drop a database on {parsed.host}: loopback only")
    name = parsed.database
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"unexpected database name {name!r}")
    server = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
    )
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()


async def load(engine: AsyncEngine, dataset: Dataset) -> LoadReport:
    started = time.perf_counter()
    await migrations.upgrade(engine)
    migrate_seconds = time.perf_counter() - started
    async with engine.connect() as connection:
        existing = await connection.scalar(text("SELECT count(*) FROM appointments"))
    if existing:
        raise SystemExit("the bench database already holds appointments: give an empty one")
    copy_seconds: dict[str, float] = {}
    async with engine.begin() as connection:
        # Loaded bookings stand for the past: their travel records and messages are not what
        # is measured, so keep the triggers from queueing all of them for the worker.
        for trigger in TRIGGERS:
            await connection.execute(text(f"ALTER TABLE appointments DISABLE TRIGGER {trigger}"))
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        for table in LOAD_ORDER:
            started = time.perf_counter()
            await driver.copy_records_to_table(
                table, records=dataset.rows[table], columns=list(COLUMNS[table])
            )
            copy_seconds[table] = time.perf_counter() - started
        for trigger in TRIGGERS:
            await connection.execute(text(f"ALTER TABLE appointments ENABLE TRIGGER {trigger}"))
        for table in LOAD_ORDER:
            if "id" in COLUMNS[table]:
                # Ids were given explicitly: move each sequence past them for the app's inserts.
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    started = time.perf_counter()
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))
        # Write the load out now, not in a checkpoint halfway through the measurements.
        await autocommit.execute(text("CHECKPOINT"))
    return LoadReport(migrate_seconds, copy_seconds, time.perf_counter() - started)


async def bench_token(engine: AsyncEngine) -> str:
    """A navigator account and a bearer token for it (navigators search and book)."""
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        user = await create_user(
            session, email=BENCH_USER_EMAIL, name="Bench navigator", role="navigator", password=None
        )
        await session.flush()
        return await create_token(session, user=user, name="bench")
