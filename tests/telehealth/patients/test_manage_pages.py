"""The manage page a patient's link opens, and cancelling from it: what it shows for each way
of being seen, the service's notice period, and links that do not work."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, AppointmentChange, VideoRoom
from telehealth.kernel import timefmt
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from tests.builders import tuesday_at
from tests.builders_manage import (
    DIRECTIONS,
    HUB_PHONE,
    SERVICE_PHONE,
    csrf_of,
    make_managed,
    make_managed_clinic,
    manage_path,
)

TITLE_END = " \N{EN DASH} Bay Telehealth \N{EN DASH} NHS"


def _day(a: Appointment) -> str:
    return timefmt.moment(a.starts_at)


async def test_the_page_shows_a_home_video_appointment_with_its_link_and_actions(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    a = await make_managed(session, c, start=tuesday_at(9, 20))
    path = manage_path(settings, a.id)
    page = await client.get(path)
    assert page.status_code == 200, page.text
    html = page.text
    assert f"<title>Your appointment{TITLE_END}</title>" in html
    assert "Diabetes review" in html and f"{_day(a)}" in html and "9:20am" in html
    assert "Video call from home" in html and a.reference in html
    assert "/join/" in html and "Join your video call" in html
    assert "/invite/" in html and "Add to calendar" in html
    assert f'href="{path}/change"' in html and "Change the time or how you are seen" in html
    assert f'href="{path}/cancel"' in html and "Cancel this appointment" in html
    audit = (
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "patient.self.view", AuditEvent.entity_id == a.id
            )
        )
    ).one()
    assert audit.actor_user_id is None
    assert audit.detail == {"patient_id": a.patient_id, "link": "manage"}


async def test_a_hub_appointment_says_where_to_go_and_in_person_names_the_site(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    hub = await make_managed(session, c, mode="video_site")
    room = await session.get(VideoRoom, hub.room_id)
    assert room is not None
    html = (await client.get(manage_path(settings, hub.id))).text
    assert "Video call at Morecambe video hub" in html
    assert "Thornton Road, Morecambe" in html and room.name in html and DIRECTIONS in html
    # Hub staff set the call up: the hub's words, not the words for joining from home.
    assert "arrive 10 minutes early" in html and "Staff at the hub set up the video call" in html
    assert "Join your video call" not in html and "camera and microphone" not in html
    assert "/join/" not in html
    clinic = await make_managed(session, c, mode="in_person", start=tuesday_at(10))
    html = (await client.get(manage_path(settings, clinic.id))).text
    assert "In person at Royal Lancaster Infirmary" in html and "/join/" not in html


async def test_a_cancelled_appointment_says_so_and_offers_no_actions(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    a = await make_managed(session, c, status="cancelled")
    path = manage_path(settings, a.id)
    html = (await client.get(path)).text
    assert "This appointment has been cancelled." in html and "&lt;p&gt;" not in html
    assert "/cancel" not in html and "/join/" not in html
    assert (await client.get(path + "/cancel")).headers["location"] == path


async def test_inside_the_notice_period_the_page_says_whom_to_phone(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    a = await make_managed(session, c)
    c.service.change_notice_minutes = 60 * 24 * 365  # the whole year is inside it
    await session.flush()
    path = manage_path(settings, a.id)
    html = (await client.get(path)).text
    assert f"To change or cancel, phone {SERVICE_PHONE}." in html
    assert f"{path}/cancel" not in html and f"{path}/change" not in html
    assert (await client.get(path + "/cancel")).status_code == 303
    # A form kept open from before the notice period began cancels nothing.
    c.service.change_notice_minutes = 0
    await session.flush()
    csrf = await csrf_of(client, path + "/cancel")
    c.service.change_notice_minutes = 60 * 24 * 365
    await session.flush()
    refused = await client.post(path + "/cancel", data={"csrf": csrf, "reason": "better"})
    assert refused.status_code == 303 and refused.headers["location"] == path
    await session.refresh(a)
    assert a.status == "booked"


async def test_without_a_service_phone_the_site_s_is_given_and_past_ones_are_finished(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    c.service.phone = None
    await session.flush()
    hub = await make_managed(session, c, mode="video_site")
    c.service.change_notice_minutes = 60 * 24 * 365
    await session.flush()
    assert f"phone {HUB_PHONE}" in (await client.get(manage_path(settings, hub.id))).text
    past = await make_managed(session, c, start=utcnow() - timedelta(days=3))
    html = (await client.get(manage_path(settings, past.id))).text
    assert "This appointment has finished." in html and "/cancel" not in html


async def test_a_link_that_does_not_work_or_has_expired_points_to_the_lookup(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    a = await make_managed(session, c)
    good = manage_path(settings, a.id)
    for broken in (good[:-3], "/manage/nonsense", good + "x", manage_path(settings, 10**9)):
        page = await client.get(broken)
        assert page.status_code == 404, broken
        assert "This link does not work" in page.text and 'href="/find-appointment"' in page.text
        assert a.reference not in page.text
    old = manage_path(settings, a.id, issued_on=date.today() - timedelta(days=181))
    page = await client.get(old)
    assert page.status_code == 404 and "This link has expired" in page.text
    assert 'href="/find-appointment"' in page.text and a.reference not in page.text
    assert (await client.get(old + "/cancel")).status_code == 404


async def test_cancelling_needs_a_reason_and_keeps_what_was_typed(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    a = await make_managed(session, c)
    path = manage_path(settings, a.id) + "/cancel"
    csrf = await csrf_of(client, path)
    form = await client.get(path)
    for value in ("better", "cannot-make-it", "different-time", "other"):
        assert f'value="{value}"' in form.text and 'type="radio"' in form.text
    assert "Why are you cancelling this appointment?" in form.text
    none = await client.post(path, data={"csrf": csrf})
    assert none.status_code == 422
    assert "<title>Error: Why are you cancelling" in none.text and 'href="#reason"' in none.text
    assert 'id="reason"' in none.text
    blank = await client.post(path, data={"csrf": csrf, "reason": "other", "reason-other": " "})
    assert blank.status_code == 422 and 'href="#reason-other"' in blank.text
    assert 'id="reason-other"' in blank.text
    long = await client.post(
        path, data={"csrf": csrf, "reason": "other", "reason-other": "x" * 501}
    )
    assert long.status_code == 422 and "x" * 501 in long.text  # kept, to be cut down
    await session.refresh(a)
    assert a.status == "booked"
    forged = await client.post(path, data={"csrf": "forged", "reason": "better"})
    assert forged.status_code == 403


async def test_cancelling_with_a_reason_cancels_and_the_database_records_the_change(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    a = await make_managed(session, c)
    base = manage_path(settings, a.id)
    csrf = await csrf_of(client, base + "/cancel")
    done = await client.post(
        base + "/cancel",
        data={"csrf": csrf, "reason": "other", "reason-other": "  moving   away "},
    )
    assert done.status_code == 303 and done.headers["location"] == base + "/cancelled"
    await session.refresh(a)
    assert a.status == "cancelled" and a.cancel_reason == "Cancelled online: moving away"
    # The trigger wrote the change the worker turns into the cancellation messages.
    changes = await session.scalars(
        select(AppointmentChange.change).where(AppointmentChange.appointment_id == a.id)
    )
    assert "cancelled" in list(changes)
    confirmed = await client.get(base + "/cancelled")
    assert confirmed.status_code == 200
    assert f"<title>Appointment cancelled{TITLE_END}</title>" in confirmed.text
    assert "nhsuk-panel" in confirmed.text and f"<strong>{a.reference}</strong>" in confirmed.text
    assert SERVICE_PHONE in confirmed.text
    audit = await session.scalars(
        select(AuditEvent.actor_user_id).where(
            AuditEvent.action == "patient.self.cancel", AuditEvent.entity_id == a.id
        )
    )
    assert list(audit) == [None]
    # Cancelling again finds nothing to cancel: the page says it is cancelled.
    again = await client.post(base + "/cancel", data={"csrf": csrf, "reason": "better"})
    assert again.status_code == 303 and again.headers["location"] == base
    audit = await session.scalars(
        select(AuditEvent.id).where(
            AuditEvent.action == "patient.self.cancel", AuditEvent.entity_id == a.id
        )
    )
    assert len(list(audit)) == 1  # a cancellation is recorded once, when it happens


async def test_a_chosen_reason_is_what_the_clinician_is_told(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    a = await make_managed(session, c)
    base = manage_path(settings, a.id)
    csrf = await csrf_of(client, base + "/cancel")
    await client.post(base + "/cancel", data={"csrf": csrf, "reason": "better"})
    await session.refresh(a)
    assert a.cancel_reason == "Cancelled online: the patient is feeling better"
    assert (await client.get(base + "/cancelled")).status_code == 200
    booked = await make_managed(session, c, start=tuesday_at(10))
    # The confirmation of an appointment still booked leads back to the appointment.
    path = manage_path(settings, booked.id)
    assert (await client.get(path + "/cancelled")).headers["location"] == path
