"""The patient's "Which day?" page against the JSON slots API, for the same search, taking
turns in each round through one app on one database (issue 12: "the page within 1.5x of the
API").

What is measured, and why. The booking journey's question "Which day would you like?"
(GET /book/{token}/day?from=DATE) is the page that searches weeks ahead: it lists every day
with a free time among `journey_options.WEEKS` weeks (three) from DATE, each with its number
of free times, and the patient then picks one of that day's times on "Which time?" (a search of
one day only). So the page measured is "Which day?" for the bench's search service, from the
Monday the slot search starts (`SearchWindow.four_weeks_from_next_monday`), with the journey's
cookie holding the answer "video call from home" (the first way of being seen, needing no hub),
and the API it is held against is

- `api`: GET /api/v1/slots for the same service, days and mode: the same search, and the
  ratio the verdict is on;
- `api_four_weeks`: GET /api/v1/slots for the service's four weeks in every mode (the slot
  search's own request, bench/slot_search.py), a larger search, shown beside it.

The three requests go through one in-process app (httpx.ASGITransport, as the slot search's
`http` figure), in turn within each round. Before timing, the page's days and their counts
are checked against the API's answer to the same search, so both are known to find the same
free time.

The referral the page needs is inserted by `add_referral` for a patient of the loaded dataset;
its booking link comes from `patient_links.booking_token` with the app's secret key, and the
journey cookie from the journey module's own `answer` and `save`.

Alone, on a database of its own (a small dataset with --quick):

    .venv/bin/python bench/page_search.py [--quick] [--profile out.pstats]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/page_search.py`
    sys.path.insert(0, str(ROOT))

from bench.slot_search import SearchWindow  # noqa: E402
from bench.timing import Timings, measure_together  # noqa: E402
from scheduling import slots  # noqa: E402
from scheduling.models import Mode  # noqa: E402
from scheduling.referral_models import Referral  # noqa: E402
from telehealth.kernel.config import Settings  # noqa: E402
from telehealth.kernel.identifiers import new_reference  # noqa: E402
from telehealth.messaging import patient_links  # noqa: E402
from telehealth.patients import journey, journey_options  # noqa: E402

RATIO_TARGET = 1.5
PAGE_MODE = Mode.VIDEO_HOME.value
SECRET_KEY = "bench-only-not-a-secret"  # the bench app's, as in bench/search_worker.py
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/telehealth_page_bench"
# A day's radio on "Which day?" and its hint ("12 times free").
_DAY_OPTION = re.compile(
    r'type="radio" value="(\d{4}-\d{2}-\d{2})"[^>]*>.*?(\d+) times? free', re.DOTALL
)


@dataclass(frozen=True)
class PageSearchResult:
    service_id: int
    mode: str
    page_start: date  # the days "Which day?" shows
    page_end: date
    window: SearchWindow  # the four weeks of the slot search
    days: int  # days offered on the page
    times: int  # free times over them (distinct starts)
    api_slots: int  # slots the same search returns from the API (clinicians counted apart)
    page: Timings
    api: Timings
    api_four_weeks: Timings
    # Each round's p50 (ms) of the page and of the API's same search: the spread is the noise.
    round_p50s: list[tuple[float, float]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.page.p50 / self.api.p50 if self.api.p50 else 0.0

    @property
    def ratio_p95(self) -> float:
        return self.page.p95 / self.api.p95 if self.api.p95 else 0.0

    @property
    def ratio_four_weeks(self) -> float:
        return self.page.p50 / self.api_four_weeks.p50 if self.api_four_weeks.p50 else 0.0

    @property
    def met(self) -> bool:
        return 0 < self.ratio <= RATIO_TARGET


async def add_referral(
    sessionmaker: async_sessionmaker[AsyncSession], *, service_id: int, patient_id: int, today: date
) -> int:
    """An open referral of `patient_id` to `service_id`, video suitable; returns its id."""
    async with sessionmaker() as session, session.begin():
        referral = Referral(
            reference=new_reference(),
            patient_id=patient_id,
            service_id=service_id,
            see_by=today + timedelta(weeks=6),
            video_suitable=True,
            notes="Bench referral: the patient's booking pages are measured with it.",
        )
        session.add(referral)
        await session.flush()
        return referral.id


def journey_cookie(app: Starlette, *, key: str, path: str, answers: journey.Answers) -> str:
    """The Cookie header carrying `answers` for journey `key`, as the journey writes it."""
    request = Request({"type": "http", "app": app, "headers": [], "method": "GET", "path": path})
    response = Response()
    journey.save(response, request, key=key, path=path, answers=answers)
    parsed = SimpleCookie(response.headers["set-cookie"])
    return f"{journey.COOKIE}={parsed[journey.COOKIE].value}"


@dataclass(frozen=True)
class PageRequests:
    """The three requests measured, with what each needs."""

    day_path: str
    day_params: dict[str, str]
    cookie: str
    same_search: dict[str, str | int]
    four_weeks: dict[str, str | int]
    page_end: date


def requests_for(
    app: Starlette, settings: Settings, window: SearchWindow, referral_id: int
) -> PageRequests:
    token = patient_links.booking_token(settings, referral_id, issued_on=journey_options.today())
    base = f"/book/{token}"
    answers = journey.answer({}, "mode", PAGE_MODE)
    cookie = journey_cookie(app, key=f"referral:{referral_id}", path=base, answers=answers)
    page_end = window.start + timedelta(weeks=journey_options.WEEKS, days=-1)
    same: dict[str, str | int] = {
        "service_id": window.service_id, "start": str(window.start), "end": str(page_end),
    }  # fmt: skip
    return PageRequests(
        f"{base}/day", {"from": str(window.start)}, cookie, same | {"mode": PAGE_MODE},
        window.query(), page_end,
    )  # fmt: skip


def page_days(html: str) -> dict[date, int]:
    """The days "Which day?" offers, each with its number of free times."""
    return {date.fromisoformat(d): int(n) for d, n in _DAY_OPTION.findall(html)}


def api_days(body: dict[str, Any]) -> dict[date, int]:
    """The API's slots as the page counts them: distinct start times per London day."""
    starts: dict[date, set[str]] = {}
    for s in body["slots"]:
        instant = datetime.fromisoformat(s["start"]).astimezone(UTC)
        starts.setdefault(slots.to_london(instant).date(), set()).add(s["start"])
    return {d: len(found) for d, found in sorted(starts.items())}


