"""Booking, rescheduling and cancelling appointments.

`scheduling.placement.place` gives clear answers for requests that could never succeed.
Whether a valid slot is still free is decided by the database alone, at write time: exclusion
constraints on PostgreSQL, triggers on SQLite. A lost race therefore surfaces as an
IntegrityError, translated here (by the constraint's name) into SlotUnavailable.

Booking and rescheduling take one path for every mode and both databases: choose the room
(`_in_a_room`, only a video_site appointment has one), then write. What differs between
PostgreSQL and SQLite is `_Dialect`, and nothing else.

The database does more on each write than this module shows (migrations 0006 and 0007):
every insert or update of an appointment queues its travel record in `travel_queue`
(trigger trg_appointments_queue_travel), and a booking, or an update that changes `sequence`
(a move, a cancellation), records a change in `appointment_changes`
(trg_appointments_record_change_*), which the messaging worker turns into the patient's
message. So nothing here writes messages or travel records: bumping `sequence` is what tells
the patient of a change.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from scheduling import clinic, slots
from scheduling.models import (
    Appointment,
    AppointmentRow,
    Mode,
    RoomClosure,
    Status,
    VideoRoom,
    is_active,
)
from scheduling.placement import Placement
from scheduling.transitions import Action
from telehealth.kernel import audit
from telehealth.kernel.db import table_of, utcnow, violated_constraint
from telehealth.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PatientUnavailable,
    SlotUnavailable,
    TelehealthError,
)
from telehealth.kernel.identifiers import new_reference

__all__ = [
    "InvalidStatus",
    "NoRoomFree",
    "book",
    "cancel",
    "conflict_from",
    "get_appointment",
    "new_video_room",
    "reschedule",
]

UID_DOMAIN = "bay-telehealth.nhs.uk"
RESCHEDULABLE = (Status.BOOKED,)
_REFERENCE_ATTEMPTS = 5
_T = TypeVar("_T")


class InvalidStatus(Conflict):
    code = "invalid_status"


class NoRoomFree(SlotUnavailable):
    """The video room tried (or every room at the hub) is taken then: a booking moves on to
    the hub's next free room, and answers this 409 when there is none."""


def new_video_room() -> str:
    """128 random bits: a room nobody can guess or reach from another appointment's link."""
    return "bay-" + secrets.token_hex(16)


def conflict_from(error: IntegrityError) -> Conflict | None:
    """The domain error for a known overlap constraint, or None for anything else."""
    constraint = violated_constraint(error)
    if constraint == "ex_appointments_clinician_busy":
        return SlotUnavailable("the clinician is no longer free at that time")
    if constraint == "ex_appointments_room_busy":
        return NoRoomFree("no video room is free at that hub at that time")
    if constraint == "ex_appointments_patient_busy":
        return PatientUnavailable("the patient already has an appointment at that time")
    return None


# A patient taken on trust by `place` (its clinic day cached) whom the insert finds missing.
_UNKNOWN_PATIENT = "fk_appointments_patient_id_patients"


@contextmanager
def _refused_as_conflict(patient_id: int | None = None) -> Iterator[None]:
    """Overlap violations raised inside become the matching 409; given the `patient_id`
    written, a patient who is not there the 422 the patient's own look-up answers."""
    try:
        yield
    except IntegrityError as exc:
        refusal: TelehealthError | None = conflict_from(exc)
        unknown_patient = violated_constraint(exc) == _UNKNOWN_PATIENT
        if refusal is None and unknown_patient and patient_id is not None:
            refusal = InvalidInput.field("patient", f"no patient with id {patient_id}")
        if refusal is None:
            raise
        raise refusal from exc


