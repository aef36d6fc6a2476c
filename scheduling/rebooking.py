"""Booked appointments that no longer fit their clinic, and why: leave over them, a closed
video room, a session removed, a service made longer or withdrawn. Nothing here moves an
appointment; staff rebook each with the patient. (The checks themselves: `scheduling.fit`.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import fit, slots
from scheduling.fit import Clash
from scheduling.models import (
    Appointment,
    Clinician,
    ClinicianSession,
    Leave,
    RoomClosure,
    Service,
    SessionHub,
    SessionService,
    Site,
    Status,
    is_active,
)
from scheduling.slot_inputs import LONGEST_APPOINTMENT, local_window
from telehealth.kernel.db import utcnow

# Not yet seen: an appointment in one of these can still be rebooked.
OPEN_STATUSES = (Status.BOOKED.value, Status.CHECKED_IN.value, Status.ARRIVED.value)


@dataclass(frozen=True, slots=True)
class ToRebook:
    appointment: Appointment
    clashes: list[Clash]


async def to_rebook(
    session: AsyncSession,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    clinician_id: int | None = None,
    service_id: int | None = None,
    site_id: int | None = None,
    statuses: Collection[str] = (Status.BOOKED.value,),
    among: ColumnElement[bool] | None = None,
) -> list[ToRebook]:
    """Appointments starting in [start, end) (from now, with no end, by default) that no
    longer fit, in start order, each with every reason it clashes; `among` keeps those the
    caller may see (`scheduling.access`)."""
    statement = (
        select(Appointment)
        .where(
            true() if among is None else among,
            Appointment.status.in_(list(statuses)),
            Appointment.starts_at >= (start or utcnow()),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if end is not None:
        statement = statement.where(Appointment.starts_at < end)
    for column, value in (
        (Appointment.clinician_id, clinician_id),
        (Appointment.service_id, service_id),
        (Appointment.site_id, site_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    appointments = list(await session.scalars(statement))
    if not appointments:
        return []
    around = await _surroundings(session, appointments)
    found = []
    for appointment in appointments:
        clashes = fit.clashes(_booking(appointment), around)
        if clashes:
            found.append(ToRebook(appointment, clashes))
    return found


async def clashes_for_day(
    session: AsyncSession, clinician_id: int, day: date
) -> dict[int, list[Clash]]:
    """For the clinic screen: the clinician's appointments on local `day` not yet seen that
    clash with leave, a room closure or their sessions, by appointment id."""
    window = local_window(day, day)
    found = await to_rebook(
        session,
        start=window.start,
        end=window.end,
        clinician_id=clinician_id,
        statuses=OPEN_STATUSES,
    )
    return {item.appointment.id: item.clashes for item in found}


def newly_affected(before: Sequence[ToRebook], after: Sequence[ToRebook]) -> list[ToRebook]:
    """Those a change made clash, or clash for a new reason: what its answer lists."""
    reasons = {item.appointment.id: {c.reason for c in item.clashes} for item in before}
    return [
        item
        for item in after
        if {c.reason for c in item.clashes} - reasons.get(item.appointment.id, set())
    ]


def _booking(a: Appointment) -> fit.Booking:
    return fit.Booking(
        id=a.id,
        clinician_id=a.clinician_id,
        service_id=a.service_id,
        mode=a.mode,
        site_id=a.site_id,
        room_id=a.room_id,
        start=a.starts_at,
        end=a.ends_at,
    )


async def _surroundings(session: AsyncSession, appointments: list[Appointment]) -> fit.Surroundings:
    clinician_ids = sorted({a.clinician_id for a in appointments})
    service_ids = sorted({a.service_id for a in appointments})
    room_ids = sorted({a.room_id for a in appointments if a.room_id is not None})
    site_ids = sorted({a.site_id for a in appointments if a.site_id is not None})
    first = min(a.starts_at for a in appointments)
    last = max(a.ends_at for a in appointments)
    first_day = slots.to_london(first).date()
    last_day = slots.to_london(last).date()
    services = {
        s.id: fit.ServiceNow(
            length=timedelta(minutes=s.length_minutes),
            buffer=timedelta(minutes=s.buffer_minutes),
            modes=frozenset(s.modes),
            active=s.active,
        )
        for s in await session.scalars(select(Service).where(Service.id.in_(service_ids)))
    }
    inactive_clinicians = frozenset(
        await session.scalars(
            select(Clinician.id).where(Clinician.id.in_(clinician_ids), Clinician.active.is_(False))
        )
    )
    inactive_sites = frozenset(
        await session.scalars(select(Site.id).where(Site.id.in_(site_ids), Site.active.is_(False)))
        if site_ids
        else ()
    )
    return fit.Surroundings(
        services=services,
        sessions=await _sessions(session, clinician_ids, first_day, last_day),
        leave=await _leave(session, clinician_ids, first, last),
        closures=await _closures(session, room_ids, first, last),
        appointments=await _nearby(session, clinician_ids, first, last),
        inactive_clinicians=inactive_clinicians,
        inactive_sites=inactive_sites,
        bank_holidays=slots.bank_holidays_between(first_day, last_day),
    )


async def _sessions(
    session: AsyncSession, clinician_ids: list[int], first_day: date, last_day: date
) -> dict[int, list[slots.Session]]:
    rows = list(
        await session.scalars(
            select(ClinicianSession).where(
                ClinicianSession.clinician_id.in_(clinician_ids),
                ClinicianSession.valid_from <= last_day,
                ClinicianSession.valid_until.is_(None)
                | (ClinicianSession.valid_until >= first_day),
            )
        )
    )
    ids = [r.id for r in rows]
    services: dict[int, set[int]] = defaultdict(set)
    hubs: dict[int, set[int]] = defaultdict(set)
    if ids:
        for sid, service_id in await session.execute(
            select(SessionService.session_id, SessionService.service_id).where(
                SessionService.session_id.in_(ids)
            )
        ):
            services[sid].add(service_id)
        for sid, hub_id in await session.execute(
            select(SessionHub.session_id, SessionHub.site_id).where(SessionHub.session_id.in_(ids))
        ):
            hubs[sid].add(hub_id)
    found: dict[int, list[slots.Session]] = defaultdict(list)
    for r in rows:
        found[r.clinician_id].append(
            slots.Session(
                clinician_id=r.clinician_id,
                weekday=r.weekday,
                start=r.start_time,
                end=r.end_time,
                valid_from=r.valid_from,
                valid_until=r.valid_until,
                modes=frozenset(r.modes),
                service_ids=frozenset(services[r.id]),
                site_id=r.site_id,
                hub_ids=frozenset(hubs[r.id]) if r.id in hubs else None,
                bank_holidays=r.bank_holidays,
            )
        )
    return found


async def _leave(
    session: AsyncSession, clinician_ids: list[int], first: datetime, last: datetime
) -> dict[int, list[slots.Interval]]:
    found: dict[int, list[slots.Interval]] = defaultdict(list)
    for clinician_id, start, end in await session.execute(
        select(Leave.clinician_id, Leave.starts_at, Leave.ends_at).where(
            Leave.clinician_id.in_(clinician_ids), Leave.starts_at < last, Leave.ends_at > first
        )
    ):
        found[clinician_id].append(slots.Interval(start, end))
    return found


async def _closures(
    session: AsyncSession, room_ids: list[int], first: datetime, last: datetime
) -> dict[int, list[slots.Interval]]:
    found: dict[int, list[slots.Interval]] = defaultdict(list)
    if not room_ids:
        return found
    for room_id, start, end in await session.execute(
        select(RoomClosure.room_id, RoomClosure.starts_at, RoomClosure.ends_at).where(
            RoomClosure.room_id.in_(room_ids),
            RoomClosure.starts_at < last,
            RoomClosure.ends_at > first,
        )
    ):
        found[room_id].append(slots.Interval(start, end))
    return found


async def _nearby(
    session: AsyncSession, clinician_ids: list[int], first: datetime, last: datetime
) -> dict[int, list[tuple[int, slots.Interval]]]:
    """The clinicians' active appointments around the window: what a longer service or
    buffer would run into (one may start after the last of those checked)."""
    found: dict[int, list[tuple[int, slots.Interval]]] = defaultdict(list)
    for appointment_id, clinician_id, start, end in await session.execute(
        select(
            Appointment.id, Appointment.clinician_id, Appointment.starts_at, Appointment.ends_at
        ).where(
            Appointment.clinician_id.in_(clinician_ids),
            is_active(Appointment.status),
            Appointment.starts_at < last + LONGEST_APPOINTMENT,
            Appointment.ends_at > first - LONGEST_APPOINTMENT,
        )
    ):
        found[clinician_id].append((appointment_id, slots.Interval(start, end)))
    return found
