"""The yearly travel report over a million appointments, against hand-written SQL.

    .venv/bin/python bench/travel_report.py [--appointments 1000000] [--quick] [--write]

Loads the slot-search dataset at a larger size, gives every appointment a travel record
(INSERT ... SELECT, figures derived from the id), then times `travel_report` for the whole
year with no filters, side by side with the same figures fetched by hand-written SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bench import dataset, loading  # noqa: E402
from bench.report import load_average, machine  # noqa: E402
from bench.timing import Timings  # noqa: E402
from telehealth.kernel.db import create_engine, make_sessionmaker  # noqa: E402
from telehealth.travel.reports import ReportQuery, travel_report  # noqa: E402

URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/telehealth_bench_report"
PERFORMANCE_MD = ROOT / "docs" / "PERFORMANCE.md"
MARK_START, MARK_END = "<!-- travel-report:start -->", "<!-- travel-report:end -->"
TARGET_RATIO, TARGET_MS = 1.5, 1000.0

RECORDS_SQL = """
INSERT INTO appointment_travel (appointment_id, factor_version, mode, local_date, local_month,
  status, organisation_id, service_id, clinician_id, site_id, icc,
  baseline_km, baseline_minutes, actual_km, actual_minutes, avoided_km, avoided_miles,
  avoided_minutes, avoided_co2e_kg, avoided_cost_gbp, method, confidence, note, computed_at)
SELECT a.id, '2026.1', a.mode, (a.starts_at AT TIME ZONE 'Europe/London')::date,
  to_char(a.starts_at AT TIME ZONE 'Europe/London', 'YYYY-MM'),
  a.status, s.organisation_id, a.service_id, a.clinician_id, a.site_id,
  coalesce(w.icc, u.icc, 'Unknown'),
  b.km, b.km * 1.25, x.km, x.km * 1.25, b.km - x.km, round((b.km - x.km) / 1.609344, 2),
  (b.km - x.km) * 1.25, round((b.km - x.km) * 0.16725, 3),
  round(round((b.km - x.km) / 1.609344, 2) * 0.55, 2),
  CASE WHEN a.id % 10 = 0 THEN 'matrix' ELSE 'straight_line' END,
  CASE WHEN a.id % 10 = 0 THEN 'medium' ELSE 'low' END, NULL, now()
FROM appointments a
JOIN services s ON s.id = a.service_id JOIN sites u ON u.id = s.usual_site_id
LEFT JOIN sites w ON w.id = a.site_id
CROSS JOIN LATERAL (SELECT (20 + a.id % 130)::numeric(10, 2) AS km) b
CROSS JOIN LATERAL (SELECT CASE a.mode WHEN 'video_home' THEN 0
  WHEN 'video_site' THEN (4 + a.id % 17)::numeric(10, 2) ELSE b.km END AS km) x
