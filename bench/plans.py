"""Query plans for the slot search's busy-interval queries: the shape the app sends on
PostgreSQL (a range overlap the exclusion constraints' GiST indexes answer) beside a window on
`starts_at` bounded on both sides (the shape it sends on SQLite), against an overlap test the
exclusion constraints' GiST indexes can answer (`tstzrange(...) && window`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.slot_search import INACTIVE, SearchWindow
from scheduling.slot_inputs import LONGEST_APPOINTMENT, local_window

CLINICIANS_SQL = (
    "SELECT DISTINCT s.clinician_id FROM clinician_sessions s "
    "JOIN session_services ss ON ss.session_id = s.id WHERE ss.service_id = :service_id"
)
# Lists inlined as literals, as SQLAlchemy's expanding IN renders them for the app.
SHAPES = {
    "clinician busy, as a starts_at window": "SELECT clinician_id, starts_at, busy_until "
    "FROM appointments WHERE clinician_id IN ({clinicians}) AND starts_at < :busy_end "
    f"AND starts_at > :lower AND busy_until > :start AND status NOT IN {INACTIVE}",
    "clinician busy, as the app asks (range overlap)": "SELECT clinician_id, starts_at, busy_until "
    "FROM appointments WHERE clinician_id IN ({clinicians}) "
    "AND tstzrange(starts_at, busy_until, '[)') && tstzrange(:start, :busy_end, '[)') "
    f"AND status NOT IN {INACTIVE}",
    "room busy, as a starts_at window": "SELECT r.site_id, a.starts_at, a.ends_at "
    "FROM appointments a JOIN video_rooms r ON r.id = a.room_id WHERE r.site_id IN ({hubs}) "
    "AND a.starts_at < :end AND a.starts_at > :lower AND a.ends_at > :start "
    f"AND a.status NOT IN {INACTIVE}",
    "room busy, as the app asks (range overlap)": "SELECT r.site_id, a.starts_at, a.ends_at "
    "FROM appointments a JOIN video_rooms r ON r.id = a.room_id WHERE r.site_id IN ({hubs}) "
    "AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(:start, :end, '[)') "
    f"AND a.status NOT IN {INACTIVE}",
}


@dataclass(frozen=True)
class Plan:
    name: str
    access: str  # how appointments were read: node type and index
    rows: int  # appointment rows the scan kept
    removed: int  # appointment rows the scan read and threw away
    milliseconds: float


def _appointment_scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node] if node.get("Relation Name") == "appointments" else []
    for child in node.get("Plans", ()):
        found += _appointment_scans(child)
    return found


def _describe(name: str, explained: dict[str, Any]) -> Plan:
    scans = _appointment_scans(explained["Plan"])
    loops = [int(s.get("Actual Loops", 1)) for s in scans]
    rows = sum(int(s["Actual Rows"]) * n for s, n in zip(scans, loops, strict=True))
    removed = sum(
        int(s.get("Rows Removed by Filter", 0) + s.get("Rows Removed by Index Recheck", 0)) * n
        for s, n in zip(scans, loops, strict=True)
    )
    access = (
        ", ".join(f"{s['Node Type']} on {s.get('Index Name', 'appointments')}" for s in scans)
        or "?"
    )
    # A bitmap heap scan reads through its child index scan: name that index too.
    for scan in scans:
        for child in scan.get("Plans", ()):
            if "Index Name" in child:
                access += f" ({child['Index Name']})"
    return Plan(name, access, rows, removed, float(explained["Execution Time"]))


async def run(engine: AsyncEngine, window: SearchWindow) -> list[Plan]:
    span = local_window(window.start, window.end)
    params = {
        "start": span.start,
        "end": span.end,
        "busy_end": span.end + timedelta(days=1),
        "lower": span.start - LONGEST_APPOINTMENT,
    }
    async with engine.connect() as connection:
        clinicians = (
            await connection.scalars(text(CLINICIANS_SQL), {"service_id": window.service_id})
        ).all()
        hubs = (
            await connection.scalars(text("SELECT id FROM sites WHERE kind = 'community_hub'"))
        ).all()
        lists = {
            "clinicians": ", ".join(str(int(c)) for c in clinicians),
            "hubs": ", ".join(str(int(h)) for h in hubs),
        }
        plans = []
        for name, shape in SHAPES.items():
            statement = text("EXPLAIN (ANALYZE, FORMAT JSON) " + shape.format(**lists))
            await connection.execute(statement, params)  # once to warm the cache
            raw = (await connection.execute(statement, params)).scalar_one()
            explained = json.loads(raw) if isinstance(raw, str) else raw
            plans.append(_describe(name, explained[0]))
    return plans
