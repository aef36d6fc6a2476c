"""The loaders behind slot expansion: the booking check's one-day loader must offer exactly
what the slot search offers, bookings aside."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import slots
from scheduling.models import Leave
from scheduling.slot_inputs import (
    CLINIC_DAY,
    clinic_day_from,
    clinic_day_params,
    load_availability,
    service_rules,
)
from tests.builders import make_clinic, make_session, next_weekday


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