def _insert_statement(dialect: str) -> Executable:
    """INSERT ... ON CONFLICT (reference) DO NOTHING RETURNING the row, on the table (not the
    entity: the ORM's bulk-insert path costs several times more). Every column but the id is
    bound, so a column added to the table needs nothing here (see `_UNBOOKED`). On PostgreSQL
    the booking's audit row goes in the same statement, the insert being a data-modifying CTE;
    SQLite has none, and its statements cost no round trip anyway."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(_APPOINTMENTS)
        .values({name: bindparam(name, type_=_APPOINTMENTS.c[name].type) for name in _WRITTEN})
        .on_conflict_do_nothing(index_elements=["reference"])
        .returning(*_APPOINTMENTS.c)
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


# pg_advisory_xact_lock(class, key): the class keeps our keys apart from anyone else's.
_HUB_ROOMS_LOCK = 7_301


@dataclass(frozen=True, slots=True)
class _Dialect:
    """What booking does differently on PostgreSQL and SQLite."""

    # Built once: the statement is the same on every booking.
    insert: Executable
    # Whether `insert` writes the audit row too (else `book` records it after).
    audits_in_insert: bool
    # One room choice at a time per hub, until commit (see `lock_hub_rooms`).
    locks_hub_rooms: bool

    async def lock_hub_rooms(self, session: AsyncSession, hub_id: int | None) -> None:
        """On PostgreSQL concurrent bookings would otherwise all reach for the hub's first free
        room: exclusion constraints checked by two inserts at once can deadlock, each waiting
        on the other (PostgreSQL breaks it after a second, and every retry collides the same
        way). Waiting here instead, the next booking's room query sees the committed one.
        SQLite writers are serialised anyway (BEGIN IMMEDIATE)."""
        if self.locks_hub_rooms and hub_id is not None:
            await session.execute(select(func.pg_advisory_xact_lock(_HUB_ROOMS_LOCK, hub_id)))


_APPOINTMENTS = table_of(Appointment)
# A new row before booking fills it in: every column but the id, at its default or NULL.
_UNBOOKED = {
    c.name: c.default.arg if isinstance(c.default, ScalarElementColumnDefault) else None
    for c in _APPOINTMENTS.c
    if c.name != "id"
}
_WRITTEN = tuple(_UNBOOKED)
_ACTION = "appointment.book"
_DIALECTS = {
    "postgresql": _Dialect(_insert_statement("postgresql"), True, True),
    "sqlite": _Dialect(_insert_statement("sqlite"), False, False),
}


def _dialect_of(session: AsyncSession) -> _Dialect:
    return _DIALECTS[session.get_bind().dialect.name]


async def _free_rooms(
    session: AsyncSession, placement: Placement, exclude: int | None
) -> list[int]:
    busy = select(Appointment.room_id).where(
        Appointment.room_id.is_not(None),
        Appointment.starts_at < placement.end,
        Appointment.ends_at > placement.start,
        is_active(Appointment.status),
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


async def _in_a_room(
    session: AsyncSession,
    placement: Placement,
    write: Callable[[int | None], Awaitable[_T]],
    *,
    moving: int | None = None,
) -> _T:
    """`write(room_id)` the appointment at its placement: without a room unless the mode
    takes one; else in the hub's first free room, moving on when the database refuses it
    (taken by a concurrent booking a moment ago) rather than failing the patient. `write`
    makes each room's attempt in a savepoint, for the next attempt to carry on after it.
    `moving`: the appointment being moved, whose own room counts as free."""
    if placement.mode != Mode.VIDEO_SITE:
        return await write(None)
    await _dialect_of(session).lock_hub_rooms(session, placement.site_id)
    for room_id in await _free_rooms(session, placement, exclude=moving):
        try:
            return await write(room_id)
        except NoRoomFree:
            continue
    raise NoRoomFree("no video room is free at that hub at that time")


def _new_row(
    placement: Placement, room_id: int | None, patient_id: int, booked_by: int | None
) -> dict[str, Any]:
    now = utcnow()
    row = dict(_UNBOOKED)  # check-in times, the medium, ... start empty
    row.update(
        reference=new_reference(),
        uid=f"{uuid.uuid4()}@{UID_DOMAIN}",
        video_room=new_video_room(),
        patient_id=patient_id,
        status=Status.BOOKED.value,
        booked_by_user_id=booked_by,
        service_id=placement.service_id,
        clinician_id=placement.clinician_id,
        mode=placement.mode,
        site_id=placement.site_id,
        room_id=room_id,
        starts_at=placement.start,
        ends_at=placement.end,
        busy_until=placement.busy_until,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    return row


async def _insert(session: AsyncSession, statement: Executable, row: dict[str, Any]) -> Any:
    with _refused_as_conflict(row["patient_id"]):
        if row["room_id"] is None:
            # No other room to try: a refusal ends the request, so no savepoint (a round trip).
            return (await session.execute(statement, row)).first()
        async with session.begin_nested():
            return (await session.execute(statement, row)).first()


async def book(
    session: AsyncSession, *, placement: Placement, patient_id: int, booked_by: int | None
) -> AppointmentRow:
    """Insert the appointment, and its audit row (the booking user is the actor). A refusal
    (409) leaves the transaction unusable on PostgreSQL: a caller that wants to carry on
    after one wraps the call in `session.begin_nested()`."""
    dialect = _dialect_of(session)

    async def write(room_id: int | None) -> AppointmentRow:
        # A clash of random references (1 in 10^11) inserts nothing: draw another.
        for _ in range(_REFERENCE_ATTEMPTS):
            row = _new_row(placement, room_id, patient_id, booked_by)
            written = await _insert(session, dialect.insert, row)
            if written is not None:
                return written  # type: ignore[no-any-return]
        raise AssertionError("five random references in a row were taken")

    booked = await _in_a_room(session, placement, write)
    if not dialect.audits_in_insert:
        await audit.record(
            session,
            actor_user_id=booked.booked_by_user_id,
            action=_ACTION,
            entity_type="appointment",
            entity_id=booked.id,
            detail={"patient_id": booked.patient_id},
        )
    return booked


async def get_appointment(session: AsyncSession, appointment_id: int) -> Appointment:
    found = await session.get(Appointment, appointment_id)
    if found is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return found


def _already_at(appointment: Appointment, placement: Placement) -> bool:
    # The end and the buffer too: the same start under a service that has since changed its
    # length is a real change (the appointment is refitted), not a no-op.
    a, p = appointment, placement
    here = (a.service_id, a.clinician_id, a.mode, a.site_id, a.starts_at, a.ends_at, a.busy_until)
    return here == (p.service_id, p.clinician_id, p.mode, p.site_id, p.start, p.end, p.busy_until)


async def _move(
    session: AsyncSession,
    appointment: Appointment,
    placement: Placement,
    room_id: int | None,
    sequence: int,
) -> None:
    """Write the appointment at its new placement, in a savepoint. The fields are set inside
    it (a savepoint first flushes what is pending, outside itself), and every attempt sets
    all of them, reading none: a failed savepoint expires what it flushed."""
    with _refused_as_conflict():
        async with session.begin_nested():
            _set(appointment, placement, room_id, sequence)


def _set(
    appointment: Appointment, placement: Placement, room_id: int | None, sequence: int
) -> None:
    appointment.service_id = placement.service_id
    appointment.clinician_id = placement.clinician_id
    appointment.mode = placement.mode
    appointment.site_id = placement.site_id
    appointment.room_id = room_id
    appointment.starts_at = placement.start
    appointment.ends_at = placement.end
    appointment.busy_until = placement.busy_until
    appointment.sequence = sequence


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
    # Bumped: the calendar feed's SEQUENCE, and what the change feed's trigger watches.
    sequence = appointment.sequence + 1

    async def write(room_id: int | None) -> None:
        await _move(session, appointment, placement, room_id, sequence)

    await _in_a_room(session, placement, write, moving=appointment.id)
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
