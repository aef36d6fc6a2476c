"""Loading everything slot expansion needs, in a handful of queries: the sessions offering a
service, leave, bookings (with their buffers) and hub room use."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    and_,
    bindparam,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import slots
from scheduling.models import (
    Appointment,
    Clinician,
    ClinicianSession,
    Leave,
    Mode,
    RoomClosure,
    SessionHub,
    SessionService,
    Site,
    SiteKind,
    VideoRoom,
    is_active,
)
from telehealth.kernel.db import table_of

# Services are at most 8 hours long with at most 4 hours of buffer (ServiceIn's limits).
LONGEST_APPOINTMENT = timedelta(hours=12)
# Queries on the tables, not the mapped classes: these are plain rows, and Core hands back
# thousands of them (a month of bookings) at a fraction of the ORM's cost per row.
_sessions = table_of(ClinicianSession)
_session_services = table_of(SessionService)
_session_hubs = table_of(SessionHub)
_clinicians = table_of(Clinician)
_leave = table_of(Leave)
_appointments = table_of(Appointment)
_rooms = table_of(VideoRoom)
_sites = table_of(Site)
_closures = table_of(RoomClosure)


def local_window(start_date: date, end_date: date) -> slots.Interval:
    """Local dates, inclusive, as a UTC interval (a clock-change day is 23 or 25 hours)."""
    return slots.Interval(
        slots.local_day_bounds(start_date).start, slots.local_day_bounds(end_date).end
    )


async def hubs_of(session: AsyncSession, session_ids: list[int]) -> dict[int, list[int]]:
    hubs: dict[int, list[int]] = defaultdict(list)
    for sid, hub_id in await session.execute(
        select(_session_hubs.c.session_id, _session_hubs.c.site_id).where(
            _session_hubs.c.session_id.in_(session_ids)
        )
    ):
        hubs[sid].append(hub_id)
    return hubs


class ServiceTerms(Protocol):
    """What the slot rules need of a service: the entity, or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def length_minutes(self) -> int: ...
    @property
    def buffer_minutes(self) -> int: ...
    @property
    def min_notice_minutes(self) -> int: ...
    @property
    def horizon_days(self) -> int: ...
    @property
    def modes(self) -> list[str]: ...


def service_rules(service: ServiceTerms) -> slots.ServiceRules:
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
    session_rows, hubs = await _sessions_for(
        session, service_id, start_date, end_date, clinician_id
    )
    offers_video_site = any(Mode.VIDEO_SITE in r.modes for r in session_rows)
    clinician_ids = sorted({r.clinician_id for r in session_rows})
    hub_rooms = await _hub_rooms(session) if offers_video_site else {}
    leave, busy, room_busy = await _time_taken(session, clinician_ids, list(hub_rooms), window)
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


def clinic_day_params(*, service_id: int, clinician_id: int, day: date) -> dict[str, Any]:
    """The parameters of `CLINIC_DAY`."""
    window = local_window(day, day)
    return {
        "service_id": service_id,
        "clinician_id": clinician_id,
        "weekday": day.weekday(),
        "day": day,
        "window_start": window.start,
        "window_end": window.end,
    }


async def clinic_day_from(
    session: AsyncSession,
    rows: Sequence[Any],
    *,
    service_id: int,
    clinician_id: int,
    day: date,
) -> slots.Availability:
    """One clinician's clinic for one service on local `day`, bookings ignored (what a booking
    checks its start time against), from the rows of `CLINIC_DAY` the booking path fetched
    joined to its other look-ups, to save a round trip. Rows without a session id are
    ignored."""
    # A row without a session is the outer join's empty side: no clinic that day (and, the
    # subquery being joined as a whole, no leave either).
    by_id = {r.id: r for r in rows if r.id is not None}
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
    _sessions.c.id,
    _sessions.c.clinician_id,
    _sessions.c.weekday,
    _sessions.c.start_time,
    _sessions.c.end_time,
    _sessions.c.valid_from,
    _sessions.c.valid_until,
    _sessions.c.modes,
    _sessions.c.site_id,
    _sessions.c.bank_holidays,
)


