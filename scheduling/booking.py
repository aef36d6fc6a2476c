"""Booking, rescheduling and cancelling appointments.

`place` (in `placement`) gives clear answers for requests that could never succeed. Whether a
valid slot is still free is decided by the database alone, at insert time: exclusion
constraints on PostgreSQL, triggers on SQLite. A lost race therefore surfaces as an
IntegrityError, translated here into SlotUnavailable.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import bindparam, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from scheduling import clinic, slots
from scheduling.models import (
    ACTIVE_STATUS_SQL,
    Appointment,
    Mode,
    RoomClosure,
    Status,
    VideoRoom,
)
from scheduling.placement import Placement, place
from scheduling.transitions import Action
from telehealth.kernel import audit
from telehealth.kernel.db import table_of, utcnow
from telehealth.kernel.errors import (
    Conflict,
    NotFound,
    PatientUnavailable,
    SlotUnavailable,
)
from telehealth.kernel.identifiers import new_reference

__all__ = [
    "AppointmentView",
    "Booked",
    "InvalidStatus",
    "Placement",
    "book",
    "cancel",
    "conflict_from",
    "get_appointment",
    "new_video_room",
    "place",
    "reschedule",
]

UID_DOMAIN = "bay-telehealth.nhs.uk"
RESCHEDULABLE = (Status.BOOKED,)
_REFERENCE_ATTEMPTS = 5


class InvalidStatus(Conflict):
    code = "invalid_status"


def new_video_room() -> str:
    """128 random bits: a room nobody can guess or reach from another appointment's link."""
    return "bay-" + secrets.token_hex(16)


def conflict_from(error: IntegrityError) -> Conflict | None:
    """The domain error for a known overlap constraint, or None for anything else."""
    message = str(error.orig)
    if "ex_appointments_clinician_busy" in message:
        return SlotUnavailable("the clinician is no longer free at that time")
    if "ex_appointments_room_busy" in message:
        return SlotUnavailable("no video room is free at that hub at that time")
    if "ex_appointments_patient_busy" in message:
        return PatientUnavailable("the patient already has an appointment at that time")
    return None


async def _free_rooms(
    session: AsyncSession, placement: Placement, exclude: int | None
) -> list[int]:
    busy = select(Appointment.room_id).where(
        Appointment.room_id.is_not(None),
        Appointment.starts_at < placement.end,
        Appointment.ends_at > placement.start,
        text(ACTIVE_STATUS_SQL.replace("status", "appointments.status")),
    )
    if exclude is not None:
        busy = busy.where(Appointment.id != exclude)
    closed = select(RoomClosure.room_id).where(
        RoomClosure.starts_at < placement.end, RoomClosure.ends_at > placement.start
    )
    rows = await session.scalars(
        select(VideoRoom.id)
        .where(
            VideoRoom.site_id == placement.site_id,
            VideoRoom.active.is_(True),
            VideoRoom.id.not_in(busy),
            VideoRoom.id.not_in(closed),
        )
        .order_by(VideoRoom.id)
    )
    return list(rows)


async def _write(session: AsyncSession, appointment: Appointment) -> None:
    """Flush one insert or update in a savepoint, turning overlap violations into 409s."""
    try:
        async with session.begin_nested():
            session.add(appointment)
    except IntegrityError as exc:
        conflict = conflict_from(exc)
        if conflict is None:
            raise
        raise conflict from exc


def _apply(appointment: Appointment, placement: Placement, room_id: int | None) -> None:
    appointment.service_id = placement.service_id
    appointment.clinician_id = placement.clinician_id
    appointment.mode = placement.mode
    appointment.site_id = placement.site_id
    appointment.room_id = room_id
    appointment.starts_at = placement.start
    appointment.ends_at = placement.end
    appointment.busy_until = placement.busy_until


# pg_advisory_xact_lock(class, key): the class keeps our keys apart from anyone else's.
_HUB_ROOMS_LOCK = 7_301


async def _lock_hub_rooms(session: AsyncSession, hub_id: int | None) -> None:
    """On PostgreSQL, one room choice at a time per hub, until commit. Concurrent bookings
    would otherwise all reach for the hub's first free room: exclusion constraints checked
    by two inserts at once can deadlock, each waiting on the other (PostgreSQL breaks it
    after a second, and every retry collides the same way). Waiting here instead, the next
    booking's room query sees the committed one. SQLite writers are serialised anyway."""
    if hub_id is not None and session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_HUB_ROOMS_LOCK, hub_id)))


