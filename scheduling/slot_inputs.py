"""Loading everything slot expansion needs, in a handful of queries: the sessions offering a
service, leave, bookings (with their buffers) and hub room use."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, and_, bindparam, func, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from scheduling import slots
from scheduling.models import (
    ACTIVE_STATUS_SQL,
    Appointment,
    Clinician,
    ClinicianSession,
    Leave,
    Mode,
    RoomClosure,
    Service,
    SessionHub,
    SessionService,
    Site,
    SiteKind,
    VideoRoom,
)

# Services are at most 8 hours long with at most 4 hours of buffer (ServiceIn's limits).
LONGEST_APPOINTMENT = timedelta(hours=12)
_ACTIVE = text(ACTIVE_STATUS_SQL.replace("status", "appointments.status"))


def local_window(start_date: date, end_date: date) -> slots.Interval:
    """Local dates, inclusive, as a UTC interval (a clock-change day is 23 or 25 hours)."""
    return slots.Interval(
        slots.local_day_bounds(start_date).start, slots.local_day_bounds(end_date).end
    )


async def hubs_of(session: AsyncSession, session_ids: list[int]) -> dict[int, list[int]]:
    hubs: dict[int, list[int]] = defaultdict(list)
    for sid, hub_id in await session.execute(
        select(SessionHub.session_id, SessionHub.site_id).where(
            SessionHub.session_id.in_(session_ids)
        )
    ):
        hubs[sid].append(hub_id)
    return hubs


def service_rules(service: Service) -> slots.ServiceRules:
    return slots.ServiceRules(
        id=service.id,
        length=timedelta(minutes=service.length_minutes),
        buffer=timedelta(minutes=service.buffer_minutes),
        min_notice=timedelta(minutes=service.min_notice_minutes),
        horizon=timedelta(days=service.horizon_days),
        modes=frozenset(service.modes),
    )


async def load_availability(
    session: AsyncSession,
    *,
    service_id: int,
    start_date: date,
    end_date: date,
    clinician_id: int | None = None,
) -> slots.Availability:
    """Sessions offering the service in the window, with leave, bookings and room use."""
    window = local_window(start_date, end_date)
    session_rows = await _sessions_for(session, service_id, start_date, end_date, clinician_id)
    offers_video_site = any(Mode.VIDEO_SITE in r.modes for r in session_rows)
    # Each round trip counts on the booking path: the sessions were selected by this service
    # (so their other services are irrelevant here), and hub lists matter only for video_site.
    hubs = await hubs_of(session, [r.id for r in session_rows]) if offers_video_site else {}
    clinician_ids = sorted({r.clinician_id for r in session_rows})
    hub_rooms = await _hub_rooms(session) if offers_video_site else {}
    leave = await _leave_for(session, clinician_ids, window)
    busy: dict[int, list[slots.Interval]] = {}
    room_busy: dict[int, list[slots.Interval]] = {}
    if clinician_ids:
        # A booking just after the window can still block its last slot through the buffer.
        busy = await _clinician_busy(
            session, clinician_ids, slots.Interval(window.start, window.end + timedelta(days=1))
        )
        if hub_rooms:
            room_busy = await _room_busy(session, list(hub_rooms), window)
    return slots.Availability(
        sessions=_sessions_of(session_rows, service_id, hubs),
        leave=leave,
        busy=busy,
        hub_rooms=hub_rooms,
        room_busy=room_busy,
        bank_holidays=slots.bank_holidays_between(start_date, end_date),
    )


def _sessions_of(
    rows: Sequence[Any], service_id: int, hubs: dict[int, list[int]]
) -> list[slots.Session]:
    return [
        slots.Session(
            clinician_id=r.clinician_id,
            weekday=r.weekday,
            start=r.start_time,
            end=r.end_time,
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            modes=frozenset(r.modes),
            service_ids=frozenset({service_id}),
            site_id=r.site_id,
            hub_ids=frozenset(hubs[r.id]) if r.id in hubs else None,
            bank_holidays=r.bank_holidays,
        )
        for r in rows
    ]


async def load_clinic_day(
    session: AsyncSession, *, service_id: int, clinician_id: int, day: date
) -> slots.Availability:
    """One clinician's clinic for one service on local `day`, bookings ignored: what a booking
    checks its start time against. The sessions and the day's leave come in one round trip
    (joined: a day has a session or two and rarely any leave), as the booking path is hot."""
    window = local_window(day, day)
    rows = (
        await session.execute(
            _CLINIC_DAY,
            {
                "service_id": service_id,
                "clinician_id": clinician_id,
                "weekday": day.weekday(),
                "day": day,
                "window_start": window.start,
                "window_end": window.end,
            },
        )
    ).all()
    by_id = {r.id: r for r in rows}
    # Each leave period comes once per session row: keep one of each.
    leave = {
        clinician_id: list(
            dict.fromkeys(slots.Interval(r.leave_start, r.leave_end) for r in rows if r.leave_start)
        )
    }
    offers_video_site = any(Mode.VIDEO_SITE in r.modes for r in by_id.values())
    hubs = await hubs_of(session, list(by_id)) if offers_video_site else {}
    return slots.Availability(
        sessions=_sessions_of(list(by_id.values()), service_id, hubs),
        leave=leave,
        busy={},
        hub_rooms=await _hub_rooms(session) if offers_video_site else {},
        room_busy={},
        bank_holidays=slots.bank_holidays_between(day, day),
    )


_SESSION_COLUMNS = (
    ClinicianSession.id,
    ClinicianSession.clinician_id,
    ClinicianSession.weekday,
    ClinicianSession.start_time,
    ClinicianSession.end_time,
    ClinicianSession.valid_from,
    ClinicianSession.valid_until,
    ClinicianSession.modes,
    ClinicianSession.site_id,
    ClinicianSession.bank_holidays,
)


_CLINIC_DAY = (
    select(
        *_SESSION_COLUMNS,
        Leave.starts_at.label("leave_start"),
        Leave.ends_at.label("leave_end"),
    )
    .join(SessionService, SessionService.session_id == ClinicianSession.id)
    .join(Clinician, Clinician.id == ClinicianSession.clinician_id)
    .outerjoin(
        Leave,
        and_(
            Leave.clinician_id == ClinicianSession.clinician_id,
            Leave.starts_at < bindparam("window_end"),
            Leave.ends_at > bindparam("window_start"),
        ),
    )
    .where(
        SessionService.service_id == bindparam("service_id"),
        ClinicianSession.clinician_id == bindparam("clinician_id"),
        ClinicianSession.weekday == bindparam("weekday"),
        Clinician.active.is_(True),
        ClinicianSession.valid_from <= bindparam("day"),
        ClinicianSession.valid_until.is_(None) | (ClinicianSession.valid_until >= bindparam("day")),
    )
)


async def _sessions_for(
    session: AsyncSession,
    service_id: int,
    start_date: date,
    end_date: date,
    clinician_id: int | None,
) -> Sequence[Any]:
    # Plain rows, not entities: identity-map bookkeeping for every session is a measurable
    # share of a slot search.
    statement = (
        select(*_SESSION_COLUMNS)
        .join(SessionService, SessionService.session_id == ClinicianSession.id)
        .join(Clinician, Clinician.id == ClinicianSession.clinician_id)
        .where(
            SessionService.service_id == service_id,
            Clinician.active.is_(True),
            ClinicianSession.valid_from <= end_date,
            (ClinicianSession.valid_until.is_(None)) | (ClinicianSession.valid_until >= start_date),
        )
    )
    if clinician_id is not None:
        statement = statement.where(ClinicianSession.clinician_id == clinician_id)
    return (await session.execute(statement)).all()


async def _hub_rooms(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(VideoRoom.site_id, func.count())
        .join(Site, Site.id == VideoRoom.site_id)
        .where(
            VideoRoom.active.is_(True),
            Site.active.is_(True),
            Site.kind == SiteKind.COMMUNITY_HUB.value,
        )
        .group_by(VideoRoom.site_id)
    )
    return {site_id: count for site_id, count in rows}


async def _leave_for(
    session: AsyncSession, clinician_ids: list[int], window: slots.Interval
) -> dict[int, list[slots.Interval]]:
    result: dict[int, list[slots.Interval]] = defaultdict(list)
    if not clinician_ids:
        return result
    rows = await session.execute(
        select(Leave.clinician_id, Leave.starts_at, Leave.ends_at).where(
            Leave.clinician_id.in_(clinician_ids),
            Leave.starts_at < window.end,
            Leave.ends_at > window.start,
        )
    )
    for clinician_id, start, end in rows:
        result[clinician_id].append(slots.Interval(start, end))
    return result


def _overlapping(
    session: AsyncSession,
    start: InstrumentedAttribute[datetime],
    end: InstrumentedAttribute[datetime],
    window: slots.Interval,
) -> ColumnElement[bool]:
    """Appointments overlapping the window, written so an index answers it. On PostgreSQL that
    is the exclusion constraints' own GiST index (same range expression, same status filter);
    elsewhere a window on `starts_at` bounded on both sides, so the scan does not start at
    the first appointment ever booked."""
    if session.get_bind().dialect.name == "postgresql":
        return func.tstzrange(start, end, "[)").op("&&")(
            func.tstzrange(window.start, window.end, "[)")
        )
    return and_(start < window.end, start > window.start - LONGEST_APPOINTMENT, end > window.start)


def _instant(
    session: AsyncSession, column: InstrumentedAttribute[datetime]
) -> ColumnElement[datetime] | InstrumentedAttribute[datetime]:
    """asyncpg already returns aware UTC datetimes: read them as they come on the searches'
    biggest result sets, skipping UTCDateTime's per-value conversion."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(column, DateTime(timezone=True))
    return column


