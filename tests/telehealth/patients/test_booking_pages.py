"""The patient's booking journey from the invitation's link, page by page, as a browser
without JavaScript sees it (both databases)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Leave, Patient
from scheduling.referral_booking import Choice, book_from_referral
from scheduling.referral_models import Referral
from scheduling.slots import local_day_bounds
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.config import Settings
from telehealth.messaging.patient_links import read_manage_token
from telehealth.patients.journey_flow import parse_slot
from tests.builders import Clinic, make_clinic, make_patient, make_user, next_weekday
from tests.builders_journey import add_thursdays, booking_path, with_travel
from tests.builders_referrals import make_referral


def radio_values(page: httpx.Response, name: str) -> list[str]:
    return re.findall(rf'name="{name}" type="radio" value="([^"]+)"', page.text)


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:2000])
    return response.headers["location"]


async def _ready(session: AsyncSession) -> tuple[Clinic, Referral, Patient]:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    await with_travel(session, clinic, patient)
    clinic.hub.directions = "Use the side entrance & ask at reception"
    referral = await make_referral(session, clinic=clinic, patient=patient)
    return clinic, referral, patient


async def _to_check(
    client: httpx.AsyncClient, path: str, clinic: Clinic, *, mode: str = "video_site"
) -> str:
    """Answer every question up to "Check your answers"; the chosen slot's form value."""
    assert location(await client.post(path + "/how", data={"mode": mode})) == path + (
        "/hub" if mode == "video_site" else "/day"
    )
    if mode == "video_site":
        hub = await client.post(path + "/hub", data={"site_id": str(clinic.hub.id)})
        assert location(hub) == path + "/day"
    days = radio_values(await client.get(path + "/day"), "day")
    assert location(await client.post(path + "/day", data={"day": days[0]})) == path + "/time"
    slot = radio_values(await client.get(path + "/time"), "slot")[0]
    assert location(await client.post(path + "/time", data={"slot": slot})) == path + "/details"
    details = await client.get(path + "/details")
    email = re.search(r'id="email" name="email" type="email"[^>]*value="([^"]*)"', details.text)
    assert email is not None and email.group(1).startswith("patient")
    sent = await client.post(
        path + "/details",
        data={
            "email": email.group(1),
            "mobile": "07700 900982",
            "contact_preference": "both",
            "interpreter_language": "Polish",
            "accessible_information": "",
            "companion": "yes",
        },
    )
    assert location(sent) == path + "/check"
    return slot


async def _count(session: AsyncSession, patient_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.patient_id == patient_id)
    )
    return int(found or 0)


async def test_the_whole_journey_books_video_at_a_hub(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, referral, patient = await _ready(session)
    path = booking_path(settings, referral)
    start = await client.get(path)
    assert start.status_code == 200
    assert f"<h1>Book your {clinic.service.name} appointment</h1>" in start.text
    assert "Start now" in start.text and f'href="{path}/how"' in start.text
    assert "20 minutes" in start.text and "I cannot book online" in start.text

    how = await client.get(path + "/how")
    assert "<title>How would you like to be seen? \u2013 Bay Telehealth" in how.text
    assert radio_values(how, "mode") == ["video_home", "video_site", "in_person"]
    assert "No travel" in how.text
    # Barrow to the Ulverston hub and to the hospital in Lancaster (round the Bay: the
    # published road is about 50 miles), one way.
    hub_travel = re.search(rf"Nearest hub: (\d+) miles to {clinic.hub.name}, about", how.text)
    hospital_travel = re.search(rf"(\d+) miles to {clinic.hospital.name}, about", how.text)
    assert hub_travel and hospital_travel
    hub_miles, hospital_miles = int(hub_travel.group(1)), int(hospital_travel.group(1))
    assert 45 <= hospital_miles <= 55 and hub_miles < 15

    slot = await _to_check(client, path, clinic)
    hub_page = await client.get(path + "/hub")
    assert clinic.hub.name in hub_page.text and "checked" in hub_page.text  # the answer kept

    check = await client.get(path + "/check")
    assert check.status_code == 200
    assert "Check your answers before booking your appointment" in check.text
    for step in ("how", "hub", "day", "time", "details"):
        assert f'href="{path}/{step}"' in check.text
    assert "Video call at a community hub near you" in check.text and "Polish" in check.text

    booked = await client.post(path + "/check")
    assert location(booked) == path + "/booked"
    confirmation = await client.get(path + "/booked")
    assert confirmation.status_code == 200
    appointment = await session.scalar(
        select(Appointment).where(Appointment.patient_id == patient.id)
    )
    assert appointment is not None and appointment.mode == "video_site"
    parsed = parse_slot(slot)
    assert parsed is not None and appointment.starts_at == parsed[0]
    assert "Appointment booked" in confirmation.text and "nhsuk-panel" in confirmation.text
    assert f"<strong>{appointment.reference}</strong>" in confirmation.text  # markup, not text
    assert "Getting there" in confirmation.text
    assert "Use the side entrance &amp; ask at reception" in confirmation.text
    when = confirmation.text
    assert re.search(r"\w+day \d{1,2} \w+ \d{4} at \d{1,2}(:\d\d)?(am|pm)", when)
    assert clinic.hub.name in when and "Add to calendar" in when and "/invite/" in when
    assert "Manage your appointment" in when and 'href="/manage/' in when
    await session.refresh(patient)
    assert (patient.mobile, patient.contact_preference) == ("+447700900982", "both")
    assert (patient.interpreter_language, patient.companion) == ("Polish", True)
    await session.refresh(referral)
    assert (referral.status, referral.appointment_id) == ("booked", appointment.id)
    viewed = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "patient.self.view", AuditEvent.actor_user_id.is_(None))
    )
    assert viewed and viewed >= 2
    booked_by = await session.scalar(
        select(AuditEvent.detail).where(
            AuditEvent.action == "patient.self.book", AuditEvent.actor_user_id.is_(None)
        )
    )
    assert booked_by == {"patient_id": patient.id, "link": "booking"}

    # A refresh of the POST, or a second tab's submit: the confirmation, no second booking.
    again = await client.post(path + "/check")
    assert location(again) == path + "/booked"
    assert await _count(session, patient.id) == 1
    # The spent link now leads to the appointment's manage page.
    spent = location(await client.get(path))
    claim = read_manage_token(settings, spent.removeprefix("/manage/"))
    assert claim is not None and claim.id == appointment.id
    assert location(await client.get(path + "/how")).startswith("/manage/")