async def _place_into(
    session: AsyncSession, appointment: Appointment, placement: Placement, sequence: int
) -> None:
    """Write the appointment at its placement. A failed savepoint expires what it flushed, so
    every attempt sets all the fields again."""
    if placement.mode != Mode.VIDEO_SITE:
        _apply(appointment, placement, None)
        appointment.sequence = sequence
        await _write(session, appointment)
        return
    await _lock_hub_rooms(session, placement.site_id)
    # Rooms that looked free a moment ago may be taken by a concurrent booking; the database
    # refuses those, and we move on to the next room rather than failing the patient.
    for room_id in await _free_rooms(session, placement, exclude=appointment.id):
        _apply(appointment, placement, room_id)
        appointment.sequence = sequence
        try:
            await _write(session, appointment)
            return
        except SlotUnavailable as exc:
            if "video room" not in exc.message:
                raise
    raise SlotUnavailable("no video room is free at that hub at that time")


class Booked(NamedTuple):
    """What a booking returns: the new appointment's columns, as the database wrote them.
    Not an entity (a caller that goes on to change it loads one with `session.get`): building
    one for every booking costs a tenth of the request."""

    id: int
    reference: str
    uid: str
    status: str
    starts_at: datetime
    ends_at: datetime
    mode: str
    site_id: int | None
    room_id: int | None
    clinician_id: int
    service_id: int
    patient_id: int
    sequence: int
    cancel_reason: str | None
    booked_by_user_id: int | None
    created_at: datetime
    updated_at: datetime


