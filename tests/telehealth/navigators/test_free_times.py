"""The times a navigator is offered for a patient are times the patient can take: none their
other active appointments overlap (the database refuses those), on the move page, the booking
page and the to-rebook page; the move page lists its hubs nearest first (both databases)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Patient, SessionHub
from scheduling.slots import to_london
from telehealth.navigators.appointment_pages import MOVE_HEADING, PATIENT_BUSY
from tests.builders import make_appointment, make_clinic, make_site, tuesday_at
from tests.builders_journey import HOSPITAL, with_travel
from tests.builders_navpatients import Booked, make_booked, make_leave, radio_values, signed_in_as
from tests.scheduling.test_slot_inputs import add_clinician
from tests.telehealth.navigators.test_rebook_pages import _buttons


def starts(values: list[str]) -> set[datetime]:
    """The start of each time offered (a radio value is "start|clinician|site")."""
    return {datetime.fromisoformat(v.split("|")[0]) for v in values}


async def busy_elsewhere(session: AsyncSession, patient: Patient, start: datetime) -> Appointment:
    """The patient's appointment in another clinic: 30 minutes, and a 10-minute buffer that
    holds its clinician, not the patient."""
    elsewhere = await make_clinic(session, length=30, buffer=10)
    row = await make_appointment(session, elsewhere, start=start, patient=patient)
    row.busy_until = row.ends_at + timedelta(minutes=10)
    await session.flush()
    return row


async def _two_appointments(session: AsyncSession) -> Booked:
    """A patient at 9:00 (20 minutes) with a clinic of two clinicians, and at 10:00 to 10:30
    in another clinic the same morning."""
    booked = await make_booked(session)  # 9:00, with the clinic's first clinician
    await add_clinician(session, booked.clinic)
    await busy_elsewhere(session, booked.patient, tuesday_at(10))
    return booked


# On the clinic's 20-minute grid: 10:00 and 10:20 overlap 10:00-10:30; 9:40 ends as it
# starts, and 10:40 is free for the patient though the other clinician's buffer runs to it.
OVERLAPPED = {tuesday_at(10), tuesday_at(10, 20)}
FREE = {tuesday_at(9, 20), tuesday_at(9, 40), tuesday_at(10, 40)}


async def test_the_move_page_offers_only_times_the_patient_can_take(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await _two_appointments(session)
    a = booked.appointment
    _, csrf = await signed_in_as(client, session)
    day = to_london(a.starts_at).date().isoformat()
    path = f"/staff/appointments/{a.id}/move"
    page = await client.get(path, params={"how": "video_home", "day": day})
    assert page.status_code == 200, page.text
    offered = starts(radio_values(page.text, "slot"))
    assert not offered & OVERLAPPED and offered >= FREE
    # Its own time, with the other clinician: the appointment is not in its own way.
    assert tuesday_at(9) in offered
    [later] = [
        v for v in radio_values(page.text, "slot") if v.startswith(tuesday_at(10, 40).isoformat())
    ]
    moved = await client.post(
        f"{path}/confirm", data={"csrf": csrf, "how": "video_home", "day": day, "slot": later}
    )
    assert moved.status_code == 303, moved.text
    await session.refresh(a)
    assert a.starts_at == tuesday_at(10, 40)


async def test_a_move_refused_as_the_patient_is_busy_lists_the_times_without_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    a = booked.appointment
    _, csrf = await signed_in_as(client, session)
    day = to_london(a.starts_at).date().isoformat()
    path = f"/staff/appointments/{a.id}/move"
    page = await client.get(path, params={"how": "video_home", "day": day})
    [wanted] = [
        v for v in radio_values(page.text, "slot") if v.startswith(tuesday_at(10).isoformat())
    ]
    # Booked elsewhere while the page was open: the database refuses the move.
    await busy_elsewhere(session, booked.patient, tuesday_at(10))
    refused = await client.post(
        f"{path}/confirm", data={"csrf": csrf, "how": "video_home", "day": day, "slot": wanted}
    )
    assert refused.status_code == 409, refused.text
    assert PATIENT_BUSY in refused.text
    left = starts(radio_values(refused.text, "slot"))
    assert left and not left & OVERLAPPED
    await session.refresh(a)
    assert a.starts_at == tuesday_at(9)


async def test_the_booking_page_offers_only_times_the_patient_can_take(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await _two_appointments(session)
    await signed_in_as(client, session)
    day = to_london(tuesday_at(9)).date().isoformat()
    page = await client.get(
        f"/staff/patients/{booked.patient.id}/book",
        params={"service": booked.clinic.service.id, "mode": "video_home", "day": day},
    )
    assert page.status_code == 200, page.text
    offered = starts(radio_values(page.text, "slot"))
    # 9:00 is free with the second clinician, but the patient is booked then.
    assert not offered & (OVERLAPPED | {tuesday_at(9)}) and offered >= FREE


async def test_the_to_rebook_page_offers_only_times_the_patient_can_take(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    await make_leave(session, booked.clinic, tuesday_at(9), hours=3)
    await signed_in_as(client, session)
    before = [
        datetime.fromisoformat(f["slot"].split("|")[0])
        for _, f, _ in _buttons((await client.get("/staff/to-rebook")).text)
    ]
    assert len(before) == 3
    # The patient takes the first two of those elsewhere (30 minutes over a 20-minute grid).
    await busy_elsewhere(session, booked.patient, before[0])
    after = [
        datetime.fromisoformat(f["slot"].split("|")[0])
        for _, f, _ in _buttons((await client.get("/staff/to-rebook")).text)
    ]
    assert len(after) == 3 and after[0] == before[2]
    assert not set(after) & set(before[:2])


async def test_the_move_page_lists_hubs_nearest_first_under_a_heading_for_its_step(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    clinic = booked.clinic
    await with_travel(session, clinic, booked.patient)
    clinic.hub.name = "Ulverston hub"  # near the patient's Barrow home
    far = await make_site(
        session,
        organisation=clinic.organisation,
        kind="community_hub",
        name="Lancaster hub",  # first by name, but round the Bay
        postcode=HOSPITAL[0],
        rooms=1,
    )
    session.add(SessionHub(session_id=clinic.session.id, site_id=far.id))
    await session.flush()
    await signed_in_as(client, session)
    page = await client.get(f"/staff/appointments/{booked.appointment.id}/move")
    assert page.status_code == 200, page.text
    assert radio_values(page.text, "how") == [
        "video_home",
        f"video_site:{clinic.hub.id}",
        f"video_site:{far.id}",
        f"in_person:{clinic.hospital.id}",
    ]
    heading = re.search(r"<h1[^>]*>\s*(.*?)\s*</h1>", page.text)
    assert heading is not None and heading.group(1) == MOVE_HEADING
    assert "How will they be seen?" in page.text and "Which day?" in page.text
