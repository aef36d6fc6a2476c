"""The loaders behind slot expansion: the booking check's one-day loader must offer exactly
what the slot search offers, bookings aside; a patient's other appointments take out exactly
the times the database would refuse them."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import booking, slots
from scheduling.models import Leave, Mode
from scheduling.placement import place
from scheduling.slot_inputs import (
    CLINIC_DAY,
    ForPatient,
    clinic_day_from,
    clinic_day_params,
    load_availability,
    patient_busy,
    service_rules,
)
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import PatientUnavailable
from tests.builders import (
    Clinic,
    book_via_service,
    make_appointment,
    make_clinic,
    make_clinician,
    make_patient,
    make_session,
    next_weekday,
    tuesday_at,
)


async def load_clinic_day(
    session: AsyncSession, *, service_id: int, clinician_id: int, day: date
) -> slots.Availability:
    """The booking check's clinic day on its own, without the booking path's other look-ups:
    the oracle the joined fetch is checked against."""
    params = clinic_day_params(service_id=service_id, clinician_id=clinician_id, day=day)
    rows = (await session.execute(select(CLINIC_DAY), params)).all()
    return await clinic_day_from(
        session, rows, service_id=service_id, clinician_id=clinician_id, day=day
    )


def _offered(
    availability: slots.Availability, clinic_day: date, rules: slots.ServiceRules
) -> list[slots.Slot]:
    return slots.expand_slots(
        availability,
        rules,
        start_date=clinic_day,
        end_date=clinic_day,
        now=slots.london_datetime(clinic_day - timedelta(days=1), time(0)),
    )


async def test_one_clinic_day_matches_the_search_for_that_day(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    tuesday = next_weekday(1)
    # An afternoon session too, so each leave period meets two session rows in the join.
    await make_session(
        session,
        clinician=clinic.clinician,
        services=[clinic.service],
        weekday=1,
        start=time(13),
        end=time(16),
        valid_from=date.today(),
        site=clinic.hospital,
        hubs=[clinic.hub],
    )
    for start, end in ((time(10), time(11)), (time(14), time(14, 30)), (time(8), time(8, 10))):
        session.add(
            Leave(
                clinician_id=clinic.clinician.id,
                starts_at=slots.london_datetime(tuesday, start),
                ends_at=slots.london_datetime(tuesday, end),
                reason="Part-day leave",
            )
        )
    # Leave on another day must not reach this one.
    session.add(
        Leave(
            clinician_id=clinic.clinician.id,
            starts_at=slots.london_datetime(tuesday + timedelta(days=7), time(9)),
            ends_at=slots.london_datetime(tuesday + timedelta(days=7), time(17)),
            reason="Annual leave",
        )
    )
    await session.flush()
    rules = service_rules(clinic.service)

    day = await load_clinic_day(
        session, service_id=clinic.service.id, clinician_id=clinic.clinician.id, day=tuesday
    )
    searched = await load_availability(
        session,
        service_id=clinic.service.id,
        start_date=tuesday,
        end_date=tuesday,
        clinician_id=clinic.clinician.id,
    )

    assert len(day.sessions) == 2
    assert len(day.leave[clinic.clinician.id]) == 3  # once each, not once per session row
    offered = _offered(day, tuesday, rules)
    assert offered == _offered(searched, tuesday, rules)
    starts = {slots.to_london(s.start).time() for s in offered}
    assert time(9, 40) in starts and time(10) not in starts and time(10, 40) not in starts
    assert time(11) in starts and time(14) not in starts and time(14, 40) in starts
    assert {s.mode for s in offered} == {"video_home", "video_site", "in_person"}


async def test_a_day_without_the_clinicians_session_offers_nothing(
    session: AsyncSession,
) -> None:
    clinic = await make_clinic(session)
    wednesday = next_weekday(2)
    day = await load_clinic_day(
        session, service_id=clinic.service.id, clinician_id=clinic.clinician.id, day=wednesday
    )
    assert day.sessions == [] and day.leave == {clinic.clinician.id: []}
    assert _offered(day, wednesday, service_rules(clinic.service)) == []


async def add_clinician(session: AsyncSession, clinic: Clinic) -> int:
    """A second clinician with the clinic's Tuesday session: a patient's own time can then be
    free in the clinic, with someone else."""
    other = await make_clinician(session, organisation=clinic.organisation)
    await make_session(
        session,
        clinician=other,
        services=[clinic.service],
        weekday=1,
        valid_from=date.today() - timedelta(days=1),
        site=clinic.hospital,
        hubs=[clinic.hub],
    )
    return other.id


async def test_a_patients_busy_times_are_what_the_database_refuses_them(
    session: AsyncSession,
) -> None:
    clinic = await make_clinic(session)  # 20 minutes, no buffer, Tuesdays 9 to 12
    second = await add_clinician(session, clinic)
    patient = await make_patient(session)
    held = await book_via_service(session, clinic, tuesday_at(9), patient_id=patient.id)
    # Elsewhere, 10:00 to 10:30 with a 10-minute buffer: the buffer is that clinician's, and
    # the database (ex_appointments_patient_busy) holds the patient only to 10:30.
    elsewhere = await make_clinic(session, length=30, buffer=10)
    await book_via_service(session, elsewhere, tuesday_at(10), patient_id=patient.id)
    await make_appointment(
        session, elsewhere, start=tuesday_at(11), patient=patient, status="cancelled"
    )
    local_day = slots.to_london(tuesday_at(9)).date()
    rules = service_rules(clinic.service)
    everyone = slots.expand_slots(
        await load_availability(
            session, service_id=clinic.service.id, start_date=local_day, end_date=local_day
        ),
        rules,
        start_date=local_day,
        end_date=local_day,
        now=utcnow(),
        mode=Mode.VIDEO_HOME,
    )
    busy = await patient_busy(session, ForPatient(patient.id), local_day, local_day)
    assert sorted(busy) == [
        slots.Interval(tuesday_at(9), tuesday_at(9, 20)),
        slots.Interval(tuesday_at(10), tuesday_at(10, 30)),
    ]
    theirs = slots.clear_of(everyone, busy)
    assert {s.start for s in everyone} - {s.start for s in theirs} == {
        tuesday_at(9),
        tuesday_at(10),
        tuesday_at(10, 20),
    }
    assert any(s.start == tuesday_at(9) and s.clinician_id == second for s in everyone)
    assert any(s.start == tuesday_at(10, 40) for s in theirs)
    for s in everyone:
        nested = await session.begin_nested()
        try:
            placement = await place(
                session,
                service_id=clinic.service.id,
                clinician_id=s.clinician_id,
                mode=s.mode,
                site_id=None,
                start=s.start,
            )
            await booking.book(session, placement=placement, patient_id=patient.id, booked_by=None)
            refused = False
        except PatientUnavailable:
            refused = True
        finally:
            if nested.is_active:
                await nested.rollback()
        assert refused == (s not in theirs), s
    # Moving the 9:00 appointment: it is not in its own way.
    moving = await patient_busy(session, ForPatient(patient.id, held.id), local_day, local_day)
    assert moving == [slots.Interval(tuesday_at(10), tuesday_at(10, 30))]
