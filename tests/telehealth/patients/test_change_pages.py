"""Changing an appointment from its manage link: the same questions, shorter, within the
service's rules (both databases)."""

from __future__ import annotations

from datetime import time

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment
from scheduling.referral_booking import Choice, book_from_referral
from scheduling.referral_models import Referral
from scheduling.slots import london_datetime
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.config import Settings
from telehealth.patients.journey_flow import parse_slot
from tests.builders import Clinic, make_clinic, make_patient, next_weekday
from tests.builders_journey import with_travel
from tests.builders_manage import manage_path
from tests.builders_referrals import make_referral
from tests.telehealth.patients.test_booking_pages import location, radio_values


async def _booked(session: AsyncSession, *, mode: str = "video_home") -> tuple[Clinic, Appointment]:
    """An appointment booked from a referral, on the clinic's first free time."""
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    await with_travel(session, clinic, patient)
    referral = await make_referral(session, clinic=clinic, patient=patient)
    start = london_datetime(next_weekday(1, weeks=2), time(9))
    site = {"video_home": None, "video_site": clinic.hub.id, "in_person": clinic.hospital.id}
    row = await book_from_referral(
        session,
        referral_id=referral.id,
        choice=Choice(clinic.clinician.id, mode, site[mode], start),
    )
    appointment = await session.get(Appointment, row.id)
    assert appointment is not None
    return clinic, appointment


async def test_change_the_time_only(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, appointment = await _booked(session, mode="video_site")
    path = manage_path(settings, appointment.id) + "/change"
    what = await client.get(path)
    assert what.status_code == 200 and "What would you like to change?" in what.text
    assert radio_values(what, "change") == ["time", "how"]
    assert location(await client.post(path, data={"change": "time"})) == path + "/day"
    days = radio_values(await client.get(path + "/day"), "day")
    assert location(await client.post(path + "/day", data={"day": days[-1]})) == path + "/time"
    slot = radio_values(await client.get(path + "/time"), "slot")[-1]
    assert location(await client.post(path + "/time", data={"slot": slot})) == path + "/check"
    check = await client.get(path + "/check")
    assert "Check your answers before changing your appointment" in check.text
    assert clinic.hub.name in check.text and f'href="{path}/time"' in check.text
    before = appointment.sequence
    assert location(await client.post(path + "/check")) == path + "/done"
    await session.refresh(appointment)
    parsed = parse_slot(slot)
    assert parsed is not None and appointment.starts_at == parsed[0]
    assert appointment.mode == "video_site" and appointment.site_id == clinic.hub.id
    assert appointment.sequence == before + 1
    done = await client.get(path + "/done")
    assert "Appointment changed" in done.text and appointment.reference in done.text
    actions = set(
        await session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.entity_type == "appointment", AuditEvent.entity_id == appointment.id
            )
        )
    )
    assert "patient.self.reschedule" in actions


async def test_change_how_to_be_seen(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, appointment = await _booked(session)
    path = manage_path(settings, appointment.id) + "/change"
    assert location(await client.post(path, data={"change": "how"})) == path + "/how"
    assert location(await client.post(path + "/how", data={"mode": "in_person"})) == path + "/day"
    days = radio_values(await client.get(path + "/day"), "day")
    await client.post(path + "/day", data={"day": days[0]})
    slot = radio_values(await client.get(path + "/time"), "slot")[0]
    await client.post(path + "/time", data={"slot": slot})
    assert location(await client.post(path + "/check")) == path + "/done"
    await session.refresh(appointment)
    assert (appointment.mode, appointment.site_id) == ("in_person", clinic.hospital.id)


async def test_inside_the_notice_period_says_whom_to_phone(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, appointment = await _booked(session)
    clinic.service.change_notice_minutes = 60 * 24 * 30  # longer than the appointment is away
    clinic.service.phone = "01229 870870"
    await session.flush()
    path = manage_path(settings, appointment.id) + "/change"
    for page in (await client.get(path), await client.get(path + "/day")):
        assert page.status_code == 409
        assert "You cannot change this appointment online" in page.text
        assert "01229 870870" in page.text and "30 days" in page.text
    refused = await client.post(path + "/check")
    assert refused.status_code == 409
    before = appointment.starts_at
    await session.refresh(appointment)
    assert appointment.starts_at == before


async def test_a_time_taken_meanwhile_goes_back_to_the_times(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, appointment = await _booked(session)
    path = manage_path(settings, appointment.id) + "/change"
    await client.post(path, data={"change": "time"})
    days = radio_values(await client.get(path + "/day"), "day")
    await client.post(path + "/day", data={"day": days[0]})
    slot = radio_values(await client.get(path + "/time"), "slot")[0]
    await client.post(path + "/time", data={"slot": slot})
    parsed = parse_slot(slot)
    assert parsed is not None
    other = await make_referral(session, clinic=clinic)
    await book_from_referral(
        session,
        referral_id=other.id,
        choice=Choice(clinic.clinician.id, "video_home", None, parsed[0]),
    )
    assert location(await client.post(path + "/check")) == path + "/time"
    times = await client.get(path + "/time")
    assert times.status_code == 409 and "has just been booked by someone else" in times.text
    before = appointment.starts_at
    await session.refresh(appointment)
    assert appointment.starts_at == before


async def test_bad_and_cancelled(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    _, appointment = await _booked(session)
    path = manage_path(settings, appointment.id) + "/change"
    assert (await client.get("/manage/nonsense/change")).status_code == 404
    appointment.status = "cancelled"
    await session.flush()
    page = await client.get(path)
    assert page.status_code == 409 and "can no longer be changed" in page.text
    referral = await session.scalar(
        select(Referral).where(Referral.appointment_id == appointment.id)
    )
    assert referral is not None  # the booking link now leads here, not to a new booking
