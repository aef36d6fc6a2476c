"""Booking a new appointment on a patient's behalf: from their page, service, how (with the
patient's travel for each way), hub (nearest first), day, time, "Check", booked; booked by
the API's own service (audited, the navigator as the booker); a time taken meanwhile or the
patient busy asks for the time again (409); a repeated submit books once, also when both
arrive at once; bad answers ask their question again (422); only navigators and admins."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from scheduling.models import Appointment, Patient
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.navigators import new_booking_pages as booking_pages
from telehealth.patients.journey_flow import parse_slot
from tests.builders import (
    Clinic,
    book_via_service,
    make_clinic,
    make_patient,
    make_user,
    next_weekday,
)
from tests.builders_journey import with_travel
from tests.builders_navpatients import audited, radio_values, signed_in_as
from tests.builders_referrals import make_referral
from tests.telehealth.video.test_clinic_pages import sign_in


def _book(patient: Patient) -> str:
    return f"/staff/patients/{patient.id}/book"


async def _ready(session: AsyncSession) -> tuple[Clinic, Patient]:
    clinic = await make_clinic(session)
    patient = await make_patient(session, nhs_number="9434765919", family_name="Atkinson")
    await with_travel(session, clinic, patient)
    return clinic, patient


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


async def _to_check(
    client: httpx.AsyncClient, patient: Patient, clinic: Clinic, mode: str = "video_site"
) -> dict[str, str]:
    """The answers up to "Check", each question answered with its first choice."""
    answers: dict[str, Any] = {"service": clinic.service.id, "mode": mode}
    if mode == "video_site":
        answers["hub"] = clinic.hub.id
    days = await client.get(_book(patient), params=answers)
    answers["day"] = radio_values(days.text, "day")[0]
    times = await client.get(_book(patient), params=answers)
    answers["slot"] = radio_values(times.text, "slot")[0]
    return {k: str(v) for k, v in answers.items()}


async def _count(session: AsyncSession, patient: Patient) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.patient_id == patient.id)
    )
    return int(found or 0)


async def test_a_navigator_books_video_at_a_hub_from_the_patients_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, patient = await _ready(session)
    user, _ = await signed_in_as(client, session)
    page = await client.get(f"/staff/patients/{patient.id}")
    assert f'href="{_book(patient)}"' in page.text and "Book an appointment" in page.text

    first = await client.get(_book(patient))
    assert first.status_code == 200, first.text
    assert "Which service is the appointment for?" in first.text
    assert str(clinic.service.id) in radio_values(first.text, "service")
    assert f'href="/staff/patients/{patient.id}"' in first.text  # back to the patient

    how = await client.get(_book(patient), params={"service": clinic.service.id})
    assert radio_values(how.text, "mode") == ["video_home", "video_site", "in_person"]
    carried = _hidden(how.text)
    assert (carried["service"], carried["step"]) == (str(clinic.service.id), "mode")
    # The patient's own words: Barrow to the Morecambe hub and to the hospital, one way.
    assert "No travel" in how.text
    hub_travel = re.search(rf"Nearest hub: (\d+) miles to {clinic.hub.name}, about", how.text)
    hospital_travel = re.search(rf"(\d+) miles to {clinic.hospital.name}, about", how.text)
    assert hub_travel and hospital_travel
    assert int(hub_travel.group(1)) < int(hospital_travel.group(1))

    so_far: dict[str, Any] = {"service": clinic.service.id, "mode": "video_site"}
    hub = await client.get(_book(patient), params=so_far)
    assert "Which community hub?" in hub.text
    assert radio_values(hub.text, "hub") == [str(clinic.hub.id)]
    assert f"{hub_travel.group(1)} miles to {clinic.hub.name}, about" in hub.text

    days = await client.get(_book(patient), params={**so_far, "hub": clinic.hub.id})
    offered = radio_values(days.text, "day")
    assert offered and all(date.fromisoformat(d).weekday() == 1 for d in offered)  # Tuesdays only
    times = await client.get(
        _book(patient), params={**so_far, "hub": clinic.hub.id, "day": offered[0]}
    )
    slots = radio_values(times.text, "slot")
    label = date.fromisoformat(offered[0])
    assert f"{label:%A} {label.day} {label:%B}, 9am" in times.text  # read whole

    answers = await _to_check(client, patient, clinic)
    check = await client.get(_book(patient), params=answers)
    assert check.status_code == 200, check.text
    assert "Check the appointment before booking it" in check.text
    assert f"Video call at {clinic.hub.name}" in check.text and clinic.service.name in check.text
    assert f"{hub_travel.group(1)} miles to {clinic.hub.name}" in check.text
    assert html.unescape(check.text).count(f"{_book(patient)}?service=") == 4  # Change links
    form = _hidden(check.text)
    assert form["slot"] == slots[0] and form["token"]

    booked = await client.post(_book(patient), data=form)
    assert booked.status_code == 303, booked.text
    appointment = await session.scalar(
        select(Appointment).where(Appointment.patient_id == patient.id)
    )
    assert appointment is not None
    assert booked.headers["location"] == f"/staff/appointments/{appointment.id}/booked"
    parsed = parse_slot(slots[0])
    assert parsed is not None and appointment.starts_at == parsed[0]
    assert (appointment.mode, appointment.site_id) == ("video_site", clinic.hub.id)
    assert appointment.booked_by_user_id == user.id
    [audit] = await audited(session, user, "appointment.book")
    assert audit.entity_id == appointment.id

    again = await client.post(_book(patient), data=form)  # a refresh, a double click
    assert again.headers["location"] == booked.headers["location"]
    assert await _count(session, patient) == 1

    done = await client.get(booked.headers["location"])
    assert done.status_code == 200 and "Appointment booked" in done.text
    assert f"<strong>{appointment.reference}</strong>" in done.text
    assert re.search(r"\w+day \d{1,2} \w+ \d{4} at 9am", done.text)
    assert f'href="/staff/patients/{patient.id}"' in done.text
    listed = await client.get(f"/staff/patients/{patient.id}")
    assert appointment.reference in listed.text


async def test_in_person_and_from_home_need_no_hub(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, first = await _ready(session)
    _, csrf = await signed_in_as(client, session)
    for patient, mode, site in (
        (first, "video_home", None),
        (await make_patient(session), "in_person", clinic.hospital.id),
    ):
        answers = await _to_check(client, patient, clinic, mode)
        check = await client.get(_book(patient), params=answers)
        assert "hub" not in _hidden(check.text)
        booked = await client.post(_book(patient), data=_hidden(check.text) | {"csrf": csrf})
        assert booked.status_code == 303, booked.text
        made = await session.scalar(select(Appointment).where(Appointment.patient_id == patient.id))
        assert made is not None and (made.mode, made.site_id) == (mode, site)


async def test_a_time_taken_meanwhile_asks_for_the_time_again(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, patient = await _ready(session)
    await signed_in_as(client, session)
    answers = await _to_check(client, patient, clinic, "video_home")
    form = _hidden((await client.get(_book(patient), params=answers)).text)
    parsed = parse_slot(answers["slot"])
    assert parsed is not None
    other = await make_patient(session)
    await book_via_service(session, clinic, parsed[0], patient_id=other.id)

    taken = await client.post(_book(patient), data=form)
    assert taken.status_code == 409, taken.text
    assert taken.text.count("<title>Error: ") == 1 and 'href="#slot"' in taken.text
    assert answers["slot"] not in radio_values(taken.text, "slot")
    assert "That time is no longer free: select another time" in taken.text
    assert await _count(session, patient) == 0

    # Free for the clinician, but the patient is seen elsewhere then: no longer offered, so
    # the form sent anyway asks for the time again without those the patient cannot take.
    free = radio_values(taken.text, "slot")[0]
    parsed = parse_slot(free)
    assert parsed is not None
    elsewhere = await make_clinic(session)
    await book_via_service(session, elsewhere, parsed[0], patient_id=patient.id)
    busy = await client.post(_book(patient), data={**form, "slot": free, "token": "another"})
    assert busy.status_code == 409, busy.text
    assert "That time is no longer free: select another time" in busy.text
    assert free not in radio_values(busy.text, "slot")
    assert await _count(session, patient) == 1  # only the one elsewhere


async def test_bad_answers_ask_their_question_again(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, patient = await _ready(session)
    _, csrf = await signed_in_as(client, session)
    service = clinic.service.id
    monday, tuesday = next_weekday(0).isoformat(), next_weekday(1).isoformat()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"step": "service"}, "service"),
        ({"service": "abc"}, "service"),
        ({"service": 2**31}, "service"),
        ({"service": service, "mode": "telepathy"}, "mode"),
        ({"service": service, "step": "mode"}, "mode"),
        ({"service": service, "mode": "video_site", "hub": clinic.hospital.id}, "hub"),
        # A Monday: the clinic is on Tuesdays, so it has no free time.
        ({"service": service, "mode": "video_home", "day": monday}, "day"),
        ({"service": service, "mode": "video_home", "day": "not a day"}, "day"),
        ({"service": service, "mode": "video_home", "day": tuesday, "slot": "x|1|"}, "slot"),
    ]
    for params, field in cases:
        page = await client.get(_book(patient), params=params)
        assert page.status_code == 422, (params, page.text)
        assert "<title>Error: " in page.text and f'href="#{field}"' in page.text, params
    far = await client.get(_book(patient), params={"service": service, "mode": "video_home"})
    assert 'name="day"' in far.text and "Later days" in far.text
    assert (await client.get("/staff/patients/999999/book")).status_code == 404
    assert (await client.get(f"/staff/patients/{2**31}/book")).status_code == 422
    no_csrf = await client.post(_book(patient), data={"service": str(service)})
    assert no_csrf.status_code in (400, 403)
    no_token = await client.post(_book(patient), data={"csrf": csrf, "service": str(service)})
    assert no_token.status_code == 303 and "token" not in no_token.headers["location"]
    assert await _count(session, patient) == 0


@pytest.mark.parametrize("role", ["clinician", "reception", "analyst"])
async def test_only_navigators_and_admins_book_here(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    _, patient = await _ready(session)
    await signed_in_as(client, session, role)
    page = await client.get(_book(patient))
    assert page.status_code == 403


async def test_the_same_form_submitted_twice_at_once_books_once(
    fresh_database: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(fresh_database)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        clinic, patient = await _ready(session)
        user, _ = await make_user(session, role="navigator")
    real = booking_pages._book

    async def slow(*args: Any) -> int:
        booked = await real(*args)
        await asyncio.sleep(0.2)  # hold the transaction open: the other submit overlaps it
        return booked

    monkeypatch.setattr(booking_pages, "_book", slow)
    app = create_app(settings, sessionmaker=sessions)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await sign_in(client, user.email)
        answers = await _to_check(client, patient, clinic, "video_home")
        form = _hidden((await client.get(_book(patient), params=answers)).text)
        both = await asyncio.gather(*(client.post(_book(patient), data=form) for _ in range(2)))
    assert [r.status_code for r in both] == [303, 303], [r.text for r in both]
    assert both[0].headers["location"] == both[1].headers["location"]
    async with sessions() as session:
        assert await _count(session, patient) == 1
    await engine.dispose()


async def test_a_referral_judging_video_unsuitable_leaves_in_person_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, patient = await _ready(session)
    await signed_in_as(client, session)
    await make_referral(session, clinic=clinic, patient=patient, video_suitable=False)
    params = {"service": clinic.service.id}
    how = await client.get(_book(patient), params=params)
    assert radio_values(how.text, "mode") == ["in_person"]
    video = await client.get(_book(patient), params={**params, "mode": "video_home"})
    assert video.status_code == 422 and 'href="#mode"' in video.text
    other = await make_clinic(session)  # another service: the referral says nothing of it
    how = await client.get(_book(patient), params={"service": other.service.id})
    assert radio_values(how.text, "mode") == ["video_home", "video_site", "in_person"]


async def test_booking_on_behalf_meets_the_patients_open_referral(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # Else the worklist would go on chasing it and its invitation could book a second time.
    clinic, patient = await _ready(session)
    await signed_in_as(client, session)
    older = await make_referral(session, clinic=clinic, patient=patient)
    newer = await make_referral(session, clinic=clinic, patient=patient)
    elsewhere = await make_referral(session, patient=patient)  # another service's
    await session.commit()
    form = _hidden(
        (await client.get(_book(patient), params=await _to_check(client, patient, clinic))).text
    )
    booked = await client.post(_book(patient), data=form)
    assert booked.status_code == 303, booked.text
    appointment = await session.scalar(
        select(Appointment).where(Appointment.patient_id == patient.id)
    )
    assert appointment is not None
    for referral in (older, newer, elsewhere):
        await session.refresh(referral)
    assert (older.status, older.appointment_id) == ("booked", appointment.id)
    assert (newer.status, newer.appointment_id) == ("open", None)
    assert (elsewhere.status, elsewhere.appointment_id) == ("open", None)
