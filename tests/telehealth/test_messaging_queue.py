"""The appointment change feed (written by the database) and its expansion into messages."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.models import OutboxMessage
from scheduling import booking
from scheduling.models import AppointmentChange
from scheduling.placement import place
from scheduling.slots import london_datetime
from telehealth import messaging
from telehealth.kernel.db import create_engine, make_sessionmaker, utcnow
from telehealth.kernel.errors import SlotUnavailable
from telehealth.messaging import queue
from tests.builders import make_appointment, make_clinic, make_patient, next_weekday
from tests.conftest import TEST_SETTINGS


async def _changes(session: AsyncSession) -> list[tuple[str, int, str, datetime, str | None]]:
    rows = await session.execute(
        select(
            AppointmentChange.change,
            AppointmentChange.sequence,
            AppointmentChange.status,
            AppointmentChange.starts_at,
            AppointmentChange.cancel_reason,
        ).order_by(AppointmentChange.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def _place(session: AsyncSession, clinic, start: datetime):  # type: ignore[no-untyped-def]
    return await place(
        session,
        service_id=clinic.service.id,
        clinician_id=clinic.clinician.id,
        mode="video_home",
        site_id=None,
        start=start,
    )


async def _book(session: AsyncSession, clinic, start: datetime, patient_id: int):  # type: ignore[no-untyped-def]
    placement = await _place(session, clinic, start)
    made = await booking.book(session, placement=placement, patient_id=patient_id, booked_by=None)
    return await booking.get_appointment(session, made.id)


async def _move(session: AsyncSession, clinic, appointment, start: datetime) -> None:  # type: ignore[no-untyped-def]
    placement = await _place(session, clinic, start)
    await booking.reschedule(session, appointment=appointment, placement=placement)


async def test_bookings_moves_and_cancellations_are_recorded_as_they_were(
    session: AsyncSession,
) -> None:
    c = await make_clinic(session)
    patient = await make_patient(session)
    start = london_datetime(next_weekday(1, weeks=2), time(9))
    appointment = await _book(session, c, start, patient.id)
    later = start + timedelta(minutes=40)
    await _move(session, c, appointment, later)
    # A change no inbox needs to hear about (a hand fix to a note-like column) records nothing.
    appointment.medium = "video"
    await session.flush()
    await booking.cancel(session, appointment=appointment, reason="Feeling better")
    await session.flush()
    assert await _changes(session) == [
        ("booked", 0, "booked", start, None),
        ("rescheduled", 1, "booked", later, None),
        ("cancelled", 2, "cancelled", later, "Feeling better"),
    ]


async def test_an_insert_that_is_not_a_booking_records_nothing(session: AsyncSession) -> None:
    c = await make_clinic(session)
    await make_appointment(
        session, c, start=london_datetime(next_weekday(1), time(9)), status="fulfilled"
    )
    assert await _changes(session) == []


async def test_a_refused_booking_leaves_no_change(session: AsyncSession) -> None:
    c = await make_clinic(session)
    start = london_datetime(next_weekday(1, weeks=2), time(9))
    await _book(session, c, start, (await make_patient(session)).id)
    other = await make_patient(session)
    with pytest.raises(SlotUnavailable):
        async with session.begin_nested():
            await _book(session, c, start, other.id)
    assert [change for change, *_ in await _changes(session)] == ["booked"]


async def test_each_appointment_s_changes_become_messages_in_order(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A move recorded before its booking was expanded: the booking's reminders are written
    first and then replaced, never the other way round."""
    c = await make_clinic(session)
    patient = await make_patient(session)
    start = london_datetime(next_weekday(1, weeks=2), time(9))
    appointment = await _book(session, c, start, patient.id)
    later = start + timedelta(minutes=40)
    await _move(session, c, appointment, later)
    await session.commit()
    # One change per appointment per batch, the oldest first.
    assert await messaging.queue_messages(sessionmaker, TEST_SETTINGS, limit=10) == 1
    assert await _changes(session) == [("rescheduled", 1, "booked", later, None)]
    assert await messaging.queue_messages(sessionmaker, TEST_SETTINGS, limit=10) == 1
    assert await messaging.queue_messages(sessionmaker, TEST_SETTINGS) == 0
    rows = (
        await session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, OutboxMessage.next_attempt_at)
            .where(OutboxMessage.recipient == patient.email)
            .order_by(OutboxMessage.id)
        )
    ).all()
    pending = [at for kind, status, at in rows if (kind, status) == ("reminder", "pending")]
    assert pending == [later - timedelta(hours=24), later - timedelta(hours=1)]
    assert [kind for kind, _, _ in rows if kind != "reminder"] == ["confirmation", "change"]


async def test_a_change_that_fails_is_left_and_the_rest_go(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = await make_clinic(session)
    first = london_datetime(next_weekday(1, weeks=2), time(9))
    made = [
        await _book(session, c, first + timedelta(minutes=20 * n), (await make_patient(session)).id)
        for n in range(3)
    ]
    await session.commit()
    broken = made[1].id
    real = queue.messages_for

    def failing(change, *args, **kwargs):  # type: ignore[no-untyped-def]
        if change.appointment_id == broken:
            raise RuntimeError("a bug in one message")
        return real(change, *args, **kwargs)

    monkeypatch.setattr(queue, "messages_for", failing)
    assert await messaging.queue_messages(sessionmaker, TEST_SETTINGS) == 2
    assert await messaging.queue_messages(sessionmaker, TEST_SETTINGS) == 0  # nothing to retry yet
    left = await session.scalars(select(AppointmentChange.appointment_id))
    assert list(left) == [broken]
    monkeypatch.setattr(queue, "messages_for", real)  # the bug fixed
    assert await messaging.queue_messages(sessionmaker, TEST_SETTINGS) == 1
    confirmed = await session.scalars(
        select(OutboxMessage.appointment_id).where(OutboxMessage.kind == "confirmation")
    )
    assert sorted(confirmed) == sorted(a.id for a in made)


async def test_workers_racing_take_each_change_once(fresh_database: str) -> None:
    engines = [create_engine(fresh_database) for _ in range(2)]
    makers = [make_sessionmaker(e) for e in engines]
    async with makers[0]() as session, session.begin():
        c = await make_clinic(session)
        first = london_datetime(next_weekday(1, weeks=2), time(9))
        for n in range(6):
            patient = await make_patient(session)
            await _book(session, c, first + timedelta(minutes=20 * n), patient.id)
    taken = await asyncio.gather(
        *(messaging.queue_messages(m, TEST_SETTINGS, limit=2) for m in makers * 4)
    )
    async with makers[0]() as session:
        left = await session.scalar(select(func.count()).select_from(AppointmentChange))
        confirmations = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "confirmation")
        )
    for engine in engines:
        await engine.dispose()
    assert sum(taken) == 6 and left == 0
    assert confirmations == 6


async def test_an_appointment_already_over_tells_nobody(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A clinic recorded after it happened (the demo's history) is not news to any inbox:
    its changes leave the feed without a confirmation, notice or reminder."""
    c = await make_clinic(session)
    over = await make_appointment(session, c, start=utcnow() - timedelta(days=3))
    await booking.cancel(session, appointment=over, reason="Recorded afterwards")
    to_come = await _book(
        session, c, london_datetime(next_weekday(1, weeks=2), time(9)), over.patient_id
    )
    await session.commit()
    while await messaging.queue_messages(sessionmaker, TEST_SETTINGS):
        pass
    assert await _changes(session) == []
    told = set(await session.scalars(select(OutboxMessage.appointment_id)))
    assert told == {to_come.id}
