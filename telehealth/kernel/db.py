"""Database plumbing: the declarative base, engines with the SQLite hooks, and UTC instants.

Dates and times are stored as UTC instants. PostgreSQL keeps them as `timestamptz`; SQLite has no
time type, so they are stored as naive UTC text in one fixed format, which keeps string order
equal to time order (the overlap triggers depend on that).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Index, MetaData, Table, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.schema import ColumnCollectionConstraint
from sqlalchemy.types import TypeDecorator
from starlette.requests import HTTPConnection

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(entity: type[Base]) -> Table:
    """A mapped class's table. Hot-path inserts are written against the table: an insert of
    the entity itself goes through the ORM's bulk-insert machinery, several times dearer."""
    table = entity.__table__
    assert isinstance(table, Table)
    return table


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in Python, whatever the database does with time zones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        # asyncpg already gives UTC: skip the conversion on the hot path of slot search.
        return value if value.tzinfo is UTC else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


# Connections each process keeps open to PostgreSQL, and how many more it may open at a peak.
# Size the pool to the requests a process serves at once: a connection opened past it is
# closed again on return, and a fresh PostgreSQL backend (a fork, its catalogue caches, every
# prepared statement again) costs more CPU than the requests it serves; measured, the
# default of five cost booking a quarter of its throughput at 16 requests in flight.
# Processes x POOL_SIZE must stay under PostgreSQL's max_connections (100 by default).
POOL_SIZE = 20
MAX_OVERFLOW = 10


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    **kwargs: Any,
) -> AsyncEngine:
    """An engine with the per-dialect settings the invariants rely on. The pool sizes apply to
    PostgreSQL; SQLite (one writer at a time anyway) keeps SQLAlchemy's own pool."""
    if is_sqlite_url(url):
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        _install_sqlite_hooks(engine)
        return engine
    # No pre-ping (a round trip on every request): a connection found dead mid-request is
    # invalidated by SQLAlchemy and the request is run again (see `is_retryable`).
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=max_overflow, **kwargs
    )


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling begins lazily and breaks savepoints; we take over
        # and emit BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers serialise instead of both
        # reading the same free slot and one failing later with SQLITE_BUSY mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a plain DSN for a raw asyncpg connection."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# Deadlock and serialisation failure: PostgreSQL aborts one of the transactions, and running
# it again is the documented remedy. Concurrent inserts checked by one exclusion constraint
# (two bookings for the last rooms of a hub) can deadlock this way.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable(error: BaseException) -> bool:
    """A deadlock victim, a serialisation failure, or a pooled connection the server had
    closed (a database restart): running the transaction again is safe for all three."""
    if getattr(error, "connection_invalidated", False):
        return True
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


# SQLite names no constraint for a UNIQUE or PRIMARY KEY violation, only its columns:
# "UNIQUE constraint failed: appointments.reference". A CHECK names its constraint after the
# colon, and our triggers raise the name of the rule they enforce as the whole message.
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")
_SQLITE_NAMED = re.compile(r"(?:CHECK constraint failed: )?(\w+)")


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint `error` violated, for branching on it (never on the message).
    asyncpg reports it; SQLite's report is translated here, and only here."""
    orig = error.orig
    driver = getattr(orig, "driver_exception", orig)
    name = getattr(driver, "constraint_name", None)
    if name is not None or getattr(orig, "sqlite_errorname", None) is None:
        return name
    message = str(orig)
    unique = _SQLITE_UNIQUE.fullmatch(message)
    if unique is not None:
        return _unique_named(unique.group(1))
    named = _SQLITE_NAMED.fullmatch(message)
    return named.group(1) if named is not None else None


def _unique_named(columns: str) -> str | None:
    """The primary key, unique constraint or unique index on "table.a, table.b"."""
    qualified = [c.strip().split(".", 1) for c in columns.split(",")]
    table = Base.metadata.tables.get(qualified[0][0])
    if table is None:
        return None
    wanted = {column for _, column in qualified}
    keys: list[ColumnCollectionConstraint | Index] = [
        c for c in table.constraints if isinstance(c, ColumnCollectionConstraint)
    ]
    keys.extend(i for i in table.indexes if i.unique)
    for key in keys:
        if {c.name for c in key.columns} == wanted and isinstance(key.name, str):
            return key.name
    return None


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def sessionmaker_of(request: HTTPConnection) -> async_sessionmaker[AsyncSession]:
    """The app's sessionmaker (built in the lifespan, or handed in by the tests)."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return maker
