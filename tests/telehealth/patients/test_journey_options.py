"""The times a patient is offered in their own journeys are times they can take: their booking
journey and their change journey leave out the times their other appointments overlap, and a
change keeps the appointment's own time on offer (both databases)."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.slots import to_london
from telehealth.kernel.config import Settings
from tests.builders import make_clinic, make_patient, tuesday_at
from tests.builders_journey import booking_path
from tests.builders_manage import make_managed, manage_path
from tests.builders_referrals import make_referral
from tests.scheduling.test_slot_inputs import add_clinician
from tests.telehealth.navigators.test_free_times import FREE, OVERLAPPED, busy_elsewhere, starts
from tests.telehealth.patients.test_booking_pages import location, radio_values

DAY = to_london(tuesday_at(9)).date().isoformat()


async def _times(client: httpx.AsyncClient, path: str) -> set[datetime]:
    assert location(await client.post(path + "/day", data={"day": DAY})) == path + "/time"
    page = await client.get(path + "/time")
    assert page.status_code == 200, page.text
    return starts(radio_values(page, "slot"))


async def test_the_booking_journey_offers_only_times_the_patient_can_take(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic = await make_clinic(session)
    await add_clinician(session, clinic)
    patient = await make_patient(session)
    await make_managed(session, clinic, start=tuesday_at(9), patient=patient)
    await busy_elsewhere(session, patient, tuesday_at(10))
    referral = await make_referral(session, clinic=clinic, patient=patient)
    path = booking_path(settings, referral)
    assert location(await client.post(path + "/how", data={"mode": "video_home"})) == path + "/day"
    offered = await _times(client, path)
    # 9:00 is free with the second clinician, but the patient is booked then.
    assert not offered & (OVERLAPPED | {tuesday_at(9)}) and offered >= FREE
    # A time posted anyway (a page left open) is asked for again.
    value = f"{tuesday_at(10).isoformat()}|{clinic.clinician.id}|"
    refused = await client.post(path + "/time", data={"slot": value})
    assert refused.status_code == 422 and "That time is no longer free" in refused.text


async def test_the_change_journey_offers_only_times_the_patient_can_take(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic = await make_clinic(session)
    await add_clinician(session, clinic)
    patient = await make_patient(session)
    appointment = await make_managed(session, clinic, start=tuesday_at(9), patient=patient)
    await busy_elsewhere(session, patient, tuesday_at(10))
    path = manage_path(settings, appointment.id) + "/change"
    assert location(await client.post(path, data={"change": "time"})) == path + "/day"
    offered = await _times(client, path)
    assert not offered & OVERLAPPED and offered >= FREE
    assert tuesday_at(9) in offered  # its own time, with the other clinician
