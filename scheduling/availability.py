"""Clinicians' availability: weekly sessions, one-off extra sessions and leave.
(Loading it for slot expansion is `scheduling.slot_inputs`.)"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import rebooking, slots
from scheduling.directory import require_service, require_site
from scheduling.directory_schemas import ExceptionIn, ExceptionList, LeaveOut, SessionIn, SessionOut
from scheduling.models import (
    ClinicianSession,
    Leave,
    SessionHub,
    SessionService,
    SiteKind,
)
from scheduling.rebooking import ToRebook
from scheduling.slot_inputs import LONGEST_APPOINTMENT, hubs_of, local_window
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import InvalidInput, NotFound

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
    return services, await hubs_of(session, session_ids)


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


async def delete_session(
    session: AsyncSession, *, clinician_id: int, session_id: int
) -> list[ToRebook]:
    """Remove the session. Its booked appointments keep their times: those it leaves outside
    every session are returned, for staff to rebook."""
    before = await rebooking.to_rebook(session, clinician_id=clinician_id)
    result = await session.execute(
        delete(ClinicianSession).where(
            ClinicianSession.id == session_id, ClinicianSession.clinician_id == clinician_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"clinician {clinician_id} has no session {session_id}")
    return rebooking.newly_affected(
        before, await rebooking.to_rebook(session, clinician_id=clinician_id)
    )


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
    leave, _ = await create_leave(session, clinician_id=clinician_id, data=data)
    return leave


async def create_leave(
    session: AsyncSession, *, clinician_id: int, data: ExceptionIn
) -> tuple[LeaveOut, list[ToRebook]]:
    """Add leave, and say which booked appointments it falls over. They stay booked (the
    clinician's leave does not cancel anyone's appointment by itself) for staff to rebook."""
    interval = leave_interval(data)
    row = Leave(
        clinician_id=clinician_id,
        starts_at=interval.start,
        ends_at=interval.end,
        reason=data.reason,
    )
    session.add(row)
    await session.flush()
    during = await rebooking.to_rebook(
        session,
        start=max(interval.start - LONGEST_APPOINTMENT, utcnow()),
        end=interval.end,
        clinician_id=clinician_id,
    )
    affected = [
        item
        for item in during
        if slots.overlaps(
            interval, slots.Interval(item.appointment.starts_at, item.appointment.ends_at)
        )
    ]
    return _leave_out(row), affected


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
