"""Downloadable invites and clinicians' subscription feeds."""

from __future__ import annotations

from datetime import datetime, time

import httpx
import ics
from icalendar import Calendar
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.slots import london_datetime
from telehealth.calendars import files as calendars
from telehealth.kernel.config import Settings
from telehealth.messaging.invite_links import invite_url
from tests.builders import book_via_api, make_appointment, make_clinic, make_user, next_weekday

# A new patient given by their details; the invite must not carry their NHS number.
PATIENT = {
    "given_name": "Ann",
    "family_name": "Lee",
    "date_of_birth": "1950-01-01",
    "email": "ann@example.com",
    "nhs_number": "9434765919",
}


def _tuesday_at(at: time) -> datetime:
    return london_datetime(next_weekday(1, weeks=2), at)


async def test_patient_downloads_the_current_invite(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    booked = await book_via_api(client, session, headers, c, _tuesday_at(time(9)), patient=PATIENT)
    path = invite_url(settings, booked["id"]).removeprefix(settings.public_base_url)
    first = await client.get(path)
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/calendar")
    event = Calendar.from_ical(first.content).walk("VEVENT")[0]
    assert str(event["UID"]) == booked["uid"] and int(str(event["SEQUENCE"])) == 0
    assert b"9434765919" not in first.content
    await client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", json={"reason": "x"}, headers=headers
    )
    after = Calendar.from_ical((await client.get(path)).content)
    assert after["METHOD"] == "CANCEL" and int(str(after.walk("VEVENT")[0]["SEQUENCE"])) == 1
    assert (await client.get(path[:-8] + "AAAA.ics")).status_code == 404


async def test_clinician_feed_lists_appointments_and_can_be_reset(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, own = await make_user(session, role="clinician")
    c = await make_clinic(session)
    c.clinician.user_id = user.id
    await session.flush()
    _, navigator = await make_user(session, role="navigator")
    kept = await book_via_api(client, session, navigator, c, _tuesday_at(time(9)), patient=PATIENT)
    dropped = await book_via_api(
        client, session, navigator, c, _tuesday_at(time(10)), patient=PATIENT
    )
    await client.post(
        f"/api/v1/appointments/{dropped['id']}/cancel", json={"reason": "x"}, headers=navigator
    )

    created = await client.post(f"/api/v1/clinicians/{c.clinician.id}/calendar-feed", headers=own)
    assert created.status_code == 201
    urls = created.json()
    assert urls["webcal_url"].startswith("webcal://")
    feed = await client.get("/" + urls["https_url"].split("://", 1)[1].split("/", 1)[1])
    assert feed.status_code == 200
    events = {str(e["UID"]): e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert set(events) == {kept["uid"], dropped["uid"]}
    assert str(events[dropped["uid"]]["STATUS"]) == "CANCELLED"
    assert str(events[kept["uid"]]["STATUS"]) == "CONFIRMED"
    assert b"Ann" not in feed.content and b"ann@example.com" not in feed.content
    assert len(ics.Calendar(feed.text).events) == 2

    _, other_headers = await make_user(session, role="clinician")
    refused = await client.post(
        f"/api/v1/clinicians/{c.clinician.id}/calendar-feed", headers=other_headers
    )
    assert refused.status_code == 403
    reset = await client.post(f"/api/v1/clinicians/{c.clinician.id}/calendar-feed", headers=own)
    old_path = "/" + urls["https_url"].split("://", 1)[1].split("/", 1)[1]
    assert (await client.get(old_path)).status_code == 404
    new_path = "/" + reset.json()["https_url"].split("://", 1)[1].split("/", 1)[1]
    assert (await client.get(new_path)).status_code == 200


async def test_the_feed_says_each_appointment_in_people_s_words(
    session: AsyncSession, settings: Settings
) -> None:
    """ "Video call from home", never `video_home`; the hub's room; nothing to run once
    cancelled."""
    c = await make_clinic(session)
    c.hub.name, c.service.name = "Morecambe video hub", "Diabetes review"
    day = next_weekday(1, weeks=2)
    made = {
        mode: await make_appointment(session, c, start=london_datetime(day, at), mode=mode)
        for mode, at in (("video_home", time(9)), ("video_site", time(10)), ("in_person", time(11)))
    }
    phoned = await make_appointment(session, c, start=london_datetime(day, time(12)))
    phoned.medium = "telephone"
    cancelled = await make_appointment(
        session, c, start=london_datetime(day, time(12, 30)), status="cancelled"
    )
    await session.flush()
    feed = await calendars.clinician_feed(session, c.clinician.id, name="Clinic", settings=settings)
    events = {str(e["UID"]): e for e in Calendar.from_ical(feed).walk("VEVENT")}

    def said(a, field: str) -> str:  # type: ignore[no-untyped-def]
        return str(events[a.uid][field])

    home, hub, clinic = made["video_home"], made["video_site"], made["in_person"]
    assert said(home, "SUMMARY") == f"Diabetes review, video call from home, ref {home.reference}"
    assert said(home, "LOCATION") == "Video call from home"
    assert said(hub, "SUMMARY").startswith("Diabetes review, video call at Morecambe video hub")
    assert said(hub, "LOCATION") == "Morecambe video hub, Room 1, LA4 5RJ"
    assert said(clinic, "SUMMARY").startswith(f"Diabetes review, in person at {c.hospital.name}")
    assert said(phoned, "SUMMARY").startswith("Diabetes review, telephone")
    assert said(phoned, "LOCATION") == "Telephone"
    assert "clinic screen" not in said(cancelled, "DESCRIPTION")
    assert "URL" not in events[cancelled.uid]
    for raw in ("video_home", "video_site", "in_person", "video home", "in person,"):
        assert raw not in feed.decode().replace("\r\n ", ""), raw
