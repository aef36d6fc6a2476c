"""Booking from a referral: once, whatever the patient clicks (both databases)."""

from __future__ import annotations

import asyncio
from datetime import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import referral_booking
from scheduling.models import Appointment, Patient
from scheduling.referral_booking import (
    AlreadyBooked,
    Choice,
    ReferralClosed,
    book_from_referral,
    request_help,
)
from scheduling.referral_models import Referral
from scheduling.slots import london_datetime
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.kernel.errors import InvalidInput
from tests.builders import Clinic, make_clinic, next_weekday
from tests.builders_referrals import make_referral


def _choice(clinic: Clinic, at: time = time(9), *, mode: str = "video_home") -> Choice:
    site = {"video_home": None, "video_site": clinic.hub.id, "in_person": clinic.hospital.id}
    start = london_datetime(next_weekday(1, weeks=2), at)
    return Choice(clinic.clinician.id, mode, site[mode], start)


async def _appointments(session: AsyncSession, patient_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.patient_id == patient_id)
    )
    return int(found or 0)


async def test_books_once_and_marks_the_referral(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    referral = await make_referral(session, clinic=clinic)
    booked = await book_from_referral(
        session,
        referral_id=referral.id,
        choice=_choice(clinic, mode="video_site"),
        patient_changes={"interpreter_language": "Polish", "companion": True},
    )
    assert booked.patient_id == referral.patient_id and booked.mode == "video_site"
    assert booked.room_id is not None and booked.booked_by_user_id is None
    assert (referral.status, referral.appointment_id) == ("booked", booked.id)
    patient = await session.get(Patient, referral.patient_id)
    assert patient is not None
    assert (patient.interpreter_language, patient.companion) == ("Polish", True)
    actions = set(
        await session.scalars(select(AuditEvent.action).where(AuditEvent.actor_user_id.is_(None)))
    )
    assert {"appointment.book", "referral.book", "patient.update"} <= actions


async def test_a_second_booking_is_refused_and_leaves_one_appointment(
    session: AsyncSession,
) -> None:
    clinic = await make_clinic(session)
    referral = await make_referral(session, clinic=clinic)
    first = await book_from_referral(session, referral_id=referral.id, choice=_choice(clinic))
    with pytest.raises(AlreadyBooked) as refused:
        async with session.begin_nested():
            await book_from_referral(
                session, referral_id=referral.id, choice=_choice(clinic, time(10))
            )
    assert refused.value.appointment_id == first.id
    assert await _appointments(session, referral.patient_id) == 1


async def test_the_conditional_update_is_the_invariant(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read as open a moment before another booking committed (no lock taken): the UPDATE
    matches no row, and the rollback takes the second appointment with it."""
    clinic = await make_clinic(session)
    referral = await make_referral(session, clinic=clinic)
    await book_from_referral(session, referral_id=referral.id, choice=_choice(clinic))

    async def read_unchecked(session: AsyncSession, referral_id: int, *, lock: bool) -> Referral:
        found = await session.get(Referral, referral_id)
        assert found is not None
        return found

    monkeypatch.setattr(referral_booking, "open_referral", read_unchecked)
    with pytest.raises(AlreadyBooked):
        async with session.begin_nested():
            await book_from_referral(
                session, referral_id=referral.id, choice=_choice(clinic, time(10))
            )
    assert await _appointments(session, referral.patient_id) == 1


async def test_closed_and_unsuitable_referrals_book_nothing(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    closed = await make_referral(session, clinic=clinic, status="closed")
    with pytest.raises(ReferralClosed):
        await book_from_referral(session, referral_id=closed.id, choice=_choice(clinic))
    in_person_only = await make_referral(session, clinic=clinic, video_suitable=False)
    with pytest.raises(InvalidInput) as refused:
        await book_from_referral(session, referral_id=in_person_only.id, choice=_choice(clinic))
    assert refused.value.fields == {"mode": "this referral is for an appointment in person"}
    assert await _appointments(session, in_person_only.patient_id) == 0


async def test_asking_for_help_puts_it_on_the_worklist(session: AsyncSession) -> None:
    referral = await make_referral(session)
    await request_help(session, referral.id, "  None of the times suit me  ")
    assert referral.help_requested_at is not None
    assert referral.help_reason == "None of the times suit me"
    action = await session.scalar(
        select(AuditEvent.action).where(
            AuditEvent.entity_type == "referral", AuditEvent.entity_id == referral.id
        )
    )
    assert action == "referral.help_requested"


async def test_concurrent_double_submit_books_one(fresh_database: str) -> None:
    """Two tabs submitting at once (two times, so no slot clash decides it): one booking."""
    engine = create_engine(fresh_database)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        clinic = await make_clinic(session)
        referral = await make_referral(session, clinic=clinic)

    async def submit(at: time) -> str:
        try:
            async with sessions() as session, session.begin():
                await book_from_referral(
                    session, referral_id=referral.id, choice=_choice(clinic, at)
                )
                await asyncio.sleep(0.2)  # hold the transaction open: the other one overlaps
        except AlreadyBooked:
            return "refused"
        return "booked"

    outcomes = await asyncio.gather(submit(time(9)), submit(time(10, 20)))
    async with sessions() as session:
        count = await _appointments(session, referral.patient_id)
        stored = await session.get(Referral, referral.id)
    await engine.dispose()
    assert sorted(outcomes) == ["booked", "refused"]
    assert count == 1
    assert stored is not None and stored.status == "booked"
