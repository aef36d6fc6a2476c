"""The `telehealth` command, run as a user would run it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import httpx

from app import create_app
from telehealth.cli import build_parser
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine, make_sessionmaker


def _run(url: str, root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": url, "TELEHEALTH_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "telehealth.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=120,
    )


def _commands(parser: argparse.ArgumentParser) -> list[list[str]]:
    """Every command and group of commands the parser accepts, as the words that name it
    (["travel"], ["travel", "recompute"]), found by walking its subparsers, not listed by hand."""
    found: list[list[str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append([name])
                found.extend([name, *words] for words in _commands(sub))
    return found


def test_every_command_has_help(project_root: Path) -> None:
    commands = _commands(build_parser())
    # The walk finds nested commands too, not just the top level.
    assert ["migrate"] in commands and ["users", "create"] in commands
    assert ["travel", "recompute"] in commands and ["tokens", "revoke"] in commands
    for command in commands:
        result = _run("sqlite+aiosqlite:///unused.db", project_root, *command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert f"usage: telehealth {' '.join(command)}" in result.stdout, command


async def test_create_user_and_token_then_call_the_api(
    fresh_database: str, project_root: Path
) -> None:
    assert _run(fresh_database, project_root, "migrate").returncode == 0
    created = _run(
        fresh_database,
        project_root,
        "users",
        "create",
        "--email",
        "Nav@Example.org",
        "--name",
        "Nina Navigator",
        "--role",
        "navigator",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created navigator nav@example.org" in created.stdout
    duplicate = _run(
        fresh_database,
        project_root,
        "users",
        "create",
        "--email",
        "nav@example.org",
        "--name",
        "Again",
        "--role",
        "navigator",
        "--password-stdin",
        stdin="another password!\n",
    )
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    short = _run(
        fresh_database,
        project_root,
        "users",
        "create",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--role",
        "admin",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.returncode == 1 and "at least 10" in short.stderr
    issued = _run(fresh_database, project_root, "tokens", "create", "--email", "nav@example.org")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("bth_")

    engine = create_engine(fresh_database)
    app = create_app(
        Settings(environment="test", secret_key="x"), sessionmaker=make_sessionmaker(engine)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        ok = await client.get("/api/v1/services", headers={"Authorization": f"Bearer {token}"})
        revoked = _run(
            fresh_database, project_root, "tokens", "revoke", "--email", "nav@example.org"
        )
        assert "revoked 1 token" in revoked.stdout
        refused = await client.get("/api/v1/services", headers={"Authorization": f"Bearer {token}"})
    await engine.dispose()
    assert ok.status_code == 200
    assert refused.status_code == 401


def test_postcodes_import_and_travel_commands(
    fresh_database: str, project_root: Path, tmp_path: Path
) -> None:
    imported = _run(fresh_database, project_root, "postcodes", "import", "--area", "LA")
    assert imported.returncode == 0, imported.stderr
    count = int(imported.stdout.split(":")[1].split()[0].replace(",", ""))
    assert count > 10_000
    onspd = tmp_path / "onspd.csv"
    onspd.write_text("pcds,oseast1m,osnrth1m\nLA1 4RP,347761,461046\nZZ9 9ZZ,,\n")
    from_file = _run(fresh_database, project_root, "postcodes", "import", "--csv", str(onspd))
    assert from_file.returncode == 0 and "1 postcodes" in from_file.stdout
    nothing = _run(fresh_database, project_root, "postcodes", "import")
    assert nothing.returncode == 1 and "--area" in nothing.stderr
    matrix = tmp_path / "matrix.csv"
    matrix.write_text("district,site_id,road_km,drive_minutes\nLA14,999,75.0,70\n")
    refused = _run(fresh_database, project_root, "travel", "matrix", str(matrix))
    assert refused.returncode == 1 and "no site with id 999" in refused.stderr
    recomputed = _run(fresh_database, project_root, "travel", "recompute")
    assert recomputed.returncode == 0 and "recomputed 0 travel records" in recomputed.stdout
