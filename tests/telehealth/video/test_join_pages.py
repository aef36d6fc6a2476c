"""The patient's join link, page by page, as a browser without JavaScript sees it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import clinic
from scheduling.models import Appointment, Site
from scheduling.slots import to_london
from scheduling.transitions import Action
from telehealth.kernel.config import Settings
from telehealth.kernel.web.templating import templates
from telehealth.video.join import make_token
from telehealth.video.pages import join_path, phone_ending
from tests.builders import make_appointment, make_clinic, make_patient


def soon() -> datetime:
    """A start a few minutes ahead, on today's local date (check-in is for the day itself)."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = now + timedelta(minutes=5)
    if to_london(start + timedelta(minutes=30)).date() != to_london(now).date():
        start = now - timedelta(minutes=1)
    return start


async def _today(session: AsyncSession, **kw: object) -> Appointment:
    c = await make_clinic(session)
    return await make_appointment(session, c, start=soon(), **kw)  # type: ignore[arg-type]


async def test_tampered_and_unknown_links_get_the_same_plain_404(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    a = await _today(session)
    good = join_path(settings, a)
    unknown = "/join/" + make_token(settings.secret_key, appointment_id=10**9, sequence=0)
    for path in (good[:-3] + "xyz", unknown, "/join/nonsense", good + "/call"[:0] + "x"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "Page not found" in response.text
        assert a.reference not in response.text


async def test_check_in_then_wait_then_into_the_call(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    a = await _today(session)
    path = join_path(settings, a)
    page = await client.get(path)
    assert page.status_code == 200
    assert "Check in and wait to be seen" in page.text and a.reference in page.text
    assert "Check my camera and microphone" in page.text
    early_call = await client.get(path + "/call")
    assert early_call.status_code == 303 and early_call.headers["location"] == path

    checked = await client.post(path + "/check-in")
    assert checked.status_code == 303 and checked.headers["location"] == path + "/wait"
    await session.refresh(a)
    assert a.status == "checked-in" and a.checked_in_at is not None
    events = await clinic.history(session, a.id)
    assert [(e.action, e.actor) for e in events] == [("check_in", "patient")]

    await clinic.send_message(session, a, "Running 10 minutes late", actor_user_id=None)
    waiting = await client.get(path + "/wait")
    assert "You are in the waiting room" in waiting.text
    assert "Running 10 minutes late" in waiting.text

    await clinic.apply(session, a, Action.START_CALL, actor="staff", actor_user_id=None)
    call = await client.get(path + "/call")
    assert call.status_code == 303
    target = call.headers["location"]
    assert target.startswith("https://meet.jit.si/" + str(a.video_room))
    assert "Testpatient" not in target and "1960" not in target  # no surname, no birth date


async def test_too_early_says_when_to_come_back(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_clinic(session)
    a = await make_appointment(session, c, start=datetime.now(UTC) + timedelta(days=2))
    page = await client.get(join_path(settings, a))
    assert "You can join from" in page.text
    assert "Check in and wait" not in page.text
    refused = await client.post(join_path(settings, a) + "/check-in")
    assert refused.status_code == 303
    await session.refresh(a)
    assert a.status == "booked"


async def test_cancelled_moved_and_ended_links_say_why(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    cancelled = await _today(session)
    old_link = join_path(settings, cancelled)
    await clinic.apply(
        session, cancelled, Action.CANCEL, actor="staff", actor_user_id=None, reason="x"
    )
    assert "This appointment was cancelled" in (await client.get(old_link)).text

    moved = await _today(session)
    old_link = join_path(settings, moved)
    moved.sequence += 1  # what a reschedule does
    await session.flush()
    assert "has been moved" in (await client.get(old_link)).text
    assert "Check in and wait" in (await client.get(join_path(settings, moved))).text

    c = await make_clinic(session)
    ended = await make_appointment(session, c, start=datetime.now(UTC) - timedelta(hours=3))
    assert "This appointment has ended" in (await client.get(join_path(settings, ended))).text


async def test_video_links_for_staff(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    from tests.builders import make_user

    a = await _today(session)
    _, navigator = await make_user(session, role="navigator")
    from scheduling.models import Clinician

    own = await session.get(Clinician, a.clinician_id)
    _, clinician = await make_user(session, role="clinician", clinician=own)
    _, colleague = await make_user(session, role="clinician")
    url = f"/api/v1/appointments/{a.id}/video"
    # Another clinician's appointment does not exist for them, moderator link and all.
    assert (await client.get(url, headers=colleague)).status_code == 404
    for_navigator = (await client.get(url, headers=navigator)).json()
    assert for_navigator["patient_join_url"] == settings.public_base_url + join_path(settings, a)
    assert for_navigator["clinician_join_url"] is None
    for_clinician = (await client.get(url, headers=clinician)).json()
    assert str(a.video_room) in for_clinician["clinician_join_url"]
    assert for_clinician["demo_only"] is True
    in_person = await make_appointment(
        session, await make_clinic(session), start=soon(), mode="in_person"
    )
    refused = await client.get(f"/api/v1/appointments/{in_person.id}/video", headers=navigator)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_video"


def _when(at: datetime) -> str:
    """A time as the join page writes it (the page's own filters, whatever their style)."""
    filters = templates.env.filters
    return f"{filters['local_date'](at)} at {filters['local_time'](at)}"


async def test_an_old_link_after_a_move_says_what_changed_once(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    moved = await _today(session)
    old_link, old_start = join_path(settings, moved), moved.starts_at
    # What a reschedule does to the row: a new time and a new sequence.
    moved.starts_at += timedelta(days=7, hours=1)
    moved.ends_at += timedelta(days=7, hours=1)
    moved.busy_until = moved.ends_at
    moved.sequence += 1
    await session.flush()
    page = (await client.get(old_link)).text
    assert "<h1>Your appointment has been moved</h1>" in page
    row = r"<dt[^>]*>\s*{}\s*</dt>\s*<dd[^>]*>\s*{}"
    assert re.search(row.format("Was", re.escape(_when(old_start))), page)
    assert re.search(row.format("Now", re.escape(_when(moved.starts_at))), page)
    assert page.count(_when(moved.starts_at)) == 1 and page.count(_when(old_start)) == 1
    assert "for the old time" not in page and "Check in and wait" not in page
    assert "Video call from home" in page

    # A link from before links carried their start still says it moved, without guessing when.
    older = "/join/" + make_token(settings.secret_key, appointment_id=moved.id, sequence=0)
    page = (await client.get(older)).text
    assert "<h1>Your appointment has been moved</h1>" in page and ">Was<" not in page
    assert page.count(_when(moved.starts_at)) == 1


async def test_a_hub_patient_checked_in_by_reception_is_told_where_to_be(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_clinic(session)
    window = timedelta(minutes=settings.join_window_minutes)
    early = await make_appointment(
        session, c, start=datetime.now(UTC) + window + timedelta(minutes=15), mode="video_site"
    )
    now_open = await make_appointment(
        session,
        await make_clinic(session),
        start=soon(),
        mode="video_site",
    )
    for a in (early, now_open):
        # Reception checked them in (the day and hour rules are tested on their own).
        await clinic.apply(
            session,
            a,
            Action.CHECK_IN,
            actor="staff",
            actor_user_id=None,
            now=a.starts_at,
        )
        page = await client.get(join_path(settings, a))
        assert page.status_code == 200, page.headers.get("location")
        hub = c.hub if a is early else await session.get(Site, a.site_id)
        assert hub is not None
        assert "Reception has checked you in" in page.text
        assert f"You are expected at {hub.name}, in Room 1" in page.text
        assert "Check my camera and microphone" not in page.text
        assert "You can join from" not in page.text and "Check in and wait" not in page.text

    # Checked in on their own device at the hub: the waiting room, as for anyone else.
    own = await make_appointment(
        session, await make_clinic(session), start=soon(), mode="video_site"
    )
    link = join_path(settings, own)
    assert (await client.post(link + "/check-in")).status_code == 303
    assert (await client.get(link)).headers["location"] == link + "/wait"


async def test_a_patient_not_yet_checked_in_is_told_the_clinician_will_phone(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    patient = await make_patient(session)
    patient.mobile = "+44 7700 900 456"
    a = await make_appointment(session, await make_clinic(session), start=soon(), patient=patient)
    await clinic.apply(
        session, a, Action.SWITCH_TO_PHONE, actor="staff", actor_user_id=None, now=a.starts_at
    )
    page = await client.get(join_path(settings, a))
    assert "Your clinician will phone you instead" in page.text
    assert "on the number ending 456" in page.text and "7700" not in page.text
    assert "Check in and wait" not in page.text and "Check my camera" not in page.text


@pytest.mark.parametrize(
    ("number", "ending"),
    [("07700 900789", "789"), ("+44 (0)7700-900-012", "012"), ("12", None), (None, None)],
)
def test_phone_ending(number: str | None, ending: str | None) -> None:
    assert phone_ending(number) == ending


async def test_the_join_page_names_the_service_once_and_gives_its_number(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_clinic(session)
    c.service.name, c.service.phone = "Diabetes review", "01524 65944"
    a = await make_appointment(session, c, start=soon())
    page = (await client.get(join_path(settings, a))).text
    assert "<title>Diabetes review \u2013" in page and "review video appointment" not in page
    a.status = "cancelled"
    await session.flush()
    gone = (await client.get(join_path(settings, a))).text
    assert "call 01524 65944" in gone and "contact the service." not in gone