# The sessions and the day's leave in one round trip (joined: a day has a session or two and
# rarely any leave), as a subquery for a look-up to LEFT JOIN ... ON true (`clinic_day_params`).
CLINIC_DAY = (
    select(
        *_SESSION_COLUMNS,
        _leave.c.starts_at.label("leave_start"),
        _leave.c.ends_at.label("leave_end"),
    )
    .join(_session_services, _session_services.c.session_id == _sessions.c.id)
    .join(_clinicians, _clinicians.c.id == _sessions.c.clinician_id)
    .outerjoin(
        _leave,
        and_(
            _leave.c.clinician_id == _sessions.c.clinician_id,
            _leave.c.starts_at < bindparam("window_end"),
            _leave.c.ends_at > bindparam("window_start"),
        ),
    )
    .where(
        _session_services.c.service_id == bindparam("service_id"),
        _sessions.c.clinician_id == bindparam("clinician_id"),
        _sessions.c.weekday == bindparam("weekday"),
        _clinicians.c.active.is_(True),
        _sessions.c.valid_from <= bindparam("day"),
        _sessions.c.valid_until.is_(None) | (_sessions.c.valid_until >= bindparam("day")),
    )
).subquery("clinic_day")


async def _sessions_for(
    session: AsyncSession,
    service_id: int,
    start_date: date,
    end_date: date,
    clinician_id: int | None,
) -> tuple[list[Any], dict[int, list[int]]]:
    """The sessions offering the service in the window (the session's other services are
    irrelevant here), and the hubs of those that name theirs, in one round trip: a row per
    session and hub."""
    # Plain rows, not entities: identity-map bookkeeping for every session is a measurable
    # share of a slot search.
    statement = (
        select(*_SESSION_COLUMNS, _session_hubs.c.site_id.label("hub_id"))
        .join(_session_services, _session_services.c.session_id == _sessions.c.id)
        .join(_clinicians, _clinicians.c.id == _sessions.c.clinician_id)
        .outerjoin(_session_hubs, _session_hubs.c.session_id == _sessions.c.id)
        .where(
            _session_services.c.service_id == service_id,
            _clinicians.c.active.is_(True),
            _sessions.c.valid_from <= end_date,
            (_sessions.c.valid_until.is_(None)) | (_sessions.c.valid_until >= start_date),
        )
    )
    if clinician_id is not None:
        statement = statement.where(_sessions.c.clinician_id == clinician_id)
    by_id: dict[int, Any] = {}
    hubs: dict[int, list[int]] = defaultdict(list)
    for row in (await session.execute(statement)).all():
        by_id.setdefault(row.id, row)
        if row.hub_id is not None:
            hubs[row.id].append(row.hub_id)
    return list(by_id.values()), hubs


async def _hub_rooms(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(_rooms.c.site_id, func.count())
        .join(_sites, _sites.c.id == _rooms.c.site_id)
        .where(
            _rooms.c.active.is_(True),
            _sites.c.active.is_(True),
            _sites.c.kind == SiteKind.COMMUNITY_HUB.value,
        )
        .group_by(_rooms.c.site_id)
    )
    return {site_id: count for site_id, count in rows.all()}


