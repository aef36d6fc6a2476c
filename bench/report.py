"""The benchmark's results: a console table, and docs/PERFORMANCE.md with --write."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench import comparison, page_search
from bench.booking import BookingResult, LoadResult
from bench.dataset import Dataset
from bench.loading import LoadReport
from bench.outbox import OutboxResult
from bench.page_search import PageSearchResult
from bench.plans import Plan
from bench.profiling import Profile
from bench.slot_search import SlotSearchResult
from bench.timing import Timings

SEARCH_P50_TARGET_MS = 30.0
SEARCH_RATIO_TARGET = 3.0
BOOKING_RATIO_TARGET = 0.5
TABLES_SHOWN = (
    "organisations", "sites", "video_rooms", "clinicians", "services", "clinician_sessions",
    "clinician_leave", "patients", "appointments",
)  # fmt: skip


@dataclass(frozen=True)
class Results:
    mode: str
    started: datetime
    dataset: Dataset
    load: LoadReport
    search: SlotSearchResult
    booking: BookingResult
    profiles: list[Profile]
    plans: list[Plan]
    load_average: str  # /proc/loadavg's 1, 5 and 15 minute figures when the run began
    outbox: OutboxResult
    searches: dict[str, SlotSearchResult] = field(default_factory=dict)  # by tree
    trees: dict[str, str] = field(default_factory=dict)  # tree name: its commit
    imported: dict[str, dict[str, str]] = field(default_factory=dict)  # process: app files
    page: PageSearchResult | None = None  # the patient's "Which day?" page vs the slots API

    def side_by_side(self) -> list[str]:
        """The baseline/current comparison, when a baseline was measured."""
        return comparison.lines(self.searches, self.booking, self.trees)


@dataclass(frozen=True)
class Target:
    name: str
    wanted: str
    measured: str
    met: bool
    headroom: float  # the share of the limit to spare (negative when missed)


def targets(results: Results) -> list[Target]:
    search, booking = results.search, results.booking
    return [  # noqa: RUF005 (the page's target is there only when it was measured)
        Target(
            "Slot search p50 (handler: load_availability + expand_slots)",
            f"< {SEARCH_P50_TARGET_MS:.0f} ms",
            f"{search.orm.p50:.1f} ms",
            search.orm.p50 < SEARCH_P50_TARGET_MS,
            1 - search.orm.p50 / SEARCH_P50_TARGET_MS,
        ),
        Target(
            "Slot search p50 / bare SQL fetch p50",
            f"<= {SEARCH_RATIO_TARGET:.0f}x",
            f"{search.ratio:.2f}x",
            search.ratio <= SEARCH_RATIO_TARGET,
            1 - search.ratio / SEARCH_RATIO_TARGET,
        ),
        Target(
            "Booking rate / bare INSERT rate",
            f">= {BOOKING_RATIO_TARGET:.2f}",
            f"{booking.ratio:.2f} ({booking.app.rate:.0f} vs {booking.bare.rate:.0f} req/s)",
            booking.ratio >= BOOKING_RATIO_TARGET and booking.app.failures == 0,
            booking.ratio / BOOKING_RATIO_TARGET - 1,
        ),
    ] + _page_targets(results.page)


def _page_targets(page: PageSearchResult | None) -> list[Target]:
    if page is None:
        return []
    return [
        Target(
            '"Which day?" page p50 / GET /api/v1/slots p50, same search',
            f"<= {page_search.RATIO_TARGET}x",
            f"{page.ratio:.2f}x ({page.page.p50:.1f} vs {page.api.p50:.1f} ms; "
            f"p95 {page.ratio_p95:.2f}x)",
            page.met,
            1 - page.ratio / page_search.RATIO_TARGET,
        )
    ]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict[str, str]:
    cpu = "unknown"
    with Path("/proc/cpuinfo").open() as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with Path("/proc/meminfo").open() as info:
        for line in info:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU model": cpu,
        "RAM": memory,
        "PostgreSQL": _postgres_version(),
        "Python": platform.python_version(),
        "OS": platform.platform(),
    }


def _postgres_version() -> str:
    try:
        found = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return found.stdout.strip()


def _timing_row(name: str, timings: Timings, extra: str = "") -> str:
    return (
        f"| {name} | {timings.p50:.1f} | {timings.p95:.1f} | {timings.mean:.1f} "
        f"| {timings.count} | {extra} |"
    )


def _load_row(result: LoadResult) -> str:
    client, server, database = result.cpu_ms_per_request()
    return (
        f"| {result.name} | {result.requests} | {result.seconds:.1f} | {result.rate:.0f} "
        f"| {result.p50:.1f} | {result.p95:.1f} | {result.failures} "
        f"| {client:.1f} / {server:.1f} / {database:.1f} |"
    )


def tables(results: Results) -> list[str]:
    """The figures as Markdown tables (also what the console shows)."""
    s, b = results.search, results.booking
    lines = [
        f"Slot search: service {s.window.service_id}, {s.window.start} to {s.window.end}, "
        f"{s.slots} slots from {s.rows_fetched} rows.",
        "",
        "| Slot search | p50 ms | p95 ms | mean ms | runs | vs bare p50 |",
        "|---|---:|---:|---:|---:|---|",
        _timing_row("Handler: load_availability + expand_slots", s.orm, f"{s.ratio:.2f}x"),
        _timing_row("  of which load_availability", s.load),
        _timing_row("  of which expand_slots", s.expand),
        _timing_row("GET /api/v1/slots (ASGI, auth, JSON)", s.http, f"{s.http_ratio:.2f}x"),
        _timing_row("Bare SQL fetch of the same rows", s.bare, "1.00x"),
        "",
        f"Booking: wrk with {b.concurrency} connections, uvicorn with 2 workers each; the "
        "servers are driven in rounds, one after another with the order turning each round, so "
        "background load weighs on all alike. Latencies are the medians of the rounds' p50 and "
        "p95.",
        "",
        "| Booking | requests | seconds | req/s | p50 ms | p95 ms | failures "
        "| CPU ms per request: client / server / PostgreSQL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(_load_row(result) for result in (*b.apps.values(), b.bare)),
        "",
        f"Booking rate / bare rate: {b.ratio:.2f} over {len(b.round_ratios)} alternating "
        f"rounds (each round's ratio: {', '.join(f'{r:.2f}' for r in b.round_ratios)}).",
        "",
        *outbox_lines(results.outbox),
        "",
        *([*page_search.lines(results.page), ""] if results.page else []),
        "| Target | wanted | measured | met |",
        "|---|---|---|---|",
        *(f"| {t.name} | {t.wanted} | {t.measured} | {'yes' if t.met else '**no**'} |"
          for t in targets(results)),
    ]  # fmt: skip
    for result in (*b.apps.values(), b.bare):
        lines += [f"{result.name} error: {e}" for e in result.errors[:3]]
    return lines


def outbox_lines(o: OutboxResult) -> list[str]:
    return [
        f"Outbox: {o.messages:,} queued messages (booking confirmations to patients and "
        f"notices to clinicians, each rendered to text, HTML and an iCalendar invite) delivered "
        f"by {o.workers} `telehealth worker` processes to an SMTP server on loopback "
        f"(aiosmtpd): **{o.rate:.0f} messages/s** ({o.seconds:.1f} s). Received "
        f"{o.received:,}, distinct Message-IDs {o.distinct_message_ids:,}"
        + (" (none sent twice)." if o.received == o.distinct_message_ids == o.messages else "."),
    ]


def profile_lines(profiles: list[Profile]) -> list[str]:
    lines: list[str] = []
    for profile in profiles:
        statements = ", ".join(f"{n} {k}" for k, n in profile.statements.most_common())
        lines += [
            f"**{profile.name}**: {profile.wall_ms:.1f} ms per call in process, one at a time; "
            f"{profile.statements_per_call:.1f} SQL statements per call ({statements}). "
            f"cProfile over {profile.calls} calls:",
            "",
            "| package (own time) | ms per call |",
            "|---|---:|",
            *(f"| {name} | {ms:.2f} |" for name, ms in profile.by_package[:8]),
            "",
            "| function (own time) | ms per call | calls per call |",
            "|---|---:|---:|",
            *(f"| `{name}` | {ms:.2f} | {calls} |" for name, ms, calls in profile.top[:10]),
            "",
        ]
    return lines


def plan_lines(plans: list[Plan]) -> list[str]:
    return [
        "| query (slot search window) | appointments read via | rows kept | rows thrown away "
        "| ms |",
        "|---|---|---:|---:|---:|",
        *(f"| {p.name} | {p.access} | {p.rows:,} | {p.removed:,} | {p.milliseconds:.1f} |"
          for p in plans),
    ]  # fmt: skip


def dataset_lines(results: Results) -> list[str]:
    data, load = results.dataset, results.load
    lines = [f"| {table} | {data.count(table):,} |" for table in TABLES_SHOWN]
    copy = sum(load.copy_seconds.values())
    return [
        f"Sessions valid {data.first_day} to {data.last_day} (52 weeks from the Monday of the "
        f"run's week). Loaded with COPY, constraints on: migrate {load.migrate_seconds:.1f} s, "
        f"copy {copy:.1f} s (appointments {load.copy_seconds.get('appointments', 0):.1f} s), "
        f"VACUUM ANALYZE and CHECKPOINT {load.analyze_seconds:.1f} s.",
        "",
        "| table | rows |",
        "|---|---:|",
        *lines,
    ]


def console(results: Results) -> str:
    imported = [f"{process}: {files}" for process, files in results.imported.items()]
    side_by_side = results.side_by_side()
    return "\n".join(
        ["", *dataset_lines(results), "", *tables(results), "", *plan_lines(results.plans), "",
         *imported, "", *(["Before and after:", "", *side_by_side, ""] if side_by_side else [])]
    )  # fmt: skip


def write(path: Path, results: Results, analysis: list[str]) -> None:
    facts = machine()
    body = [
        "# Performance",
        "",
        "Measured by `bench/run.py` (`make bench`); this file is rewritten by "
        "`.venv/bin/python bench/run.py --write`. Numbers are from one run on the machine "
        "below, with the load generator, both uvicorn workers and PostgreSQL sharing its CPUs.",
        "",
        f"Run: {results.started:%Y-%m-%d %H:%M} UTC, mode `{results.mode}`; load average "
        f"when it began: {results.load_average} (other work on the machine skews figures).",
        "",
        "## Machine",
        "",
        *(f"- {name}: {value}" for name, value in facts.items()),
        "",
        "## Dataset",
        "",
        *dataset_lines(results),
        "",
        *(
            ["## Before and after", "", *results.side_by_side(), ""]
            if results.side_by_side()
            else []
        ),
        "## Results" + (" (current tree)" if results.side_by_side() else ""),
        "",
        *tables(results),
        "",
        *analysis,
        "## Where the time goes",
        "",
        "Plans of the slot search's two appointment queries (EXPLAIN ANALYZE), as the app "
        "writes them and as a range overlap the exclusion constraints' GiST indexes can serve:",
        "",
        *plan_lines(results.plans),
        "",
        *profile_lines(results.profiles),
        "## How to rerun",
        "",
        "```sh",
        "make bench                                   # full run, prints the tables",
        ".venv/bin/python bench/run.py --quick        # smoke run, a few minutes",
        ".venv/bin/python bench/run.py --write        # full run, rewrites this file",
        ".venv/bin/python bench/run.py --baseline REF # and REF's tree side by side",
        "make bench BASELINE=REF                      # the same through make",
        "```",
        "",
        "The default database is `telehealth_bench` on postgresql+asyncpg://postgres@127.0.0.1:5432/,"
        " dropped and recreated on every run; `--database-url` points at another (empty) one.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the travel report's section, which bench/travel_report.py writes separately.
    kept = ""
    if path.exists() and "<!-- travel-report:start -->" in path.read_text():
        old = path.read_text()
        kept = old[old.index("<!-- travel-report:start -->") :]
    path.write_text("\n".join(body) + ("\n" + kept if kept else ""))
