"""Clinicians' availability: weekly sessions, one-off extra sessions and leave; and loading
everything slot expansion needs in a handful of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, and_, delete, func, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from scheduling import slots
from scheduling.directory import require_service, require_site
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
from scheduling.schemas import ExceptionIn, ExceptionList, LeaveOut, SessionIn, SessionOut
from telehealth.errors import InvalidInput, NotFound

# Services are at most 8 hours long with at most 4 hours of buffer (ServiceIn's limits).
LONGEST_APPOINTMENT = timedelta(hours=12)
_ACTIVE = text(ACTIVE_STATUS_SQL.replace("status", "appointments.status"))


def local_window(start_date: date, end_date: date) -> slots.Interval:
    """Local dates, inclusive, as a UTC interval (a clock-change day is 23 or 25 hours)."""
    return slots.Interval(
        slots.local_day_bounds(start_date).start, slots.local_day_bounds(end_date).end
    )


# --- sessions -------------------------------------------------------------------------------


async def _validate_session_refs(session: AsyncSession, data: SessionIn) -> None:
    for service_id in data.service_ids:
        service = await require_service(session, service_id)
        unsupported = {m.value for m in data.modes} - set(service.modes)
        if unsupported:
            raise InvalidInput.field(
                "modes",
                f"service {service_id} does not offer {', '.join(sorted(unsupported))}",
            )
    if data.site_id is not None:
        await require_site(session, data.site_id)
    for hub_id in data.hub_ids or ():
        await require_site(session, hub_id, field="hub_ids", kind=SiteKind.COMMUNITY_HUB)


async def create_session(
    session: AsyncSession, *, clinician_id: int, data: SessionIn
) -> SessionOut:
    await _validate_session_refs(session, data)
    valid_until: date | None
    if data.date is not None:
        weekday, valid_from, valid_until = data.date.weekday(), data.date, data.date
        bank_holidays = True if data.bank_holidays is None else data.bank_holidays
    else:
        assert data.weekday is not None and data.valid_from is not None
        weekday, valid_from, valid_until = data.weekday, data.valid_from, data.valid_until
        bank_holidays = bool(data.bank_holidays)
    row = ClinicianSession(
        clinician_id=clinician_id,
        weekday=weekday,
        start_time=data.start_time,
        end_time=data.end_time,
        valid_from=valid_from,
        valid_until=valid_until,
        modes=[m.value for m in data.modes],
        site_id=data.site_id,
        bank_holidays=bank_holidays,
    )
    session.add(row)
    await session.flush()
    session.add_all(SessionService(session_id=row.id, service_id=s) for s in set(data.service_ids))
    session.add_all(SessionHub(session_id=row.id, site_id=h) for h in set(data.hub_ids or ()))
    await session.flush()
    return _session_out(row, sorted(set(data.service_ids)), data.hub_ids)


def _session_out(
    row: ClinicianSession, service_ids: list[int], hub_ids: Iterable[int] | None
) -> SessionOut:
    return SessionOut(
        id=row.id,
        clinician_id=row.clinician_id,
        weekday=row.weekday,
        start_time=row.start_time,
        end_time=row.end_time,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        modes=list(row.modes),
        service_ids=service_ids,
        site_id=row.site_id,
        hub_ids=sorted(hub_ids) if hub_ids else None,
        bank_holidays=row.bank_holidays,
        one_off=row.valid_until == row.valid_from,
    )


async def _hubs_of(session: AsyncSession, session_ids: list[int]) -> dict[int, list[int]]:
    hubs: dict[int, list[int]] = defaultdict(list)
    for sid, hub_id in await session.execute(
        select(SessionHub.session_id, SessionHub.site_id).where(
            SessionHub.session_id.in_(session_ids)
        )
    ):
        hubs[sid].append(hub_id)
    return hubs


async def _links(
    session: AsyncSession, session_ids: list[int]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    services: dict[int, list[int]] = defaultdict(list)
    hubs: dict[int, list[int]] = defaultdict(list)
    if not session_ids:
        return services, hubs
    for sid, service_id in await session.execute(
        select(SessionService.session_id, SessionService.service_id)
        .where(SessionService.session_id.in_(session_ids))
        .order_by(SessionService.service_id)
    ):
        services[sid].append(service_id)
    return services, await _hubs_of(session, session_ids)


async def list_sessions(
    session: AsyncSession, *, clinician_id: int, one_off: bool | None = None
) -> list[SessionOut]:
    statement = (
        select(ClinicianSession)
        .where(ClinicianSession.clinician_id == clinician_id)
        .order_by(
            ClinicianSession.valid_from, ClinicianSession.weekday, ClinicianSession.start_time
        )
    )
    if one_off is not None:
        same_day = ClinicianSession.valid_until == ClinicianSession.valid_from
        statement = statement.where(
            same_day if one_off else ~same_day | ClinicianSession.valid_until.is_(None)
        )
    rows = list(await session.scalars(statement))
    services, hubs = await _links(session, [r.id for r in rows])
    return [_session_out(r, services[r.id], hubs.get(r.id)) for r in rows]


async def delete_session(session: AsyncSession, *, clinician_id: int, session_id: int) -> None:
    result = await session.execute(
        delete(ClinicianSession).where(
            ClinicianSession.id == session_id, ClinicianSession.clinician_id == clinician_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"clinician {clinician_id} has no session {session_id}")


# --- exceptions: leave and one-off extra sessions --------------------------------------------


def leave_interval(data: ExceptionIn) -> slots.Interval:
    last = data.end_date or data.start_date
    if data.start_time is not None and data.end_time is not None:
        return slots.Interval(
            slots.london_datetime(data.start_date, data.start_time),
            slots.london_datetime(last, data.end_time),
        )
    return local_window(data.start_date, last)


def _leave_out(row: Leave) -> LeaveOut:
    return LeaveOut(
        id=row.id,
        clinician_id=row.clinician_id,
        start=slots.to_london(row.starts_at),
        end=slots.to_london(row.ends_at),
        reason=row.reason,
    )


async def create_exception(
    session: AsyncSession, *, clinician_id: int, data: ExceptionIn
) -> LeaveOut | SessionOut:
    if data.kind == "extra":
        return await create_session(session, clinician_id=clinician_id, data=data.as_session())
    interval = leave_interval(data)
    row = Leave(
        clinician_id=clinician_id,
        starts_at=interval.start,
        ends_at=interval.end,
        reason=data.reason,
    )
    session.add(row)
    await session.flush()
    return _leave_out(row)


async def list_exceptions(session: AsyncSession, *, clinician_id: int) -> ExceptionList:
    leave = await session.scalars(
        select(Leave).where(Leave.clinician_id == clinician_id).order_by(Leave.starts_at)
    )
    return ExceptionList(
        leave=[_leave_out(r) for r in leave],
        extra_sessions=await list_sessions(session, clinician_id=clinician_id, one_off=True),
    )


async def delete_leave(session: AsyncSession, *, clinician_id: int, leave_id: int) -> None:
    result = await session.execute(
        delete(Leave).where(Leave.id == leave_id, Leave.clinician_id == clinician_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"clinician {clinician_id} has no leave {leave_id}")


# --- loading availability for slot expansion -------------------------------------------------


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
    ignore_bookings: bool = False,
) -> slots.Availability:
    """Sessions offering the service in the window, with leave, bookings and room use.

    `ignore_bookings` gives the clinic's shape alone: booking uses it to tell a start time
    that was never offered (422) from one that is taken (409, decided by the database).
    """
    window = local_window(start_date, end_date)
    session_rows = await _sessions_for(session, service_id, start_date, end_date, clinician_id)
    offers_video_site = any(Mode.VIDEO_SITE in r.modes for r in session_rows)
    # Each round trip counts on the booking path: the sessions were selected by this service
    # (so their other services are irrelevant here), and hub lists matter only for video_site.
    hubs = await _hubs_of(session, [r.id for r in session_rows]) if offers_video_site else {}
    clinician_ids = sorted({r.clinician_id for r in session_rows})
    hub_rooms = await _hub_rooms(session) if offers_video_site else {}
    leave = await _leave_for(session, clinician_ids, window)
    busy: dict[int, list[slots.Interval]] = {}
    room_busy: dict[int, list[slots.Interval]] = {}
    if not ignore_bookings and clinician_ids:
        # A booking just after the window can still block its last slot through the buffer.
        busy = await _clinician_busy(
            session, clinician_ids, slots.Interval(window.start, window.end + timedelta(days=1))
        )
        if hub_rooms:
            room_busy = await _room_busy(session, list(hub_rooms), window)
    return slots.Availability(
        sessions=[
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
            for r in session_rows
        ],
        leave=leave,
        busy=busy,
        hub_rooms=hub_rooms,
        room_busy=room_busy,
        bank_holidays=slots.bank_holidays_between(start_date, end_date),
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
