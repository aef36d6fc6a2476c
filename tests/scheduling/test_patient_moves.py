"""A patient who moves: their appointments still to come are queued for the travel worker in
the change's own transaction, and recomputed from the new home; those already seen keep the
home they were seen from (both databases)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduling import patients
from scheduling.models import Appointment, AppointmentChange, Patient
from telehealth.kernel.db import utcnow
from telehealth.travel import records
from telehealth.travel.models import AppointmentTravel, TravelQueue
from tests.builders import make_appointment, make_clinic, make_patient, make_user, tuesday_at
from tests.builders_navpatients import signed_in_as
from tests.telehealth.navigators.test_patient_pages import _edit_form

MORECAMBE, BARROW = "LA4 5RJ", "LA14 1HA"


@dataclass
class Moving:
    patient: Patient
    seen: Appointment  # attended last week
    coming: Appointment  # booked, in two weeks
    cancelled: Appointment  # was to come, cancelled
    others: Appointment  # someone else's, still to come


async def _moving(session: AsyncSession) -> Moving:
    """A Morecambe patient's appointments with their records computed and none queued."""
    c = await make_clinic(session)
    patient = await make_patient(session)
    assert patient.postcode == MORECAMBE
    last_week = utcnow() - timedelta(days=7)
    made = Moving(
        patient,
        await make_appointment(session, c, start=last_week, patient=patient, status="fulfilled"),
        await make_appointment(session, c, start=tuesday_at(9), patient=patient),
        await make_appointment(
            session, c, start=tuesday_at(10), patient=patient, status="cancelled"
        ),
        await make_appointment(session, c, start=tuesday_at(11)),
    )
    for a in (made.seen, made.coming, made.cancelled, made.others):
        await records.compute(session, a.id)
    await session.execute(delete(TravelQueue))
    return made


async def _queued(session: AsyncSession) -> set[int]:
    return set(await session.scalars(select(TravelQueue.appointment_id)))


async def _home(session: AsyncSession, appointment: Appointment) -> str | None:
    row = await session.get(AppointmentTravel, appointment.id, populate_existing=True)
    assert row is not None
    return row.home_icc


async def _changes(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AppointmentChange)) or 0)


async def test_a_new_postcode_queues_only_the_appointments_still_to_come(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    m = await _moving(session)
    assert await _home(session, m.coming) == "Morecambe"
    changes, stamped = await _changes(session), m.coming.updated_at
    await patients.update_patient(
        session, m.patient.id, {"postcode": "la14 1ha"}, actor_user_id=None
    )
    await session.flush()
    assert await _queued(session) == {m.coming.id}
    # Nothing the patient must hear of: no message queued, the appointment itself unchanged.
    assert await _changes(session) == changes
    await session.refresh(m.coming)
    assert m.coming.updated_at == stamped
    await session.commit()  # a savepoint: the test's outer transaction still rolls back
    assert await records.refresh(sessionmaker) == 1
    assert await _home(session, m.coming) == "Barrow"
    assert await _home(session, m.seen) == "Morecambe", "seen from the old home"
    assert await _home(session, m.cancelled) == "Morecambe"
    assert await _queued(session) == set()


async def test_other_changes_queue_nothing(session: AsyncSession) -> None:
    m = await _moving(session)
    await patients.update_patient(
        session, m.patient.id, {"email": "new@example.com", "postcode": MORECAMBE},
        actor_user_id=None,
    )  # fmt: skip
    await session.flush()
    assert await _queued(session) == set()


async def test_a_postcode_changed_through_the_api_queues_them_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    m = await _moving(session)
    _, headers = await make_user(session, role="navigator")
    await session.commit()
    moved = await client.patch(
        f"/api/v1/patients/{m.patient.id}", json={"postcode": BARROW}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    assert await _queued(session) == {m.coming.id}


async def test_a_postcode_changed_on_the_navigator_s_edit_page_queues_them_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    m = await _moving(session)
    _, csrf = await signed_in_as(client, session)
    form = _edit_form(csrf, postcode=BARROW)
    saved = await client.post(f"/staff/patients/{m.patient.id}/edit", data=form)
    assert saved.status_code == 303, saved.text
    assert await _queued(session) == {m.coming.id}
