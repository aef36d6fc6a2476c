"""Run the Bay Telehealth benchmarks: `make bench`, or from the repository root

    .venv/bin/python bench/run.py [--quick] [--write] [--database-url URL]
        [--clinicians 200] [--appointments 300000]

Builds a fresh PostgreSQL database with a year of clinics and bookings, then measures slot
search (handler, HTTP endpoint and bare SQL side by side) and booking throughput (the real app
and a bare INSERT app under uvicorn). Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/run.py`: make `bench` and the app importable
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    analysis,
    booking,
    dataset,
    loading,
    outbox,
    plans,
    profiling,
    report,
    slot_search,
)
from telehealth.kernel.db import create_engine, make_sessionmaker  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/telehealth_bench"
PERFORMANCE_MD = ROOT / "docs" / "PERFORMANCE.md"


@dataclass(frozen=True)
class Plan:
    """How much to do: the full run, or --quick for a smoke test."""

    clinicians: int
    appointments: int
    search_iterations: int
    search_warmup: int
    search_seconds: float
    booking_bodies_per_round: int
    booking_warmup: int
    booking_concurrency: int
    booking_round_seconds: float
    profile_calls: int
    outbox_appointments: int
    booking_rounds: int

    @property
    def patients(self) -> int:
        return max(self.appointments // 7, 5_000)


def plan_for(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(20, 5_000, 10, 2, 10.0, 3_000, 16, 8, 1.0, 5, 100, 2)
    return Plan(args.clinicians, args.appointments, 50, 5, 60.0, 5_500, 64, 16, 2.0, 20, 1_000, 5)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database to use (default: recreate telehealth_bench locally)",
    )
    parser.add_argument("--clinicians", type=int, default=200)
    parser.add_argument("--appointments", type=int, default=300_000)
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 1 minute)")
    parser.add_argument("--write", action="store_true", help="(re)write docs/PERFORMANCE.md")
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> report.Results:
    plan = plan_for(args)
    booking.require_wrk()  # before minutes of loading, not after
    started, load_average = datetime.now(UTC), report.load_average()
    url = args.database_url or DEFAULT_URL
    if not url.startswith("postgresql+asyncpg://"):
        raise SystemExit("the benchmarks need PostgreSQL through asyncpg (postgresql+asyncpg://)")
    if args.database_url is None:
        await loading.recreate_database(url)
    clock = time.perf_counter()
    data = dataset.generate(
        clinicians=plan.clinicians,
        appointments=plan.appointments,
        patients=plan.patients,
        today=date.today(),
        now=started,
    )
    print(f"generated the dataset in {time.perf_counter() - clock:.1f} s", flush=True)
    engine = create_engine(url)
    sessionmaker = make_sessionmaker(engine)
    try:
        load = await loading.load(engine, data)
        data.release()
        gc.collect()
        appointments = load.copy_seconds["appointments"]
        print(f"loaded in {load.total_seconds:.1f} s (appointments {appointments:.1f} s)")
        token = await loading.bench_token(engine)
        window = slot_search.SearchWindow.four_weeks_from_next_monday(
            data.search_service_id, date.today()
        )
        search = await slot_search.run(
            engine,
            sessionmaker,
            window,
            token,
            iterations=plan.search_iterations,
            warmup=plan.search_warmup,
            max_seconds=plan.search_seconds,
        )
        print(f"slot search: {search.orm.p50:.1f} ms p50, {search.slots} slots", flush=True)
        profiled_patients = plan.patients - 2 * plan.profile_calls - 2
        with tempfile.TemporaryDirectory(prefix="telehealth-bench-") as logs:
            bookings = await booking.run(
                sessionmaker,
                url,
                data.bench_service_id,
                token,
                bodies_per_round=plan.booking_bodies_per_round,
                warmup=plan.booking_warmup,
                concurrency=plan.booking_concurrency,
                rounds=plan.booking_rounds,
                round_seconds=plan.booking_round_seconds,
                log_dir=Path(logs),
                patient_count=profiled_patients,  # the rest are the profile's
            )
        print(f"booking: {bookings.app.rate:.0f} vs {bookings.bare.rate:.0f} req/s", flush=True)
        mail = await outbox.run(
            engine,
            sessionmaker,
            url,
            appointments=plan.outbox_appointments,
            max_seconds=120.0,
        )
        print(f"outbox: {mail.rate:.0f} messages/s with {mail.workers} workers", flush=True)
        profiles = await profiling.run(
            engine,
            sessionmaker,
            window,
            data.bench_service_id,
            token,
            calls=plan.profile_calls,
            first_patient=profiled_patients,
        )
        query_plans = await plans.run(engine, window)
    finally:
        await engine.dispose()
    mode = "quick" if args.quick else "full"
    return report.Results(
        mode, started, data, load, search, bookings, profiles, query_plans, load_average, mail
    )


def cli(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = asyncio.run(main(args))
    print(report.console(results))
    print("\n".join(report.profile_lines(results.profiles)))
    if args.write:
        report.write(PERFORMANCE_MD, results, analysis.lines(results))
        print(f"wrote {PERFORMANCE_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
