"""Slot search for one service over four weeks, three ways, taking turns in each round:

- `orm`: what the API handler does (`require_service`, `load_availability`, `expand_slots`)
  in a fresh session and transaction per iteration;
- `http`: GET /api/v1/slots through httpx.ASGITransport, including auth and JSON;
- `bare`: the same rows fetched by hand-written SQL on the same engine, nothing built from them.

These run in bench/search_worker.py, one process per tree measured, which imports that
tree's app; this module holds what both sides share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bench.timing import Timings
from scheduling import slots
from scheduling.directory import require_service
from scheduling.slot_inputs import load_availability, local_window, service_rules

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
    # Each round's p50 (ms) of the handler, the endpoint and the bare fetch: the spread
    # over rounds is the noise.
    round_p50s: list[tuple[float, float, float]] = field(default_factory=list)

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
