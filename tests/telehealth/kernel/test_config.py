"""Settings read from the environment: the database pool sizes reach the engine."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from telehealth.kernel.config import ConfigError, Settings
from telehealth.kernel.db import MAX_OVERFLOW, POOL_SIZE, create_engine


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


# --- SECRET_KEY outside development -----------------------------------------------------

WEAK = [
    "a",
    "changeme",
    "CHANGEME",
    "dev-only-" + "Zq8" * 20,
    "x" * 64,
    "changeme" * 8,
    "0123456789abcdef" * 4,
    "f3a9c2e1b7d64a58",  # random, but only 64 bits
    "Tr0ub4dor&3-correct-horse",
]


@pytest.mark.parametrize("secret", WEAK)
def test_production_refuses_a_guessable_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("TELEHEALTH_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        Settings.from_environment(env_file=None)
    assert "\n" not in str(refused.value) and "secrets.token_urlsafe(32)" in str(refused.value)


def test_production_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHEALTH_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="must be set"):
        Settings.from_environment(env_file=None)


@pytest.mark.parametrize("secret", [secrets.token_urlsafe(32), secrets.token_hex(32)])
def test_production_takes_a_random_secret(monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.setenv("TELEHEALTH_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    assert Settings.from_environment(env_file=None).secret_key == secret


def test_a_weak_secret_stops_the_command_with_one_line(project_root: Path) -> None:
    env = os.environ | {"TELEHEALTH_ENV": "production", "SECRET_KEY": "changeme"}
    for command in (
        [sys.executable, "-m", "telehealth.cli", "migrate"],
        [sys.executable, "-m", "uvicorn", "app:app", "--port", "1"],
    ):
        result = subprocess.run(
            command, capture_output=True, text=True, cwd=project_root, env=env, timeout=60
        )
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr
        assert "cannot start: SECRET_KEY is a placeholder" in result.stderr


# --- development: one key for every process, links to where the server listens -----------


def test_development_processes_share_one_generated_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TELEHEALTH_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "var" / "secret_key"))
    first = Settings.from_environment(env_file=None).secret_key
    again = Settings.from_environment(env_file=None).secret_key
    assert first == again and len(first) > 40
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0
    # A fresh process (the worker under `make run`) reads the same key.
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from telehealth.kernel.config import Settings; "
            "print(Settings.from_environment(env_file=None).secret_key)",
        ],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=60,
    )
    assert other.stdout.strip() == first


def test_development_refuses_nothing_but_production_checks_an_explicit_dev_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.delenv("TELEHEALTH_ENV", raising=False)
    assert Settings.from_environment(env_file=None).secret_key == "short"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", "8123", "http://127.0.0.1:8123"),
        ("0.0.0.0", "9000", "http://127.0.0.1:9000"),
        ("::1", "8000", "http://[::1]:8000"),
    ],
)
def test_links_point_at_the_served_address_by_default(
    monkeypatch: pytest.MonkeyPatch, host: str, port: str, expected: str
) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("HOST", host)
    monkeypatch.setenv("PORT", port)
    assert Settings.from_environment(env_file=None).public_base_url == expected


def test_public_base_url_wins_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://video.bay.nhs.uk/")
    monkeypatch.setenv("PORT", "8123")
    assert Settings.from_environment(env_file=None).public_base_url == "https://video.bay.nhs.uk"