def _overlapping(
    session: AsyncSession,
    start: ColumnElement[datetime],
    end: ColumnElement[datetime],
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


def _instant(session: AsyncSession, column: ColumnElement[datetime]) -> ColumnElement[datetime]:
    """asyncpg already returns aware UTC datetimes: read them as they come on the searches'
    biggest result sets, skipping UTCDateTime's per-value conversion."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(column, DateTime(timezone=True))
    return column


# What each row of `_time_taken`'s query is about.
_LEAVE, _BUSY, _ROOM = 0, 1, 2
Intervals = dict[int, list[slots.Interval]]


async def _time_taken(
    session: AsyncSession, clinician_ids: list[int], hub_ids: list[int], window: slots.Interval
) -> tuple[Intervals, Intervals, Intervals]:
    """The clinicians' leave and bookings, and each hub's room use (its bookings, and its
    rooms' closures: a room out of service takes one room's capacity while it is closed), in
    one round trip: a UNION ALL of (kind, key, start, end). These are a search's biggest
    results (thousands of bookings a month), taken at once: iterating a result instead
    fetches through the async adapter, a Python call per row."""
    found: dict[int, Intervals] = {kind: defaultdict(list) for kind in (_LEAVE, _BUSY, _ROOM)}
    if not clinician_ids:
        return found[_LEAVE], found[_BUSY], found[_ROOM]
    a, leave, closures = _appointments.c, _leave.c, _closures.c

    def rows(kind: int, key: Any, start: Any, end: Any) -> Select[Any]:
        return select(literal(kind), key, _instant(session, start), _instant(session, end))

    # A booking just after the window can still block its last slot through the buffer.
    buffered = slots.Interval(window.start, window.end + timedelta(days=1))
    parts = [
        rows(_BUSY, a.clinician_id, a.starts_at, a.busy_until).where(
            a.clinician_id.in_(clinician_ids),
            _overlapping(session, a.starts_at, a.busy_until, buffered),
            is_active(a.status),
        ),
        rows(_LEAVE, leave.clinician_id, leave.starts_at, leave.ends_at).where(
            leave.clinician_id.in_(clinician_ids),
            leave.starts_at < window.end,
            leave.ends_at > window.start,
        ),
    ]
    if hub_ids:
        parts += [
            rows(_ROOM, _rooms.c.site_id, a.starts_at, a.ends_at)
            .join(_rooms, _rooms.c.id == a.room_id)
            .where(
                _rooms.c.site_id.in_(hub_ids),
                _overlapping(session, a.starts_at, a.ends_at, window),
                is_active(a.status),
            ),
            rows(_ROOM, _rooms.c.site_id, closures.starts_at, closures.ends_at)
            .join(_rooms, _rooms.c.id == closures.room_id)
            .where(
                _rooms.c.site_id.in_(hub_ids),
                closures.starts_at < window.end,
                closures.ends_at > window.start,
            ),
        ]
    for kind, key, start, end in (await session.execute(union_all(*parts))).all():
        found[kind][key].append(slots.Interval(start, end))
    return found[_LEAVE], found[_BUSY], found[_ROOM]


class ForPatient(NamedTuple):
    """The patient free times are listed for, and the appointment of theirs being moved (it is
    not in its own way: a move updates it in place)."""

    patient_id: int
    moving: int | None = None


async def patients_busy(
    session: AsyncSession,
    patient_ids: Collection[int],
    window: slots.Interval,
    *,
    leaving_out: Collection[int] = (),
) -> Intervals:
    """Each patient's active appointments overlapping the window, as the database's
    ex_appointments_patient_busy constraint sees them: the appointment itself, [starts_at,
    ends_at), without the service's buffer (that is the clinician's). `leaving_out` are
    appointments being moved."""
    found: Intervals = defaultdict(list)
    if not patient_ids:
        return found
    a = _appointments.c
    statement = select(a.patient_id, a.starts_at, a.ends_at).where(
        a.patient_id.in_(sorted(patient_ids)),
        _overlapping(session, a.starts_at, a.ends_at, window),
        is_active(a.status),
    )
    if leaving_out:
        statement = statement.where(a.id.not_in(sorted(leaving_out)))
    for patient_id, start, end in (await session.execute(statement)).all():
        found[patient_id].append(slots.Interval(start, end))
    return found


async def patient_busy(
    session: AsyncSession, patient: ForPatient, start_date: date, end_date: date
) -> list[slots.Interval]:
    """The patient's other active appointments in local dates [start_date, end_date]."""
    moving = () if patient.moving is None else (patient.moving,)
    window = local_window(start_date, end_date)
    busy = await patients_busy(session, (patient.patient_id,), window, leaving_out=moving)
    return busy.get(patient.patient_id, [])