async def _clinician_busy(
    session: AsyncSession, clinician_ids: list[int], window: slots.Interval
) -> dict[int, list[slots.Interval]]:
    result: dict[int, list[slots.Interval]] = defaultdict(list)
    rows = await session.execute(
        select(
            Appointment.clinician_id,
            _instant(session, Appointment.starts_at),
            _instant(session, Appointment.busy_until),
        ).where(
            Appointment.clinician_id.in_(clinician_ids),
            _overlapping(session, Appointment.starts_at, Appointment.busy_until, window),
            _ACTIVE,
        )
    )
    for clinician_id, start, end in rows:
        result[clinician_id].append(slots.Interval(start, end))
    return result


async def _room_busy(
    session: AsyncSession, hub_ids: list[int], window: slots.Interval
) -> dict[int, list[slots.Interval]]:
    result: dict[int, list[slots.Interval]] = defaultdict(list)
    rows = await session.execute(
        select(
            VideoRoom.site_id,
            _instant(session, Appointment.starts_at),
            _instant(session, Appointment.ends_at),
        )
        .join(VideoRoom, VideoRoom.id == Appointment.room_id)
        .where(
            VideoRoom.site_id.in_(hub_ids),
            _overlapping(session, Appointment.starts_at, Appointment.ends_at, window),
            _ACTIVE,
        )
    )
    for site_id, start, end in rows:
        result[site_id].append(slots.Interval(start, end))
    # A room out of service takes one room's capacity for as long as it is closed.
    closures = await session.execute(
        select(VideoRoom.site_id, RoomClosure.starts_at, RoomClosure.ends_at)
        .join(VideoRoom, VideoRoom.id == RoomClosure.room_id)
        .where(
            VideoRoom.site_id.in_(hub_ids),
            RoomClosure.starts_at < window.end,
            RoomClosure.ends_at > window.start,
        )
    )
    for site_id, start, end in closures:
        result[site_id].append(slots.Interval(start, end))
    return result
