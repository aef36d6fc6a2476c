"""Slot search for one service over four weeks, three ways, in one run:

- `orm`: what the API handler does (`require_service`, `load_availability`, `expand_slots`)
  in a fresh session and transaction per iteration;
- `http`: GET /api/v1/slots through httpx.ASGITransport, including auth and JSON;
- `bare`: the same rows fetched by hand-written SQL on the same engine, nothing built from them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app import create_app
from bench.timing import Timings, measure_together
from scheduling import slots
from scheduling.directory import require_service
from scheduling.slot_inputs import load_availability, local_window, service_rules
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow

INACTIVE = "('cancelled', 'entered-in-error')"
SESSIONS_SQL = """
SELECT s.id, s.clinician_id, s.weekday, s.start_time, s.end_time, s.valid_from, s.valid_until,
       s.modes, s.site_id, s.bank_holidays
FROM clinician_sessions s
JOIN session_services ss ON ss.session_id = s.id
JOIN clinicians c ON c.id = s.clinician_id
WHERE ss.service_id = :service_id AND c.active
  AND s.valid_from <= :end_date AND (s.valid_until IS NULL OR s.valid_until >= :start_date)
"""
QUERIES = {
    "service": "SELECT * FROM services WHERE id = :service_id",
    "session_services": "SELECT session_id, service_id FROM session_services "
    "WHERE session_id = ANY(:session_ids) ORDER BY service_id",
    "session_hubs": "SELECT session_id, site_id FROM session_hubs "
    "WHERE session_id = ANY(:session_ids)",
    "hub_rooms": "SELECT r.site_id, count(*) FROM video_rooms r JOIN sites s ON s.id = r.site_id "
    "WHERE r.active AND s.active AND s.kind = 'community_hub' GROUP BY r.site_id",
    "leave": "SELECT clinician_id, starts_at, ends_at FROM clinician_leave "
    "WHERE clinician_id = ANY(:clinician_ids) AND starts_at < :end AND ends_at > :start",
    "busy": "SELECT clinician_id, starts_at, busy_until FROM appointments "
    "WHERE clinician_id = ANY(:clinician_ids) "
    "AND tstzrange(starts_at, busy_until, '[)') && tstzrange(:start, :end, '[)') "
    f"AND status NOT IN {INACTIVE}",
    "room_busy": "SELECT r.site_id, a.starts_at, a.ends_at FROM appointments a "
    "JOIN video_rooms r ON r.id = a.room_id WHERE r.site_id = ANY(:hub_ids) "
    "AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(:start, :end, '[)') "
    f"AND a.status NOT IN {INACTIVE}",
    "closures": "SELECT r.site_id, c.starts_at, c.ends_at FROM video_room_closures c "
    "JOIN video_rooms r ON r.id = c.room_id WHERE r.site_id = ANY(:hub_ids) "
    "AND c.starts_at < :end AND c.ends_at > :start",
}


@dataclass(frozen=True)
class SearchWindow:
    service_id: int
    start: date
    end: date

    @classmethod
    def four_weeks_from_next_monday(cls, service_id: int, today: date) -> SearchWindow:
        start = today + timedelta(days=7 - today.weekday())
        return cls(service_id, start, start + timedelta(days=27))

    def query(self) -> dict[str, str | int]:
        """The query string of GET /api/v1/slots for this window."""
        return {"service_id": self.service_id, "start": str(self.start), "end": str(self.end)}


@dataclass(frozen=True)
class SlotSearchResult:
    window: SearchWindow
    slots: int
    rows_fetched: int
    orm: Timings
    http: Timings
    bare: Timings
    load: Timings  # load_availability alone, inside the orm runs
    expand: Timings  # expand_slots alone, inside the orm runs

    @property
    def ratio(self) -> float:
        return self.orm.p50 / self.bare.p50 if self.bare.p50 else 0.0

    @property
    def http_ratio(self) -> float:
        return self.http.p50 / self.bare.p50 if self.bare.p50 else 0.0


async def search_orm(
    session: AsyncSession, window: SearchWindow, now: datetime
) -> tuple[list[slots.Slot], float, float]:
    """The handler's work; returns the slots and the seconds spent loading and expanding."""
    started = time.perf_counter()
    service = await require_service(session, window.service_id)
    availability = await load_availability(
        session, service_id=service.id, start_date=window.start, end_date=window.end
    )
    loaded = time.perf_counter()
    found = slots.expand_slots(
        availability, service_rules(service), start_date=window.start, end_date=window.end, now=now
    )
    return found, loaded - started, time.perf_counter() - loaded


