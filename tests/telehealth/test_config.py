"""Settings read from the environment: the database pool sizes reach the engine."""

from __future__ import annotations

import pytest

from telehealth.config import Settings
from telehealth.db import MAX_OVERFLOW, POOL_SIZE, create_engine


def test_pool_sizes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "7")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "0")
    settings = Settings.from_environment(env_file=None)
    assert (settings.database_pool_size, settings.database_max_overflow) == (7, 0)
    engine = create_engine(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none", **settings.engine_options
    )
    assert (engine.pool.size(), engine.pool._max_overflow) == (7, 0)  # type: ignore[attr-defined]


def test_pool_sizes_default_to_the_measured_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    monkeypatch.delenv("DATABASE_MAX_OVERFLOW", raising=False)
    settings = Settings.from_environment(env_file=None)
    assert (settings.database_pool_size, settings.database_max_overflow) == (
        POOL_SIZE,
        MAX_OVERFLOW,
    )


@pytest.mark.parametrize(
    ("name", "value"), [("DATABASE_POOL_SIZE", "0"), ("DATABASE_MAX_OVERFLOW", "-1")]
)
def test_a_pool_size_out_of_range_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings.from_environment(env_file=None)


def test_sqlite_takes_no_pool_sizes() -> None:
    # SQLite in memory has a single-connection pool that would refuse pool_size outright.
    engine = create_engine("sqlite+aiosqlite:///:memory:", pool_size=7, max_overflow=0)
    assert engine.dialect.name == "sqlite"
