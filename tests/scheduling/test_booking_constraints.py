"""What booking does when the database refuses a write, told apart by the constraint's name
(never the message): a clashing reference is drawn again, a room taken in the meantime is
passed over for the next, and any other overlap is the patient's 409. On both databases."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import booking
from scheduling.booking import NoRoomFree
from scheduling.models import Appointment, VideoRoom
from scheduling.placement import Placement, place
from scheduling.slots import london_datetime
from telehealth.kernel.db import violated_constraint
from telehealth.kernel.errors import SlotUnavailable
from tests.builders import (
    Clinic,
    make_appointment,
    make_clinic,
    make_clinician,
    make_patient,
    next_weekday,
)


def _start(at: time = time(9)) -> datetime:
    return london_datetime(next_weekday(1, weeks=2), at)


async def _placement(
    session: AsyncSession, clinic: Clinic, mode: str, start: datetime | None = None
) -> Placement:
    site_id = {"video_home": None, "video_site": clinic.hub.id}.get(mode, clinic.hospital.id)
    return await place(
        session,
        service_id=clinic.service.id,
        clinician_id=clinic.clinician.id,
        mode=mode,
        site_id=site_id,
        start=start or _start(),
    )


async def _rooms(session: AsyncSession, clinic: Clinic) -> list[int]:
    found = await session.scalars(
        select(VideoRoom.id).where(VideoRoom.site_id == clinic.hub.id).order_by(VideoRoom.id)
    )
    return list(found)


async def _someone_else_in(session: AsyncSession, clinic: Clinic, room_id: int) -> None:
    """Another clinician's appointment in `room_id` at `_start()`."""
    other = dataclasses.replace(clinic, clinician=await make_clinician(session))
    taken = await make_appointment(session, other, start=_start(), mode="video_site")
    taken.room_id = room_id
    await session.flush()


def _every_room_looks_free(monkeypatch: pytest.MonkeyPatch, rooms: list[int]) -> None:
    """As if the room query had run just before a concurrent booking took a room."""

    async def stale(*_: object, **__: object) -> list[int]:
        return rooms

    monkeypatch.setattr(booking, "_free_rooms", stale)


async def test_constraints_are_named_by_the_database(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    first = await make_appointment(session, clinic, start=_start())
    other = await make_patient(session)
    attempts: dict[str, tuple[datetime, dict[str, object]]] = {
        "uq_appointments_reference": (_start(time(10)), {"reference": first.reference}),
        "ex_appointments_clinician_busy": (_start(), {"patient_id": other.id}),
        "ck_appointments_ends_after_start": (
            _start(time(11)),
            {"ends_at": _start(time(11)), "busy_until": _start(time(11))},
        ),
    }
    for expected, (start, change) in attempts.items():
        with pytest.raises(IntegrityError) as refused:
            async with session.begin_nested():
                session.add(_copy(first, start=start, **change))
        assert violated_constraint(refused.value) == expected


def _copy(appointment: Appointment, *, start: datetime, **change: object) -> Appointment:
    columns = {
        c: getattr(appointment, c)
        for c in ("service_id", "clinician_id", "patient_id", "mode", "site_id", "room_id")
    }
    n = start.hour * 100 + start.minute
    made = Appointment(
        **columns,
        reference=f"C{n:07d}",
        uid=f"copy-{n}@test",
        video_room=f"bay-copy-{n}",
        starts_at=start,
        ends_at=start + (appointment.ends_at - appointment.starts_at),
        busy_until=start + (appointment.ends_at - appointment.starts_at),
        status="booked",
        sequence=0,
    )
    for name, value in change.items():
        setattr(made, name, value)
    return made


@pytest.mark.parametrize("mode", ["video_home", "video_site", "in_person"])
async def test_a_clashing_reference_is_drawn_again(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    clinic = await make_clinic(session)
    earlier = await make_appointment(session, clinic, start=_start(time(11)))
    drawn = iter([earlier.reference, "FRESHREF"])
    monkeypatch.setattr(booking, "new_reference", lambda: next(drawn))
    patient = await make_patient(session)
    made = await booking.book(
        session,
        placement=await _placement(session, clinic, mode),
        patient_id=patient.id,
        booked_by=None,
    )
    assert made.reference == "FRESHREF"
    assert (await booking.get_appointment(session, made.id)).mode == mode


async def test_references_that_keep_clashing_give_up(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = await make_clinic(session)
    earlier = await make_appointment(session, clinic, start=_start(time(11)))
    monkeypatch.setattr(booking, "new_reference", lambda: earlier.reference)
    patient = await make_patient(session)
    with pytest.raises(AssertionError, match="references"):
        await booking.book(
            session,
            placement=await _placement(session, clinic, "video_home"),
            patient_id=patient.id,
            booked_by=None,
        )


async def test_a_room_taken_meanwhile_is_passed_over_for_the_next(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = await make_clinic(session, rooms=2)
    first, second = await _rooms(session, clinic)
    await _someone_else_in(session, clinic, first)
    _every_room_looks_free(monkeypatch, [first, second])
    patient = await make_patient(session)
    made = await booking.book(
        session,
        placement=await _placement(session, clinic, "video_site"),
        patient_id=patient.id,
        booked_by=None,
    )
    assert made.room_id == second


async def test_no_room_left_is_a_409_and_the_transaction_carries_on(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = await make_clinic(session, rooms=1)
    [only] = await _rooms(session, clinic)
    await _someone_else_in(session, clinic, only)
    _every_room_looks_free(monkeypatch, [only])
    patient = await make_patient(session)
    with pytest.raises(NoRoomFree) as refused:
        await booking.book(
            session,
            placement=await _placement(session, clinic, "video_site"),
            patient_id=patient.id,
            booked_by=None,
        )
    assert refused.value.code == "slot_unavailable" and refused.value.status_code == 409
    # Each room was tried in a savepoint: the request's transaction is still good.
    assert await session.scalar(select(Appointment.id).where(Appointment.room_id == only))


async def test_a_busy_clinician_is_not_taken_for_a_busy_room(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = await make_clinic(session, rooms=2)
    rooms = await _rooms(session, clinic)
    await make_appointment(session, clinic, start=_start())  # the clinician, at home
    _every_room_looks_free(monkeypatch, rooms)
    patient = await make_patient(session)
    with pytest.raises(SlotUnavailable) as refused:
        await booking.book(
            session,
            placement=await _placement(session, clinic, "video_site"),
            patient_id=patient.id,
            booked_by=None,
        )
    assert type(refused.value) is SlotUnavailable
    assert "clinician" in refused.value.message


async def test_a_move_into_a_room_taken_meanwhile_takes_the_next(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = await make_clinic(session, rooms=2)
    first, second = await _rooms(session, clinic)
    await _someone_else_in(session, clinic, first)
    moving = await make_appointment(session, clinic, start=_start(time(11)))
    _every_room_looks_free(monkeypatch, [first, second])
    await booking.reschedule(
        session, appointment=moving, placement=await _placement(session, clinic, "video_site")
    )
    assert (moving.room_id, moving.sequence) == (second, 1)
