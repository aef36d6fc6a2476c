"""What messages say, rendered as the worker renders them (change feed, outbox, render): where
to go, what changed, whom to call, in plain words and NHS-style times."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.models import OutboxMessage
from notifications.outbox import Rendering
from scheduling import booking
from scheduling.models import Appointment, Patient, VideoRoom
from scheduling.slots import london_datetime
from telehealth import messaging
from telehealth.messaging.content import today
from telehealth.messaging.patient_links import MANAGE_LINK_DAYS, read_manage_token
from tests.builders import (
    Clinic,
    book_via_service,
    make_clinic,
    make_patient,
    next_weekday,
    place_via_service,
)
from tests.conftest import TEST_SETTINGS

DIRECTIONS = "Use the side entrance on Thornton Road; the video rooms are past reception."
SERVICE_PHONE = "0113 496 0001"
HUB_PHONE = "0113 496 0002"
HOSPITAL_PHONE = "0113 496 0003"


async def _clinic(session: AsyncSession, *, service_name: str = "Diabetes review") -> Clinic:
    c = await make_clinic(session)
    c.hub.name, c.hub.address = "Morecambe video hub", "Thornton Road, Morecambe"
    c.hub.directions, c.hub.phone = DIRECTIONS, HUB_PHONE
    c.hospital.phone = HOSPITAL_PHONE
    c.service.name, c.service.phone = service_name, SERVICE_PHONE
    c.session.end_time = time(13)  # room for a midday appointment
    await session.flush()
    return c


async def _patient(session: AsyncSession) -> Patient:
    p = await make_patient(session)
    p.mobile, p.contact_preference = "+447700900123", "both"
    await session.flush()
    return p


DAY = next_weekday(1, weeks=2)  # a Tuesday, on make_clinic's 20-minute grid from 9am
DAY_TEXT = f"Tuesday {DAY.day} {DAY:%B %Y}"


def _start(hour: int, minute: int = 0) -> datetime:
    return london_datetime(DAY, time(hour, minute))


async def _rendered(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    appointment: Appointment,
    kind: str,
) -> dict[str, Rendering]:
    """The appointment's latest messages of one kind, by channel and audience ("email",
    "sms", "clinician"), rendered by the worker's renderer."""
    while await messaging.queue_messages(sessionmaker, TEST_SETTINGS):
        pass
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.appointment_id == appointment.id)
        .order_by(OutboxMessage.id)
    )
    found = {}
    for m in rows:
        facts = m.facts or {}
        if facts.get("kind") != kind or m.status != "pending":
            continue
        name = "clinician" if facts.get("audience") == "clinician" else m.channel
        found[name] = await messaging.render(session, m, settings=TEST_SETTINGS)
    return found


def _event(rendering: Rendering):  # type: ignore[no-untyped-def]
    assert rendering.calendar is not None
    return Calendar.from_ical(rendering.calendar).walk("VEVENT")[0]


def _unfolded(text: str) -> str:
    return " ".join(text.split())