class AppointmentView(Protocol):
    """What `Booked` and the `Appointment` entity share: enough to show an appointment."""

    @property
    def id(self) -> int: ...
    @property
    def reference(self) -> str: ...
    @property
    def uid(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def mode(self) -> str: ...
    @property
    def site_id(self) -> int | None: ...
    @property
    def room_id(self) -> int | None: ...
    @property
    def clinician_id(self) -> int: ...
    @property
    def service_id(self) -> int: ...
    @property
    def patient_id(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def cancel_reason(self) -> str | None: ...
    @property
    def booked_by_user_id(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


_APPOINTMENTS = table_of(Appointment)
_ACTION = "appointment.book"
# What a new booking sets; the rest (check-in times, the medium, ...) starts empty.
_BOOKED_COLUMNS = (
    "reference",
    "uid",
    "video_room",
    "patient_id",
    "status",
    "booked_by_user_id",
    "service_id",
    "clinician_id",
    "mode",
    "site_id",
    "room_id",
    "starts_at",
    "ends_at",
    "busy_until",
    "sequence",
    "created_at",
    "updated_at",
)


def _audit_detail(patient_id: int) -> dict[str, object]:
    return {"patient_id": patient_id}


def _insert_statement(dialect: str) -> Executable:
    """INSERT ... ON CONFLICT (reference) DO NOTHING RETURNING the row, on the table (not the
    entity: the ORM's bulk-insert path costs several times more). On PostgreSQL the booking's
    audit row goes in the same statement, the insert being a data-modifying CTE; SQLite has
    none, and its statements cost no round trip anyway."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(_APPOINTMENTS)
        .values(
            {name: bindparam(name, type_=_APPOINTMENTS.c[name].type) for name in _BOOKED_COLUMNS}
        )
        .on_conflict_do_nothing(index_elements=["reference"])
        .returning(*(_APPOINTMENTS.c[name] for name in Booked._fields))
    )
    if dialect != "postgresql":
        return statement
    booked = statement.cte("booked")
    audit_row = audit.insert_from(
        select(
            booked.c.created_at,
            booked.c.booked_by_user_id,
            literal(_ACTION),
            literal("appointment"),
            booked.c.id,
            func.json_build_object("patient_id", booked.c.patient_id),
        )
    )
    return select(booked).add_cte(audit_row.cte("audited"))


# Built once: the statements are the same on every booking.
_INSERT = {name: _insert_statement(name) for name in ("postgresql", "sqlite")}
# An audit row that the dialect's statement has not written already.
_AUDIT_SEPARATELY = {"postgresql": False, "sqlite": True}


async def _insert(
    session: AsyncSession, placement: Placement, patient_id: int, booked_by: int | None
) -> Booked:
    """The booking path without a room to choose: one INSERT that skips a clashing random
    reference (ON CONFLICT DO NOTHING, then draw again) instead of a savepoint around it. An
    overlap still aborts it, and the request with it, as a 409."""
    dialect = session.get_bind().dialect.name
    for _ in range(_REFERENCE_ATTEMPTS):
        now = utcnow()
        values = {
            "reference": new_reference(),
            "uid": f"{uuid.uuid4()}@{UID_DOMAIN}",
            "video_room": new_video_room(),
            "patient_id": patient_id,
            "status": Status.BOOKED.value,
            "booked_by_user_id": booked_by,
            "service_id": placement.service_id,
            "clinician_id": placement.clinician_id,
            "mode": placement.mode,
            "site_id": placement.site_id,
            "room_id": None,
            "starts_at": placement.start,
            "ends_at": placement.end,
            "busy_until": placement.busy_until,
            "sequence": 0,
            "created_at": now,
            "updated_at": now,
        }
        try:
            row = (await session.execute(_INSERT[dialect], values)).first()
        except IntegrityError as exc:
            conflict = conflict_from(exc)
            if conflict is None:
                raise
            raise conflict from exc
        if row is None:
            continue
        booked = Booked._make(row)
        if _AUDIT_SEPARATELY[dialect]:
            await _audit_booking(session, booked)
        return booked
    raise AssertionError("five random references in a row were taken")


async def _audit_booking(session: AsyncSession, appointment: AppointmentView) -> None:
    await audit.record(
        session,
        actor_user_id=appointment.booked_by_user_id,
        action=_ACTION,
        entity_type="appointment",
        entity_id=appointment.id,
        detail=_audit_detail(appointment.patient_id),
    )


async def book(
    session: AsyncSession, *, placement: Placement, patient_id: int, booked_by: int | None
) -> AppointmentView:
    """Insert the appointment, and its audit row (the booking user is the actor). A refusal
    (409) leaves the transaction unusable on PostgreSQL: a caller that wants to carry on
    after one wraps the call in `session.begin_nested()`."""
    if placement.mode != Mode.VIDEO_SITE:
        return await _insert(session, placement, patient_id, booked_by)
    for attempt in range(_REFERENCE_ATTEMPTS):
        appointment = Appointment(
            reference=new_reference(),
            uid=f"{uuid.uuid4()}@{UID_DOMAIN}",
            video_room=new_video_room(),
            patient_id=patient_id,
            status=Status.BOOKED.value,
            booked_by_user_id=booked_by,
        )
        try:
            await _place_into(session, appointment, placement, sequence=0)
        except IntegrityError as exc:
            # A clash of random references (1 in 10^11): draw another.
            if "reference" not in str(exc.orig) or attempt == _REFERENCE_ATTEMPTS - 1:
                raise
            continue
        await _audit_booking(session, appointment)
        return appointment
    raise AssertionError("unreachable")


async def get_appointment(session: AsyncSession, appointment_id: int) -> Appointment:
    found = await session.get(Appointment, appointment_id)
    if found is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return found


def _already_at(appointment: Appointment, placement: Placement) -> bool:
    # The end and the buffer too: the same start under a service that has since changed its
    # length is a real change (the appointment is refitted), not a no-op.
    return (
        appointment.service_id,
        appointment.clinician_id,
        appointment.mode,
        appointment.site_id,
        appointment.starts_at,
        appointment.ends_at,
        appointment.busy_until,
    ) == (
        placement.service_id,
        placement.clinician_id,
        placement.mode,
        placement.site_id,
        placement.start,
        placement.end,
        placement.busy_until,
    )


async def reschedule(
    session: AsyncSession,
    *,
    appointment: Appointment,
    placement: Placement,
    actor_user_id: int | None = None,
) -> Appointment:
    """Move the appointment to `placement`. A placement where it already is changes nothing:
    the sequence stays (so the patient's join link stays valid), and without a change no
    message goes to the patient and no calendar sees an update."""
    if appointment.status not in RESCHEDULABLE:
        raise InvalidStatus(f"a {appointment.status} appointment cannot be rescheduled")
    if _already_at(appointment, placement):
        return appointment
    before = (appointment.starts_at, appointment.clinician_id, appointment.mode)
    await _place_into(session, appointment, placement, sequence=appointment.sequence + 1)
    await clinic.record(
        session,
        appointment,
        "reschedule",
        actor_user_id=actor_user_id,
        message=f"moved from {slots.to_london(before[0]).isoformat()} ({before[2]})",
    )
    return appointment


async def cancel(
    session: AsyncSession,
    *,
    appointment: Appointment,
    reason: str,
    actor_user_id: int | None = None,
) -> Appointment:
    await clinic.apply(
        session,
        appointment,
        Action.CANCEL,
        actor="staff" if actor_user_id else "system",
        actor_user_id=actor_user_id,
        reason=reason,
    )
    return appointment
