"""Run the Bay Telehealth benchmarks: `make bench`, or from the repository root

    .venv/bin/python bench/run.py [--quick] [--write] [--database-url URL]
        [--baseline REF | --baseline-dir PATH] [--clinicians 200] [--appointments 300000]

Builds a fresh PostgreSQL database with a year of clinics and bookings, then measures slot
search (handler, HTTP endpoint and bare SQL side by side), the patient's "Which day?" page
against GET /api/v1/slots for the same search (bench/page_search.py, the current tree only)
and booking throughput (the real app and a bare INSERT app under uvicorn). Traffic stays on
127.0.0.1.

With --baseline (a git ref, exported to a temporary directory) or --baseline-dir (a
checkout), the baseline tree's slot search and booking are measured in the same run, in
rounds taking turns with the current tree's, on the same database and the same bare
figures, and the report sets them side by side. On this 2-core machine, shared with other
work (load average 8 to 10), a full run with a baseline took 9.8 minutes (its COPY 2.4 of
them, against half a minute when the machine is quiet) and --quick with a baseline 3.2.
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

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from bench import (  # noqa: E402
    analysis,
    booking,
    dataset,
    loading,
    outbox,
    page_search,
    plans,
    profiling,
    report,
    search_rounds,
    slot_search,
    trees,
)
from telehealth.kernel.config import Settings  # noqa: E402
from telehealth.kernel.db import create_engine, make_sessionmaker  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/telehealth_bench"
PERFORMANCE_MD = ROOT / "docs" / "PERFORMANCE.md"


@dataclass(frozen=True)
class Plan:
    """How much to do: the full run, or --quick for a smoke test."""

    clinicians: int
    appointments: int
    search_rounds: int
    search_iterations: int  # per round, for each tree
    search_warmup: int
    search_seconds: float  # at most, over all rounds, for each tree
    booking_bodies_per_round: int
    booking_warmup: int
    booking_concurrency: int
    booking_round_seconds: float
    profile_calls: int
    outbox_appointments: int
    booking_rounds: int
    page_rounds: int  # the patient's "Which day?" page against the slots API
    page_iterations: int  # per round
    page_seconds: float  # at most, over all rounds

    @property
    def patients(self) -> int:
        return max(self.appointments // 7, 5_000)


def plan_for(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(20, 5_000, 2, 5, 2, 10.0, 3_000, 16, 8, 1.0, 5, 100, 2, 2, 10, 20.0)
    return Plan(
        args.clinicians,
        args.appointments,
        10,
        10,
        5,
        90.0,
        5_500,
        64,
        16,
        2.0,
        20,
        1_000,
        8,
        8,
        20,
        120.0,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database to use (default: recreate telehealth_bench locally)",
    )
    parser.add_argument("--clinicians", type=int, default=200)
    parser.add_argument("--appointments", type=int, default=300_000)
    parser.add_argument("--quick", action="store_true", help="a small smoke run (a few minutes)")
    parser.add_argument("--write", action="store_true", help="(re)write docs/PERFORMANCE.md")
    baseline = parser.add_mutually_exclusive_group()
    baseline.add_argument(
        "--baseline", metavar="REF", help="also measure this git ref, side by side (e.g. b254edf)"
    )
    baseline.add_argument(
        "--baseline-dir", metavar="PATH", help="also measure the checkout at PATH, side by side"
    )
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> report.Results:
    with trees.baseline(args.baseline, args.baseline_dir) as baseline:
        measured = [trees.current()] + ([baseline] if baseline else [])
        for tree in measured:
            print(f"{tree.name}: {tree.label} ({tree.root})", flush=True)
        return await measure(args, measured)


async def measure(args: argparse.Namespace, measured: list[trees.Tree]) -> report.Results:
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
        referral_id = await page_search.add_referral(
            sessionmaker, service_id=data.search_service_id, patient_id=1, today=date.today()
        )
        window = slot_search.SearchWindow.four_weeks_from_next_monday(
            data.search_service_id, date.today()
        )
        profiled_patients = plan.patients - 2 * plan.profile_calls - 2
        with tempfile.TemporaryDirectory(prefix="telehealth-bench-") as logs:
            searches, search_imports = await asyncio.to_thread(
                search_rounds.run,
                measured,
                url,
                window,
                token,
                rounds=plan.search_rounds,
                iterations=plan.search_iterations,
                warmup=plan.search_warmup,
                max_seconds=plan.search_seconds,
                log_dir=Path(logs),
            )
            for name, found in searches.items():
                print(f"slot search ({name}): {found.orm.p50:.1f} ms p50, {found.slots} slots")
            page = await measure_page(plan, url, sessionmaker, window, token, referral_id)
            bookings = await booking.run(
                sessionmaker,
                url,
                measured,
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
        for name, app in bookings.apps.items():
            print(f"booking ({name}): {app.rate:.0f} vs bare {bookings.bare.rate:.0f} req/s")
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
    imported = {f"slot search ({n})": f for n, f in search_imports.items()}
    imported |= {f"booking server ({n})": f for n, f in bookings.imported.items()}
    return report.Results(
        mode, started, data, load, searches[trees.CURRENT], bookings, profiles, query_plans,
        load_average, mail, searches, {t.name: t.label for t in measured}, imported, page,
    )  # fmt: skip


async def measure_page(
    plan: Plan,
    url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    window: slot_search.SearchWindow,
    token: str,
    referral_id: int,
) -> page_search.PageSearchResult:
    """The current tree's "Which day?" page against the slots API, in this process (a
    baseline tree may have no patient pages)."""
    from app import create_app

    settings = Settings(database_url=url, secret_key=page_search.SECRET_KEY)
    app = create_app(settings, sessionmaker=sessionmaker)
    page = await page_search.run(
        app, settings, window, token, referral_id,
        rounds=plan.page_rounds, iterations=plan.page_iterations, warmup=3,
        max_seconds=plan.page_seconds,
    )  # fmt: skip
    print(f'"Which day?" page: {page.page.p50:.1f} ms p50, {page.ratio:.2f}x the API', flush=True)
    return page


def cli(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clock = time.perf_counter()
    results = asyncio.run(main(args))
    print(f"the run took {(time.perf_counter() - clock) / 60:.1f} minutes")
    print(report.console(results))
    print("\n".join(report.profile_lines(results.profiles)))
    if args.write:
        report.write(PERFORMANCE_MD, results, analysis.lines(results))
        print(f"wrote {PERFORMANCE_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