async def test_only_days_with_free_time_are_offered(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, referral, _ = await _ready(session)
    await add_thursdays(session, clinic)
    on_leave = next_weekday(1, weeks=1)  # a Tuesday 7 to 13 days ahead: on screen
    bounds = local_day_bounds(on_leave)
    session.add(Leave(clinician_id=clinic.clinician.id, starts_at=bounds.start, ends_at=bounds.end))
    await session.flush()
    path = booking_path(settings, referral)
    await client.post(path + "/how", data={"mode": "video_home"})
    page = await client.get(path + "/day")
    days = [date.fromisoformat(d) for d in radio_values(page, "day")]
    assert days and {d.weekday() for d in days} <= {1, 3}
    assert 3 in {d.weekday() for d in days}
    assert on_leave not in days
    assert all(d < date.today() + timedelta(weeks=3) for d in days)
    assert "Which day would you like?" in page.text
    # Real links to the weeks after (and, from there, back).
    later = re.search(rf'href="({re.escape(path)}/day\?from=[0-9-]+)"', page.text)
    assert later is not None
    after = await client.get(later.group(1))
    later_days = [date.fromisoformat(d) for d in radio_values(after, "day")]
    assert later_days and min(later_days) > max(days)
    assert f'href="{path}/day?from=' in after.text
    # A day with no free time, posted anyway, is refused with the page's own error.
    refused = await client.post(path + "/day", data={"day": on_leave.isoformat()})
    assert refused.status_code == 422 and "Error: Which day" in refused.text
    assert 'href="#day"' in refused.text


async def test_a_time_taken_meanwhile_goes_back_to_the_times(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, referral, patient = await _ready(session)
    path = booking_path(settings, referral)
    slot = await _to_check(client, path, clinic, mode="video_home")
    parsed = parse_slot(slot)
    assert parsed is not None
    # Someone else books that very time before the patient confirms.
    other = await make_referral(session, clinic=clinic)
    await book_from_referral(
        session,
        referral_id=other.id,
        choice=Choice(clinic.clinician.id, "video_home", None, parsed[0]),
    )
    refused = await client.post(path + "/check")
    assert location(refused) == path + "/time"
    times = await client.get(path + "/time")
    assert times.status_code == 409
    assert "has just been booked by someone else" in times.text
    assert slot not in radio_values(times, "slot")
    assert await _count(session, patient.id) == 0
    # The other answers are kept: choose another time and the check page is next.
    another = radio_values(times, "slot")[0]
    assert location(await client.post(path + "/time", data={"slot": another})) == path + "/check"
    assert location(await client.post(path + "/check")) == path + "/booked"
    assert await _count(session, patient.id) == 1


async def test_bad_expired_and_closed_links(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, referral, _ = await _ready(session)
    clinic.service.phone = "01524 65944"
    await session.flush()
    good = booking_path(settings, referral)
    for bad in ("/book/nonsense", good[:-4] + "abcd", good + "/how"[:0] + "x"):
        page = await client.get(bad)
        assert page.status_code == 404 and "This link does not work" in page.text
    expired = booking_path(settings, referral, issued_on=date.today() - timedelta(days=29))
    page = await client.get(expired)
    assert page.status_code == 410 and "This link has expired" in page.text
    assert "01524 65944" in page.text
    referral.status = "closed"
    await session.flush()
    page = await client.get(good + "/how")
    assert page.status_code == 410 and "This referral has been closed" in page.text


async def test_a_referral_closed_mid_journey_books_nothing_and_says_whom_to_phone(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, referral, patient = await _ready(session)
    clinic.service.phone = "01524 65944"
    path = booking_path(settings, referral)
    await _to_check(client, path, clinic)
    _, headers = await make_user(session, role="navigator")
    closed = await client.post(
        f"/api/v1/referrals/{referral.id}/close", json={"reason": "Seen at A&E"}, headers=headers
    )
    assert closed.status_code == 200
    for page in (await client.post(path + "/check"), await client.get(path)):
        assert page.status_code == 410 and "This referral has been closed" in page.text
        assert clinic.service.name.lower() in page.text.lower() and "01524 65944" in page.text
    assert await _count(session, patient.id) == 0
    # Closed is the reason even when the link is old too.
    old = booking_path(settings, referral, issued_on=date.today() - timedelta(days=40))
    assert "This referral has been closed" in (await client.get(old)).text


async def test_errors_keep_what_was_typed_and_link_to_the_field(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    _, referral, _ = await _ready(session)
    path = booking_path(settings, referral)
    empty = await client.post(path + "/how", data={})
    assert empty.status_code == 422
    assert "Error: How would you like to be seen?" in empty.text and 'href="#mode"' in empty.text
    sent = await client.post(
        path + "/details",
        data={"email": "not-an-email", "mobile": "", "contact_preference": "email"},
    )
    assert sent.status_code == 422
    assert 'href="#email"' in sent.text and 'value="not-an-email"' in sent.text
    assert "like name@example.com" in sent.text and 'href="#companion"' in sent.text


async def test_video_unsuitable_offers_in_person_only(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic = await make_clinic(session)
    referral = await make_referral(session, clinic=clinic, video_suitable=False)
    path = booking_path(settings, referral)
    assert radio_values(await client.get(path + "/how"), "mode") == ["in_person"]
    refused = await client.post(path + "/how", data={"mode": "video_home"})
    assert refused.status_code == 422


async def test_cannot_book_online_asks_why_and_tells_the_navigator(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    _, referral, _ = await _ready(session)
    path = booking_path(settings, referral)
    page = await client.get(
        path + "/help?reason=times", headers={"referer": f"http://test{path}/time"}
    )
    assert "Why can you not book online?" in page.text
    assert f'href="{path}/time"' in page.text  # back to where they were
    elsewhere = await client.get(path + "/help", headers={"referer": "https://evil.example/x"})
    assert "evil.example" not in elsewhere.text
    assert radio_values(page, "reason")[0] == "times"
    sent = await client.post(path + "/help", data={"reason": "times", "more": "Not Tuesdays"})
    assert location(sent) == path + "/help/sent"
    done = await client.get(path + "/help/sent")
    assert "A care navigator will contact you" in done.text
    await session.refresh(referral)
    assert referral.help_requested_at is not None
    assert referral.help_reason == "None of the times suit me: Not Tuesdays"


async def test_no_postcode_means_no_travel_figures(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    patient.postcode = None
    referral = await make_referral(session, clinic=clinic, patient=patient)
    how = await client.get(booking_path(settings, referral) + "/how")
    assert how.status_code == 200 and "No travel" in how.text
    assert "miles" not in how.text and "Travel to the clinic" in how.text


async def test_change_links_keep_the_other_answers(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic, referral, _ = await _ready(session)
    path = booking_path(settings, referral)
    slot = await _to_check(client, path, clinic)
    # Changing the contact details goes straight back to the check, the time kept.
    details = await client.get(path + "/details")
    assert 'value="Polish"' in details.text  # the answer given, not the record's
    sent = await client.post(
        path + "/details",
        data={"email": "new@example.com", "contact_preference": "email", "companion": "no"},
    )
    assert location(sent) == path + "/check"
    check = await client.get(path + "/check")
    assert "new@example.com" in check.text and clinic.hub.name in check.text
    # Changing the day drops the time chosen from it, and keeps the rest.
    days = radio_values(await client.get(path + "/day"), "day")
    assert location(await client.post(path + "/day", data={"day": days[1]})) == path + "/time"
    assert location(await client.get(path + "/check")) == path + "/time"
    other = radio_values(await client.get(path + "/time"), "slot")[0]
    assert other != slot
    assert location(await client.post(path + "/time", data={"slot": other})) == path + "/check"
    check = await client.get(path + "/check")
    assert "new@example.com" in check.text and clinic.hub.name in check.text
    # Changing how to be seen asks for the day and time again (a hub's times are its own).
    assert location(await client.post(path + "/how", data={"mode": "video_home"})) == (
        path + "/day"
    )
