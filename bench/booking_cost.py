"""What one booking costs the app, measured so that a busy machine does not blur it: the
instructions the app's process executes per POST /api/v1/appointments (under valgrind's
callgrind), its CPU time, the CPU time of the PostgreSQL backends serving it and the SQL
statements it sends. The requests go through the ASGI app in process (httpx.ASGITransport),
one at a time, with the app's own lifespan: its engine and pool, and on PostgreSQL the
listener that turns the token cache on, as under uvicorn.

    .venv/bin/python bench/booking_cost.py                    # CPU time and statements
    .venv/bin/python bench/booking_cost.py --callgrind        # and instructions per booking
    .venv/bin/python bench/booking_cost.py --profile out.html # and a pyinstrument profile
    .venv/bin/python bench/booking_cost.py --bare --callgrind # the bare INSERT app's, likewise

Each run recreates its database (`telehealth_booking_cost`, a small dataset with the bench's
empty weekend clinic), natively. Instructions per booking come from two runs under callgrind
that differ only in the number of timed bookings (`--bookings` and twice that): the
difference divided by the extra bookings leaves out start-up, imports, the dataset's set-up
and warm-up, all the same in both runs. Wall-clock rates on a shared two-core machine vary
by a fifth from run to run; instruction counts by well under a percent.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/booking_cost.py`
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402

from bench import cpu, dataset, loading  # noqa: E402
from bench.booking import app_body, bare_body, free_slots  # noqa: E402
from telehealth.kernel.db import create_engine, make_sessionmaker  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/telehealth_booking_cost"
WARMUP = 30


async def prepare(url: str, count: int) -> dict[str, Any]:
    """A fresh database with a small dataset; returns the token and `count` booking bodies."""
    await loading.recreate_database(url)
    data = dataset.generate(
        clinicians=20, appointments=5_000, patients=5_000, today=date.today(),
        now=dataset.utc_now(),
    )  # fmt: skip
    engine = create_engine(url)
    try:
        await loading.load(engine, data)
        token = await loading.bench_token(engine)
        found = await free_slots(make_sessionmaker(engine), data.bench_service_id, count)
    finally:
        await engine.dispose()
    # Patients in turn: one comes round again only thousands of slots later.
    pairs = [(s, i % 4_000 + 1) for i, s in enumerate(found)]
    service = data.bench_service_id
    return {
        "token": token,
        "bodies": [app_body(s, service, p) for s, p in pairs],
        "bare_bodies": [bare_body(s, service, p) for s, p in pairs],
    }


async def measure(
    url: str, plan: dict[str, Any], warmup: int, profile: str | None, *, bare: bool = False
) -> dict[str, Any]:
    """Book `plan`'s bodies through the app (or with `bare` the bare INSERT app), the first
    `warmup` untimed."""
    import httpx

    app: Any
    if bare:
        os.environ["DATABASE_URL"] = url  # read by the bare app's lifespan
        from bench import bare_app

        app, path, bodies, headers = bare_app.app, "/appointments", plan["bare_bodies"], {}
    else:
        from app import create_app
        from telehealth.kernel.config import Settings

        app = create_app(Settings(database_url=url, secret_key="bench-only-not-a-secret"))
        path, bodies = "/api/v1/appointments", plan["bodies"]
        headers = {"Authorization": f"Bearer {plan['token']}"}
    statements: Counter[str] = Counter()
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench.test",
                headers=headers,
            )
        )  # fmt: skip

        async def book(body: dict[str, Any]) -> None:
            response = await client.post(path, json=body)
            if response.status_code != 201:
                raise SystemExit(f"booking refused: {response.status_code} {response.text}")

        for body in bodies[:warmup]:
            await book(body)
        engine = app.state.engine if bare else app.state.sessionmaker.kw["bind"]
        async with engine.connect() as connection:
            backends = list(
                await connection.scalars(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
                )
            )

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements[statement.split(None, 1)[0].upper()] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        profiler = _Profiler(profile)
        profiler.start()
        database_before = sum(cpu.tree_seconds(pid) for pid in backends)
        cpu_before, clock = time.process_time(), time.perf_counter()
        for body in bodies[warmup:]:
            await book(body)
        cpu_seconds = time.process_time() - cpu_before
        wall_seconds = time.perf_counter() - clock
        database_seconds = sum(cpu.tree_seconds(pid) for pid in backends) - database_before
        profiler.stop()
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    timed = len(bodies) - warmup
    return {
        "bookings": timed,
        "cpu_ms": cpu_seconds * 1000 / timed,
        "wall_ms": wall_seconds * 1000 / timed,
        "database_cpu_ms": database_seconds * 1000 / timed,
        "statements": {k: v / timed for k, v in statements.items()},
    }


class _Profiler:
    """cProfile's when the file named ends .pstats, else pyinstrument's (an HTML page if it
    ends .html, else text); none without a file."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.profiler: Any = None
        if path is None:
            return
        if path.endswith(".pstats"):
            import cProfile

            self.profiler = cProfile.Profile()
            return
        try:  # by name: pyinstrument is optional, and mypy need not find it
            profiler_class = importlib.import_module("pyinstrument").Profiler
        except ImportError:
            raise SystemExit("--profile needs pyinstrument: pip install pyinstrument") from None
        self.profiler = profiler_class(interval=0.0002, async_mode="disabled")

    def start(self) -> None:
        if self.path is None:
            return
        if self.path.endswith(".pstats"):
            self.profiler.enable()
        else:
            self.profiler.start()

    def stop(self) -> None:
        if self.path is None:
            return
        if self.path.endswith(".pstats"):
            self.profiler.disable()
            self.profiler.dump_stats(self.path)
            return
        self.profiler.stop()
        html = self.path.endswith(".html")
        output = self.profiler.output_html() if html else self.profiler.output_text()
        Path(self.path).write_text(output)


