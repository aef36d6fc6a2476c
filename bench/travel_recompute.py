"""A whole year's `telehealth travel recompute` on the large dataset: records per second.

    .venv/bin/python bench/travel_recompute.py [--quick] [--appointments 300000] [--write]

Loads bench/dataset.py's year (the same generator and sizes as bench/run.py: 300,000
appointments, 42,857 patients, 200 clinicians) into a fresh PostgreSQL database, with two
changes made here, on the generated rows before the COPY, so bench/run.py's own dataset is
untouched: every patient gets a home postcode drawn from the Bay's Code-Point postcodes
(the generator gives all of them LA4 5RJ) and each hub its town's postcode. The LA area's
Code-Point postcodes are then imported as `telehealth postcodes import --area LA` does.

Then the real command's code (`telehealth.cli.recompute_travel`, what `telehealth travel
recompute` runs) three times: with no records yet (every record written), again with nothing
changed (every record compared), and after an analyst's matrix for three districts (from
the published distances in telehealth/travel/data/road_distances.csv), to show what moved.
Each run reports records, seconds and records per second, and the rate in each tenth of
the run (a rate that holds from the first tenth to the last scales linearly).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import dataset, loading  # noqa: E402
from bench.columns import COLUMNS, Row  # noqa: E402
from bench.report import load_average, machine  # noqa: E402
from telehealth.cli import recompute_travel  # noqa: E402
from telehealth.kernel.config import Settings  # noqa: E402
from telehealth.kernel.db import create_engine, make_sessionmaker  # noqa: E402
from telehealth.travel import codepoint, home_communities, land, postcodes, records  # noqa: E402
from telehealth.travel.maths import KM_PER_MILE  # noqa: E402
from telehealth.travel.recompute import Recomputed  # noqa: E402

URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/telehealth_bench_recompute"
TRAVEL_MD = ROOT / "docs" / "TRAVEL.md"
# The bench dataset's hubs (bench/dataset.py HUB_TOWNS, in order): a postcode in each town,
# checked against Code-Point Open (the demo's hub postcodes where it has one, else the first
# postcode of the town's sector).
HUB_POSTCODES = (
    "LA4 5NN", "LA3 2AA", "LA5 9LJ", "LA12 7BT", "LA18 4BY", "LA15 8AA", "LA9 4PY", "LA11 7BB",
    "LA6 2AA",
)  # fmt: skip
# An analyst's matrix from published place-to-place road distances (road_distances.csv):
# district of the origin, the bench's hospital site id, the published miles. Minutes are at
# the land estimator's fitted speed: the sources give no times.
PUBLISHED = (("LA14", 1, "50"), ("LA18", 2, "23"), ("LA9", 1, "20"))


def bay_homes(data: dataset.Dataset, seed: int = 13) -> int:
    """Give each patient a home postcode in the Bay, and each hub its town's; returns how
    many postcodes the homes were drawn from."""
    bay = home_communities.table()
    homes = sorted(p for p, _, _, _ in codepoint.read_area("LA") if p.split()[0] in bay)
    rng = random.Random(seed)
    postcode = COLUMNS["patients"].index("postcode")
    data.rows["patients"] = [
        _with(row, postcode, rng.choice(homes)) for row in data.rows["patients"]
    ]
    site_postcode, kind = COLUMNS["sites"].index("postcode"), COLUMNS["sites"].index("kind")
    hubs = iter(HUB_POSTCODES)
    data.rows["sites"] = [
        _with(row, site_postcode, next(hubs)) if row[kind] == "community_hub" else row
        for row in data.rows["sites"]
    ]
    return len(homes)


def _with(row: Row, index: int, value: object) -> Row:
    return (*row[:index], value, *row[index + 1 :])


def matrix_csv() -> str:
    lines = ["district,site_id,road_km,drive_minutes"]
    for district, site_id, miles in PUBLISHED:
        km = (Decimal(miles) * KM_PER_MILE).quantize(Decimal("0.001"), ROUND_HALF_UP)
        minutes = (km * 60 / Decimal(str(land.SPEED_KMH))).quantize(Decimal("0.01"))
        lines.append(f"{district},{site_id},{km},{minutes}")
    return "\n".join(lines) + "\n"


async def prepare(appointments: int) -> dict[str, float]:
    """A fresh database with the year loaded and the LA postcodes imported; returns timings."""
    await loading.recreate_database(URL)
    now = datetime.now(UTC)
    clock = time.perf_counter()
    data = dataset.generate(
        clinicians=200 if appointments >= 300_000 else max(20, appointments // 1500),
        appointments=appointments,
        patients=max(appointments // 7, 5_000),
        today=date.today(),
        now=now,
    )
    homes = bay_homes(data)
    generated = time.perf_counter() - clock
    engine = create_engine(URL)
    try:
        load = await loading.load(engine, data)
        data.release()
        gc.collect()
        clock = time.perf_counter()
        async with make_sessionmaker(engine)() as session, session.begin():
            imported = await postcodes.import_areas(session, ["la"])
        postcode_seconds = time.perf_counter() - clock
    finally:
        await engine.dispose()
    print(f"homes drawn from {homes:,} Bay postcodes; {imported['LA']:,} LA postcodes imported")
    return {
        "generate": generated,
        "load": load.total_seconds,
        "postcodes": postcode_seconds,
    }


class Tenths:
    """Records per second in each tenth of a run, from the batches' progress."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.marks: list[tuple[int, float]] = [(0, 0.0)]

    def __call__(self, progress: Recomputed) -> None:
        if progress.total >= self.total * len(self.marks) / 10 or progress.total == self.total:
            self.marks.append((progress.total, progress.seconds))

    def rates(self) -> list[float]:
        pairs = zip(self.marks, self.marks[1:], strict=False)
        return [(b[0] - a[0]) / (b[1] - a[1]) for a, b in pairs if b[1] > a[1]]