async def run(
    app: Starlette,
    settings: Settings,
    window: SearchWindow,
    token: str,
    referral_id: int,
    *,
    rounds: int,
    iterations: int,
    warmup: int,
    max_seconds: float,
) -> PageSearchResult:
    """The page and the API in turn over `rounds` rounds of up to `iterations` runs each (or
    `max_seconds` over all rounds), after `warmup` untimed runs first and one each round."""
    wanted = requests_for(app, settings, window, referral_id)
    auth = {"Authorization": f"Bearer {token}"}
    timings = {name: Timings() for name in ("page", "api", "api_four_weeks")}
    round_p50s: list[tuple[float, float]] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
        operations, checked = _operations(client, wanted, auth)
        days, api_slots = await checked()
        for r in range(rounds):
            found = await measure_together(
                operations,
                iterations=iterations,
                warmup=warmup if r == 0 else 1,
                max_seconds=max_seconds / rounds,
            )
            for name, t in found.items():
                timings[name].samples += t.samples
            round_p50s.append((found["page"].p50, found["api"].p50))
    return PageSearchResult(
        window.service_id, PAGE_MODE, window.start, wanted.page_end, window, len(days),
        sum(days.values()), api_slots, **timings, round_p50s=round_p50s,
    )  # fmt: skip


def _operations(client: httpx.AsyncClient, wanted: PageRequests, auth: dict[str, str]) -> Any:
    async def get(path: str, params: Any, headers: dict[str, str]) -> httpx.Response:
        response = await client.get(path, params=params, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:500]}")
        return response

    async def page() -> None:
        await get(wanted.day_path, wanted.day_params, {"Cookie": wanted.cookie})

    async def api() -> None:
        await get("/api/v1/slots", wanted.same_search, auth)

    async def api_four_weeks() -> None:
        await get("/api/v1/slots", wanted.four_weeks, auth)

    async def checked() -> tuple[dict[date, int], int]:
        """The page offers exactly the days, with the counts, that the API's search finds."""
        shown = await get(wanted.day_path, wanted.day_params, {"Cookie": wanted.cookie})
        offered = page_days(shown.text)
        body = (await get("/api/v1/slots", wanted.same_search, auth)).json()
        if not offered or offered != api_days(body):
            raise RuntimeError(
                f"the page offers {offered}, the API's same search finds {api_days(body)}"
            )
        return offered, len(body["slots"])

    operations = {"page": page, "api": api, "api_four_weeks": api_four_weeks}
    return operations, checked