async def test_a_hub_confirmation_says_where_to_go(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    a = await book_via_service(
        session, c, _start(9, 40), mode="video_site", patient_id=(await _patient(session)).id
    )
    room = await session.get(VideoRoom, a.room_id)
    assert room is not None
    done = await _rendered(session, sessionmaker, a, "confirmation")
    email, sms, event = done["email"], done["sms"], _event(done["email"])
    for text in (email.body_text, email.body_html or "", sms.body_text, str(event["DESCRIPTION"])):
        text = _unfolded(text)
        assert "Morecambe video hub" in text, text
        assert "Thornton Road, Morecambe" in text and "LA4 5RJ" in text, text
        assert room.name in text, text
        assert DIRECTIONS in text, text
        assert SERVICE_PHONE in text, text
    for text in (email.subject, email.body_text, email.body_html or "", sms.body_text):
        assert f"{DAY_TEXT} at 9:40am" in text and "09:40" not in text, text
    assert "Video call at Morecambe video hub" in email.body_text
    location = str(event["LOCATION"])
    assert location.startswith(f"Morecambe video hub, {room.name}, Thornton Road")
    assert str(event["SUMMARY"]) == "Diabetes review: video call at Morecambe video hub"
    assert "contact the service" not in email.body_text + str(event["DESCRIPTION"])


HUB_WORDS = (
    "Go to Morecambe video hub, Thornton Road, Morecambe, LA4 5RJ and arrive 10 minutes early."
    " Staff at the hub set up the video call in a private room for you"
)
JOIN_WORDS = ("Join your video call", "camera and microphone", "/join/")


async def test_hub_messages_say_the_hub_words_and_home_ones_the_join_words(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    patient = await _patient(session)
    hub = await book_via_service(session, c, _start(9), mode="video_site", patient_id=patient.id)
    home = await book_via_service(session, c, _start(10), mode="video_home", patient_id=patient.id)
    confirmed = await _rendered(session, sessionmaker, hub, "confirmation")
    await booking.reschedule(
        session,
        appointment=hub,
        placement=await place_via_service(session, c, _start(9, 40), mode="video_site"),
    )
    changed = await _rendered(session, sessionmaker, hub, "change")
    for done in (confirmed, changed):
        email, sms = done["email"], done["sms"]
        written = (email.body_text, email.body_html or "", str(_event(email)["DESCRIPTION"]))
        for text in written:
            text = _unfolded(text)
            assert HUB_WORDS in text, text
            assert not any(words in text for words in JOIN_WORDS), text
        assert "Arrive 10 minutes early: hub staff set up the video call." in sms.body_text
        assert "/join/" not in sms.body_text
        event = _event(email)  # no join link in the patient's invite
        assert event.get("URL") is None and event.get("CONFERENCE") is None
    at_home = await _rendered(session, sessionmaker, home, "confirmation")
    text = _unfolded(at_home["email"].body_text)
    assert all(words in text for words in JOIN_WORDS) and "Staff at the hub" not in text
    assert "Staff at the hub" not in _unfolded(at_home["email"].body_html or "")


async def test_a_hub_reminder_says_where_to_go(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    a = await book_via_service(
        session, c, _start(10), mode="video_site", patient_id=(await _patient(session)).id
    )
    room = await session.get(VideoRoom, a.room_id)
    assert room is not None
    done = await _rendered(session, sessionmaker, a, "reminder")
    for text in (done["email"].body_text, done["sms"].body_text):
        text = _unfolded(text)
        assert "Morecambe video hub" in text and "Thornton Road, Morecambe" in text, text
        assert room.name in text and DIRECTIONS in text and "10am" in text, text


async def test_home_video_says_video_call_from_home_and_gives_the_link(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    a = await book_via_service(
        session, c, _start(11, 20), mode="video_home", patient_id=(await _patient(session)).id
    )
    done = await _rendered(session, sessionmaker, a, "confirmation")
    email, event = done["email"], _event(done["email"])
    assert "How: Video call from home" in email.body_text
    assert "/join/" in email.body_text and "/join/" in done["sms"].body_text
    assert "Where:" not in email.body_text and DIRECTIONS not in email.body_text
    assert str(event["LOCATION"]) == "Video call from home"
    assert "video_home" not in email.body_text + done["sms"].body_text + str(event["SUMMARY"])
    assert "11:20am" in email.body_text and "11:20am" in done["sms"].body_text
    # The clinician's notice points at the clinic screen to run it.
    assert "Start the call from your clinic screen" in done["clinician"].body_text


async def test_in_person_names_the_clinic_and_no_video_link(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    c.hospital.name, c.hospital.directions = "Royal Lancaster Infirmary", "Outpatients, Level 2."
    await session.flush()
    a = await book_via_service(
        session, c, _start(9), mode="in_person", patient_id=(await _patient(session)).id
    )
    done = await _rendered(session, sessionmaker, a, "confirmation")
    email, sms, event = done["email"], done["sms"], _event(done["email"])
    assert "How: In person at Royal Lancaster Infirmary" in email.body_text
    assert "Getting there: Outpatients, Level 2." in email.body_text
    assert "/join/" not in email.body_text + sms.body_text
    assert "in person at Royal Lancaster Infirmary" in sms.body_text
    assert "Outpatients, Level 2." in str(event["DESCRIPTION"])
    assert str(event["LOCATION"]).startswith("Royal Lancaster Infirmary, 1 Test Street")
    assert "9am" in email.body_text and "09:00" not in email.body_text


async def test_a_telephone_appointment_says_telephone(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Switched to telephone: nothing sends the patient to a link or a hub."""
    c = await _clinic(session)
    a = await book_via_service(
        session, c, _start(9), mode="video_site", patient_id=(await _patient(session)).id
    )
    a.medium = "telephone"
    await session.flush()
    done = await _rendered(session, sessionmaker, a, "reminder")
    email, sms = done["email"], done["sms"]
    assert "How: Telephone" in email.body_text
    assert f"{c.clinician.name} will phone you" in email.body_text
    assert "/join/" not in email.body_text + sms.body_text
    assert DIRECTIONS not in email.body_text + sms.body_text
    assert f"by telephone: {c.clinician.name} will phone you." in sms.body_text


async def test_a_change_says_what_it_was_and_what_it_is_now(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    patient = await _patient(session)
    a = await book_via_service(session, c, _start(9, 20), mode="video_home", patient_id=patient.id)
    await _rendered(session, sessionmaker, a, "confirmation")
    later = _start(10, 40)
    await booking.reschedule(
        session,
        appointment=a,
        placement=await place_via_service(session, c, later, mode="video_site"),
    )
    done = await _rendered(session, sessionmaker, a, "change")
    was = f"Was: {DAY_TEXT} at 9:20am, video call from home."
    now = f"Now: {DAY_TEXT} at 10:40am, video call at Morecambe video hub."
    for name in ("email", "clinician"):
        text = _unfolded(done[name].body_text)
        assert was in text and now in text, text
    assert was in _unfolded(done["email"].body_html or "")
    assert was in done["sms"].body_text
    assert "Morecambe video hub" in done["sms"].body_text and DIRECTIONS in done["sms"].body_text
    assert "10:40am" in (done["email"].subject)


async def test_a_change_of_time_only_says_only_the_time(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    a = await book_via_service(
        session, c, _start(9), mode="video_home", patient_id=(await _patient(session)).id
    )
    await _rendered(session, sessionmaker, a, "confirmation")
    await booking.reschedule(
        session,
        appointment=a,
        placement=await place_via_service(session, c, _start(12), mode="video_home"),
    )
    text = _unfolded((await _rendered(session, sessionmaker, a, "change"))["email"].body_text)
    assert "at 9am." in text and "at midday." in text
    assert "Was: " in text and "video call from home." not in text.split("Now:")[0]


async def test_the_number_to_call_is_the_service_s_else_the_site_s(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    c.service.phone = None
    await session.flush()
    patient = await _patient(session)
    hub = await book_via_service(session, c, _start(9), mode="video_site", patient_id=patient.id)
    home = await book_via_service(session, c, _start(10), mode="video_home", patient_id=patient.id)
    at_hub = await _rendered(session, sessionmaker, hub, "confirmation")
    at_home = await _rendered(session, sessionmaker, home, "confirmation")
    assert f"To change or cancel, call {HUB_PHONE}." in at_hub["email"].body_text
    # From home there is no site of the appointment's own: the service's usual site.
    assert f"To change or cancel, call {HOSPITAL_PHONE}." in at_home["email"].body_text
    await booking.cancel(session, appointment=home, reason="Feeling better")
    cancelled = await _rendered(session, sessionmaker, home, "cancellation")
    assert f"If you still need an appointment, call {HOSPITAL_PHONE}." in (
        cancelled["email"].body_text
    )
    assert HOSPITAL_PHONE in cancelled["sms"].body_text
    for text in (cancelled["email"].body_text, cancelled["sms"].body_text):
        assert "contact the service" not in text


async def test_wording_does_not_double_up_or_misdirect(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session, service_name="Video review")
    a = await book_via_service(
        session, c, _start(9), mode="video_home", patient_id=(await _patient(session)).id
    )
    booked = await _rendered(session, sessionmaker, a, "confirmation")
    await booking.cancel(session, appointment=a, reason="Feeling better")
    cancelled = await _rendered(session, sessionmaker, a, "cancellation")
    texts = [
        r.subject + r.body_text + (r.body_html or "")
        for done in (booked, cancelled)
        for r in done.values()
    ]
    for text in texts:
        assert "review video appointment" not in text and "appointment appointment" not in text
        assert "video_home" not in text and "video_site" not in text
    assert "Your Video review with" in booked["email"].body_text
    notice = cancelled["clinician"]
    assert "clinic screen" not in notice.body_text + (notice.body_html or "")
    assert "clinic screen" not in str(_event(notice)["DESCRIPTION"])


async def test_the_staff_reason_for_a_cancellation_goes_to_the_clinician_not_the_patient(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = await _clinic(session)
    a = await book_via_service(
        session, c, _start(9), mode="video_home", patient_id=(await _patient(session)).id
    )
    await booking.cancel(session, appointment=a, reason="Clinician unavailable: staff note")
    cancelled = await _rendered(session, sessionmaker, a, "cancellation")
    for channel in ("email", "sms"):
        patient = cancelled[channel]
        assert "staff note" not in patient.body_text + (patient.body_html or ""), channel
    assert "Clinician unavailable: staff note" in cancelled["clinician"].body_text


def _manage_links(rendering: Rendering) -> set[str]:
    text = rendering.body_text + (rendering.body_html or "")
    return set(re.findall(r"http://[^\s\"<>]+/manage/[A-Za-z0-9_.-]+", text))


async def test_every_message_to_the_patient_links_to_manage_their_appointment(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Booked, rescheduled, reminded and cancelled: each email (text and HTML) and SMS carries
    a manage link, issued today, that names this appointment; the clinician's notice none."""
    c = await _clinic(session)
    a = await book_via_service(
        session, c, _start(9), mode="video_home", patient_id=(await _patient(session)).id
    )
    seen: dict[str, dict[str, Rendering]] = {
        "confirmation": await _rendered(session, sessionmaker, a, "confirmation"),
        "reminder": await _rendered(session, sessionmaker, a, "reminder"),
    }
    await booking.reschedule(
        session,
        appointment=a,
        placement=await place_via_service(session, c, _start(10), mode="video_site"),
    )
    seen["change"] = await _rendered(session, sessionmaker, a, "change")
    await booking.cancel(session, appointment=a, reason="Patient cancelled")
    seen["cancellation"] = await _rendered(session, sessionmaker, a, "cancellation")
    for kind, done in seen.items():
        for channel in ("email", "sms"):
            links = _manage_links(done[channel])
            assert len(links) == 1, (kind, channel, done[channel].body_text)
            claim = read_manage_token(TEST_SETTINGS, links.pop().rsplit("/", 1)[1])
            assert claim is not None and claim.id == a.id, (kind, channel)
            assert claim.expires_on == today() + timedelta(days=MANAGE_LINK_DAYS)
        assert "Manage your appointment" in done["email"].body_text, kind
        assert "Manage your appointment" in (done["email"].body_html or ""), kind
        if "clinician" in done:  # reminders go to the patient only
            assert not _manage_links(done["clinician"]), kind