async def timed_run(settings: Settings, appointments: int, label: str) -> tuple[Recomputed, Tenths]:
    tenths = Tenths(appointments)
    summary = await recompute_travel(settings, on_batch=tenths)
    print(f"--- {label}\n{summary.describe()}", flush=True)
    return summary, tenths


async def import_matrix() -> None:
    engine = create_engine(URL)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await records.import_matrix(session, matrix_csv())
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> list[str]:
    began, load = datetime.now(UTC), load_average()
    setup = await prepare(args.appointments)
    settings = Settings(database_url=URL, osrm_url="")
    runs = [await timed_run(settings, args.appointments, "first: no records yet")]
    runs.append(await timed_run(settings, args.appointments, "again: nothing changed"))
    await import_matrix()
    runs.append(await timed_run(settings, args.appointments, "after the analyst's matrix"))
    return section(args, began, load, setup, runs)


def section(
    args: argparse.Namespace,
    began: datetime,
    load: str,
    setup: dict[str, float],
    runs: list[tuple[Recomputed, Tenths]],
) -> list[str]:
    info = machine()
    names = ("First (no records yet)", "Again (nothing changed)", "After the matrix")
    lines = [
        "",
        f"### {args.appointments:,} appointments ({began:%Y-%m-%d %H:%M} UTC)",
        "",
        f"`{' '.join(['.venv/bin/python', 'bench/travel_recompute.py', *sys.argv[1:]])}` on "
        f"{info['CPU model']}, {info['CPUs (nproc)']} CPUs, {info['RAM']}, PostgreSQL "
        f"{info['PostgreSQL']} on loopback, Python {info['Python']}; load average when it "
        f"began: {load}. "
        f"Generated in {setup['generate']:.0f} s, loaded in {setup['load']:.0f} s, LA "
        f"postcodes imported in {setup['postcodes']:.0f} s.",
        "",
        "| run | records | changed | seconds | records/s | slowest tenth /s | fastest tenth /s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (summary, tenths) in zip(names, runs, strict=True):
        rates = tenths.rates() or [0.0]
        lines.append(
            f"| {name} | {summary.total:,} | {summary.changed:,} | {summary.seconds:.1f} "
            f"| {summary.total / summary.seconds:,.0f} | {min(rates):,.0f} | {max(rates):,.0f} |"
        )
    lines += ["", "What the last run said:", "", "```", runs[-1][0].describe(), "```"]
    return lines


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appointments", type=int, default=300_000)
    parser.add_argument("--quick", action="store_true", help="20,000 appointments")
    parser.add_argument("--write", action="store_true", help="append to docs/TRAVEL.md")
    args = parser.parse_args()
    if args.quick:
        args.appointments = 20_000
    lines = asyncio.run(main(args))
    print("\n".join(lines))
    if args.write:
        TRAVEL_MD.write_text(TRAVEL_MD.read_text().rstrip("\n") + "\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