def lines(result: PageSearchResult) -> list[str]:
    """The report's section (console and docs/PERFORMANCE.md)."""
    r = result

    def row(name: str, t: Timings, ratio: str) -> str:
        return f"| {name} | {t.p50:.1f} | {t.p95:.1f} | {t.mean:.1f} | {t.count} | {ratio} |"

    verdict = "within" if r.met else "**not within**"
    spread = ", ".join(f"{p / a:.2f}" for p, a in r.round_p50s if a)
    return [
        f'Patient\'s "Which day?" page (GET /book/{{token}}/day?from={r.page_start}, journey '
        f"cookie: video call from home): service {r.service_id}, {r.page_start} to "
        f"{r.page_end} ({journey_options.WEEKS} weeks, what the page shows), {r.days} days "
        f"offered with {r.times} free times ({r.api_slots} slots from the API's same search). "
        "The page, the same search through GET /api/v1/slots and the slot search's own request "
        f"(four weeks, {r.window.start} to {r.window.end}, every mode) take turns through one "
        "in-process app on this run's database.",
        "",
        "| Patient page vs slots API | p50 ms | p95 ms | mean ms | runs | page vs this |",
        "|---|---:|---:|---:|---:|---|",
        row('"Which day?" page (HTML)', r.page, "1.00x"),
        row("GET /api/v1/slots, same days and mode", r.api, f"{r.ratio:.2f}x p50, "
            f"{r.ratio_p95:.2f}x p95"),
        row("GET /api/v1/slots, four weeks, every mode", r.api_four_weeks,
            f"{r.ratio_four_weeks:.2f}x p50"),
        "",
        f"Page p50 / API p50 for the same search: **{r.ratio:.2f}x**, {verdict} "
        f"{RATIO_TARGET}x (each round's: {spread}).",
    ]  # fmt: skip


# Alone --------------------------------------------------------------------------------------


async def standalone(args: argparse.Namespace) -> PageSearchResult:
    from app import create_app
    from bench import dataset, loading
    from telehealth.kernel.db import create_engine, make_sessionmaker

    await loading.recreate_database(args.database_url)
    clinicians, appointments = (20, 5_000) if args.quick else (200, 300_000)
    now = dataset.utc_now()
    data = dataset.generate(
        clinicians=clinicians, appointments=appointments,
        patients=max(appointments // 7, 5_000), today=date.today(), now=now,
    )  # fmt: skip
    engine = create_engine(args.database_url)
    try:
        await loading.load(engine, data)
        token = await loading.bench_token(engine)
        sessionmaker = make_sessionmaker(engine)
        referral_id = await add_referral(
            sessionmaker, service_id=data.search_service_id, patient_id=1, today=date.today()
        )
        settings = Settings(database_url=args.database_url, secret_key=SECRET_KEY)
        app = create_app(settings, sessionmaker=sessionmaker)
        window = SearchWindow.four_weeks_from_next_monday(data.search_service_id, date.today())
        if args.profile:
            await profile(app, engine, settings, window, token, referral_id, args.profile)
        rounds, iterations = (2, 10) if args.quick else (6, 20)
        return await run(
            app, settings, window, token, referral_id,
            rounds=rounds, iterations=iterations, warmup=3, max_seconds=120.0,
        )  # fmt: skip
    finally:
        await engine.dispose()


async def profile(
    app: Starlette,
    engine: AsyncEngine,
    settings: Settings,
    window: SearchWindow,
    token: str,
    referral_id: int,
    path: str,
) -> None:
    """cProfile of the page (and of the API's same search) into `path` and `path`.api, with
    each one's SQL statements per request."""
    import cProfile

    from sqlalchemy import event

    wanted = requests_for(app, settings, window, referral_id)
    auth = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
        operations, _ = _operations(client, wanted, auth)
        for name, out in (("page", path), ("api", f"{path}.api")):
            statements: Counter[str] = Counter()

            def count(_c: Any, _cu: Any, statement: str, *_a: Any, into: Any = statements) -> None:
                into[statement.split(None, 1)[0].upper()] += 1

            for _ in range(3):
                await operations[name]()
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            profiler, calls = cProfile.Profile(), 20
            started = time.perf_counter()
            profiler.enable()
            for _ in range(calls):
                await operations[name]()
            profiler.disable()
            event.remove(engine.sync_engine, "before_cursor_execute", count)
            ms = (time.perf_counter() - started) * 1000 / calls
            profiler.dump_stats(out)
            per = {k: v / calls for k, v in statements.items()}
            print(f"{name}: {ms:.1f} ms per call under cProfile, statements {per} -> {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--quick", action="store_true", help="the small dataset")
    parser.add_argument("--profile", metavar="FILE", help="also write cProfile stats there")
    args = parser.parse_args(argv)
    clock = time.perf_counter()
    result = asyncio.run(standalone(args))
    print(f"took {time.perf_counter() - clock:.0f} s")
    print("\n".join(lines(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