async def fetch_bare(connection: AsyncConnection, window: SearchWindow) -> int:
    """The rows load_availability reads, by hand in SQL; returns how many rows came back."""
    span = local_window(window.start, window.end)
    dates = {"start_date": window.start, "end_date": window.end}
    times = {"start": span.start, "end": span.end}
    run = connection.execute
    fetched = len((await run(text(QUERIES["service"]), {"service_id": window.service_id})).all())
    session_rows = (await run(text(SESSIONS_SQL), {"service_id": window.service_id, **dates})).all()
    session_ids = [r[0] for r in session_rows]
    clinician_ids = sorted({r[1] for r in session_rows})
    fetched += len(session_rows)
    for name in ("session_services", "session_hubs"):
        fetched += len((await run(text(QUERIES[name]), {"session_ids": session_ids})).all())
    hub_rooms = (await run(text(QUERIES["hub_rooms"]))).all()
    hub_ids = [r[0] for r in hub_rooms]
    fetched += len(hub_rooms)
    by_clinician = {"clinician_ids": clinician_ids, **times}
    fetched += len((await run(text(QUERIES["leave"]), by_clinician)).all())
    fetched += len((await run(text(QUERIES["busy"]), by_clinician)).all())
    by_hub = {"hub_ids": hub_ids, **times}
    fetched += len((await run(text(QUERIES["room_busy"]), by_hub)).all())
    fetched += len((await run(text(QUERIES["closures"]), by_hub)).all())
    return fetched


async def run(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    window: SearchWindow,
    token: str,
    *,
    iterations: int,
    warmup: int,
    max_seconds: float,
) -> SlotSearchResult:
    load, expand = Timings(), Timings()
    counted: list[int] = []

    async def orm() -> None:
        async with sessionmaker() as session, session.begin():
            found, loading, expanding = await search_orm(session, window, utcnow())
        load.samples.append(loading)
        expand.samples.append(expanding)
        counted.append(len(found))

    async def bare() -> None:
        async with engine.connect() as connection, connection.begin():
            counted.append(await fetch_bare(connection, window))

    settings = Settings(database_url=str(engine.url), secret_key="bench-only-not-a-secret")
    app = create_app(settings, sessionmaker=sessionmaker)
    params = window.query()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench.test"
    ) as client:

        async def http() -> None:
            response = await client.get("/api/v1/slots", params=params, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"GET /api/v1/slots: {response.status_code} {response.text}")

        first = await client.get("/api/v1/slots", params=params, headers=headers)
        http_slots = len(first.json()["slots"])
        await orm()
        if counted[-1] != http_slots:
            raise RuntimeError(f"the API found {http_slots} slots, the handler {counted[-1]}")
        found_slots = counted[-1]
        await bare()
        rows = counted[-1]
        load.samples.clear()
        expand.samples.clear()
        timings = await measure_together(
            {"orm": orm, "http": http, "bare": bare},
            iterations=iterations,
            warmup=warmup,
            max_seconds=max_seconds,
        )
    # Only the timed runs: drop the warm-up samples.
    load.samples[:] = load.samples[warmup:]
    expand.samples[:] = expand.samples[warmup:]
    return SlotSearchResult(
        window, found_slots, rows, timings["orm"], timings["http"], timings["bare"], load, expand
    )