def _callgrind_instructions(out_file: Path) -> int:
    match = re.search(r"^summary:\s+(\d+)", out_file.read_text(), re.MULTILINE)
    if match is None:
        raise SystemExit(f"no summary in {out_file}")
    return int(match.group(1))


def _measure_in_child(
    url: str, bookings: int, warmup: int, work: Path, *, callgrind: bool, bare: bool
) -> tuple[dict[str, Any], int | None]:
    """Prepare the database here, then measure in a fresh process (under callgrind if asked)."""
    plan = asyncio.run(prepare(url, warmup + bookings))
    plan_file = work / f"plan-{bookings}.json"
    plan_file.write_text(json.dumps(plan))
    result_file = work / f"result-{bookings}.json"
    command = [sys.executable, __file__, "--child", str(plan_file), "--result", str(result_file),
               "--database-url", url, "--warmup", str(warmup)]  # fmt: skip
    if bare:
        command.append("--bare")
    out_file = work / f"callgrind-{bookings}.out"
    if callgrind:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                   "--dump-line=no", "--compress-strings=no", *command]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(command, check=True, env=env, capture_output=callgrind)
    result = json.loads(result_file.read_text())
    return result, _callgrind_instructions(out_file) if callgrind else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--bookings", type=int, default=200, help="timed bookings")
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--callgrind", action="store_true", help="count instructions too")
    parser.add_argument(
        "--bare", action="store_true", help="measure bench/bare_app.py's one INSERT instead"
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="write a profile there: cProfile's (.pstats) or pyinstrument's (.html or text)",
    )
    parser.add_argument("--child", metavar="PLAN", help=argparse.SUPPRESS)
    parser.add_argument("--result", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        plan = json.loads(Path(args.child).read_text())
        found = asyncio.run(
            measure(args.database_url, plan, args.warmup, args.profile, bare=args.bare)
        )
        Path(args.result).write_text(json.dumps(found))
        return 0
    with tempfile.TemporaryDirectory(prefix="booking-cost-") as work:
        if args.profile:
            plan = asyncio.run(prepare(args.database_url, args.warmup + args.bookings))
            found = asyncio.run(
                measure(args.database_url, plan, args.warmup, args.profile, bare=args.bare)
            )
            print(json.dumps(found, indent=1))
            return 0
        small, instructions_small = _measure_in_child(
            args.database_url, args.bookings, args.warmup, Path(work),
            callgrind=args.callgrind, bare=args.bare,
        )  # fmt: skip
        print(f"{args.bookings} bookings: {json.dumps(small)}", flush=True)
        if args.callgrind:
            large, instructions_large = _measure_in_child(
                args.database_url, 2 * args.bookings, args.warmup, Path(work),
                callgrind=True, bare=args.bare,
            )  # fmt: skip
            print(f"{2 * args.bookings} bookings: {json.dumps(large)}")
            assert instructions_small is not None and instructions_large is not None
            per = (instructions_large - instructions_small) / args.bookings
            print(
                f"instructions: {instructions_small:,} and {instructions_large:,}: "
                f"{per:,.0f} per booking"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