"""

# The same figures written by hand, as an expert would: one scan, then GROUPING SETS; the
# factor sets used, and the count of records awaiting the worker.
HAND_WRITTEN = [
    "WITH fine AS (SELECT mode, local_month, icc, method, confidence, factor_version, "
    "count(*) n, sum(avoided_km) km, sum(avoided_miles) mi, sum(avoided_minutes) mins, "
    "sum(avoided_co2e_kg) kg, sum(avoided_cost_gbp) gbp FROM appointment_travel "
    "WHERE local_date BETWEEN :start AND :end AND status NOT IN ('cancelled', "
    "'entered-in-error') GROUP BY 1, 2, 3, 4, 5, 6) "
    "SELECT grouping(mode, local_month, icc, method, confidence, factor_version), mode, "
    "local_month, icc, method, confidence, factor_version, sum(n), sum(km), sum(mi), "
    "sum(mins), sum(kg), sum(gbp) FROM fine GROUP BY GROUPING SETS ((), (mode), "
    "(local_month), (icc), (method, confidence, factor_version))",
    "SELECT * FROM travel_factor_sets WHERE version IN ('2026.1')",
    "SELECT count(*) FROM travel_queue q JOIN appointments a ON a.id = q.appointment_id "
    "WHERE a.starts_at >= :start_at AND a.starts_at < :end_at",
]


async def _prepare(engine: AsyncEngine, appointments: int) -> tuple[date, date, float]:
    await loading.recreate_database(URL)
    started = datetime.now(UTC)
    data = dataset.generate(
        clinicians=max(20, appointments // 2000),
        appointments=appointments,
        patients=max(appointments // 7, 5_000),
        today=date.today(),
        now=started,
    )
    clock = time.perf_counter()
    await loading.load(engine, data)
    first, last = data.first_day, data.last_day
    data.release()
    gc.collect()
    async with engine.begin() as connection:
        await connection.execute(text(RECORDS_SQL))
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE appointment_travel"))
    return first, last, time.perf_counter() - clock


async def _time_report(engine: AsyncEngine, q: ReportQuery, runs: int) -> Timings:
    sessionmaker = make_sessionmaker(engine)
    samples: list[float] = []
    for i in range(runs + 2):
        started = time.perf_counter()
        async with sessionmaker() as session:
            await travel_report(session, q)
        if i >= 2:
            samples.append(time.perf_counter() - started)
    return Timings(samples)


async def _time_hand_written(engine: AsyncEngine, q: ReportQuery, runs: int) -> Timings:
    from scheduling.slots import local_day_bounds

    params = {
        "start": q.start,
        "end": q.end,
        "start_at": local_day_bounds(q.start).start,
        "end_at": local_day_bounds(q.end).end,
    }
    samples: list[float] = []
    for i in range(runs + 2):
        started = time.perf_counter()
        async with engine.connect() as connection:
            for statement in HAND_WRITTEN:
                (await connection.execute(text(statement), params)).all()
        if i >= 2:
            samples.append(time.perf_counter() - started)
    return Timings(samples)


def _section(appointments: int, load_s: float, app: Timings, bare: Timings) -> list[str]:
    ratio = app.p50 / bare.p50 if bare.p50 else 0.0
    met = ratio <= TARGET_RATIO and app.p50 < TARGET_MS
    return [
        MARK_START,
        "## Travel report over a year",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/travel_report.py`; load "
        f"average when it began: {load_average()}. {appointments:,} appointments over 52 weeks, "
        f"each with a travel record (loaded and indexed in {load_s:.0f} s). The report: the "
        "whole year, no filters, basis booked: headline, by mode, by month, by ICC, the "
        "methodology's breakdown and the count of records awaiting the worker.",
        "",
        "| | p50 ms | p95 ms | mean ms | runs |",
        "|---|---:|---:|---:|---:|",
        f"| `travel_report` (SQLAlchemy) | {app.p50:.0f} | {app.p95:.0f} "
        f"| {app.mean:.0f} | {app.count} |",
        f"| The same figures by hand-written SQL | {bare.p50:.0f} | {bare.p95:.0f} "
        f"| {bare.mean:.0f} | {bare.count} |",
        "",
        f"Ratio {ratio:.2f} (target at most {TARGET_RATIO}) and p50 {app.p50:.0f} ms (target "
        f"under {TARGET_MS:.0f} ms): {'**met**' if met else '**missed**'}.",
        MARK_END,
    ]


def _write(lines: list[str]) -> None:
    current = PERFORMANCE_MD.read_text() if PERFORMANCE_MD.exists() else "# Performance\n"
    if MARK_START in current:
        head, rest = current.split(MARK_START, 1)
        current = head + rest.split(MARK_END, 1)[1].lstrip("\n")
    PERFORMANCE_MD.write_text(current.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")


async def main(args: argparse.Namespace) -> list[str]:
    engine = create_engine(URL)
    try:
        first, last, load_s = await _prepare(engine, args.appointments)
        q = ReportQuery(start=first, end=last)
        runs = 3 if args.quick else 10
        app = await _time_report(engine, q, runs)
        bare = await _time_hand_written(engine, q, runs)
    finally:
        await engine.dispose()
    return _section(args.appointments, load_s, app, bare)


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 appointments, 3 runs")
    parser.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    args = parser.parse_args()
    if args.quick:
        args.appointments = 20_000
    lines = asyncio.run(main(args))
    print("\n".join(lines))
    if args.write:
        _write(lines)
    print(f"machine: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
