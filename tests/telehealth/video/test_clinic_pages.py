"""Staff screens: sign in, the clinician's clinic, reception at a hub, and their buttons."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import clinic
from scheduling.models import Appointment
from scheduling.slots import to_london
from scheduling.transitions import Action
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.config import Settings
from telehealth.video.pages import join_path
from tests.builders import (
    Clinic,
    make_appointment,
    make_clinic,
    make_clinician,
    make_patient,
    make_user,
)
from tests.telehealth.video.test_join_pages import soon

PASSWORD = "correct horse battery"  # what make_user sets


async def sign_in(client: httpx.AsyncClient, email: str) -> str:
    page = await client.get("/staff/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    done = await client.post(
        "/staff/login", data={"csrf": csrf.group(1), "email": email, "password": PASSWORD}
    )
    assert done.status_code == 303, done.text
    page = await client.get("/staff/login")  # any form carries the session's CSRF token
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def test_pages_need_a_signed_in_user(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    page = await client.get("/staff/clinic")
    assert page.status_code == 303
    assert page.headers["location"] == "/staff/login?next=%2Fstaff%2Fclinic"
    user, _ = await make_user(session, role="clinician")
    login = await client.get("/staff/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    wrong = await client.post(
        "/staff/login", data={"csrf": csrf, "email": user.email, "password": "wrong password"}
    )
    assert wrong.status_code == 401 and "Enter a correct email address and password" in wrong.text
    forged = await client.post(
        "/staff/login", data={"csrf": "forged", "email": user.email, "password": PASSWORD}
    )
    assert forged.status_code == 403


async def test_analyst_cannot_open_the_clinic(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, _ = await make_user(session, role="analyst")
    await sign_in(client, user.email)
    page = await client.get("/staff/clinic")
    assert page.status_code == 403 and "You cannot do that" in page.text


async def test_clinician_runs_the_clinic(client: httpx.AsyncClient, session: AsyncSession) -> None:
    user, _ = await make_user(session, role="clinician")
    c = await make_clinic(session)
    c.clinician.user_id = user.id
    await session.flush()
    a = await make_appointment(session, c, start=soon())
    other = await make_clinic(session)
    not_mine = await make_appointment(session, other, start=soon())
    csrf = await sign_in(client, user.email)

    page = await client.get("/staff/clinic")
    assert page.status_code == 200
    assert f'data-appointment="{a.id}" data-live="not_arrived"' in page.text
    assert f'data-appointment="{not_mine.id}"' not in page.text
    assert "Alex Testpatient" in page.text

    await clinic.apply(session, a, Action.CHECK_IN, actor="patient", actor_user_id=None)
    table = await client.get("/staff/clinic/table")
    assert f'data-appointment="{a.id}" data-live="waiting"' in table.text
    assert "Waiting since" in table.text

    sent = await client.post(
        f"/staff/appointments/{a.id}/message",
        data={"csrf": csrf, "message": "Running 10 minutes late", "back": "/staff/clinic"},
    )
    assert sent.status_code == 303
    assert "Last message: Running 10 minutes late" in (await client.get("/staff/clinic")).text

    call = await client.post(
        f"/staff/appointments/{a.id}/action", data={"csrf": csrf, "action": "start_call"}
    )
    assert call.status_code == 303
    assert call.headers["location"].startswith(f"https://meet.jit.si/{a.video_room}")
    await session.refresh(a)
    assert a.call_started_at is not None and a.medium == "video"


async def test_reception_marks_arrival_at_the_hub(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_clinic(session)
    user, _ = await make_user(session, role="reception", hubs=[c.hub])
    a = await make_appointment(session, c, start=soon(), mode="video_site")
    home = await make_appointment(session, await make_clinic(session), start=soon())
    csrf = await sign_in(client, user.email)
    page = await client.get(f"/staff/reception?site_id={c.hub.id}")
    assert f'data-appointment="{a.id}" data-live="not_arrived"' in page.text
    assert f'data-appointment="{home.id}"' not in page.text
    assert "Room 1" in page.text
    done = await client.post(
        f"/staff/appointments/{a.id}/action",
        data={"csrf": csrf, "action": "arrive", "back": f"/staff/reception?site_id={c.hub.id}"},
    )
    assert done.status_code == 303
    await session.refresh(a)
    assert a.status == "arrived" and a.arrived_at is not None
    refused = await client.post(
        f"/staff/appointments/{a.id}/action", data={"csrf": csrf, "action": "finish"}
    )
    assert refused.status_code == 403
    no_csrf = await client.post(f"/staff/appointments/{a.id}/action", data={"action": "no_show"})
    assert no_csrf.status_code == 403


async def test_a_clinician_without_a_clinic_is_told(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, _ = await make_user(session, role="clinician")
    await make_clinician(session)
    await sign_in(client, user.email)
    page = await client.get("/staff/clinic")
    assert page.status_code == 403 and "not linked to a clinician" in page.text


# --- one row's buttons, and the screens' own error summaries -----------------------------------


def row_of(html: str, appointment_id: int) -> str:
    found = re.search(rf'<tr[^>]*data-appointment="{appointment_id}".*?</tr>', html, re.S)
    assert found, f"no row for appointment {appointment_id}"
    return found.group(0)


def offered(html: str, appointment_id: int) -> set[str]:
    """The actions a row's buttons would send."""
    return set(re.findall(r'name="action" value="([a-z_]+)"', row_of(html, appointment_id)))


def error_summary(html: str) -> dict[str, str]:
    """The page's NHS.UK error summary: each link's target and text."""
    summary = re.search(r'<div\s+class="nhsuk-error-summary".*?</ul>', html, re.S)
    assert summary, "no error summary on the page"
    return dict(re.findall(r'<li>\s*<a href="#([^"]+)"\s*>\s*([^<]+?)\s*</a>', summary.group(0)))


def in_minutes(minutes: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)


def just_started() -> datetime:
    """A start a moment ago on today's local date: every outcome is possible."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(minutes=2)
    return start if to_london(start).date() == to_london(now).date() else now


async def _my_clinic(session: AsyncSession) -> tuple[StaffUser, Clinic]:
    user, _ = await make_user(session, role="clinician")
    c = await make_clinic(session)
    c.clinician.user_id = user.id
    await session.flush()
    return user, c


async def _checked_in(session: AsyncSession, a: Appointment) -> None:
    """Checked in through the waiting room, whatever the hour (the rule is tested elsewhere)."""
    await clinic.apply(
        session,
        a,
        Action.CHECK_IN,
        actor="patient",
        actor_user_id=None,
        now=a.starts_at,
    )


async def test_telephone_instead_from_the_join_window_on(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user, c = await _my_clinic(session)
    patient = await make_patient(session)
    patient.mobile = "07700 900789"
    a = await make_appointment(session, c, start=in_minutes(20), patient=patient)
    await _checked_in(session, a)
    csrf = await sign_in(client, user.email)

    page = await client.get(
        "/staff/clinic", params={"date": to_london(a.starts_at).date().isoformat()}
    )
    assert {"start_call", "switch_to_phone"} <= offered(page.text, a.id)
    switched = await client.post(
        f"/staff/appointments/{a.id}/action",
        data={"csrf": csrf, "action": "switch_to_phone", "back": "/staff/clinic"},
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/staff/clinic"
    await session.refresh(a)
    assert a.medium == "telephone"

    table = await client.get(
        "/staff/clinic/table", params={"date": to_london(a.starts_at).date().isoformat()}
    )
    row = row_of(table.text, a.id)
    assert 'data-live="by_phone"' in row and "By telephone" in row
    assert "Start call" not in row and "start_call" not in offered(table.text, a.id)
    assert "switch_to_phone" not in offered(table.text, a.id)
    # The clinician is given the number to ring.
    assert 'href="tel:07700900789"' in row

    waiting = await client.get(join_path(settings, a) + "/wait")
    callout = re.search(r'<div class="[^"]*" id="by-phone"[^>]*>', waiting.text)
    assert callout and "hidden" not in callout.group(0)
    assert "will phone you on the number ending 789" in waiting.text
    assert "07700" not in waiting.text
    into_call = await client.get(join_path(settings, a) + "/call")
    assert into_call.status_code == 303 and "meet.jit.si" not in into_call.headers["location"]


async def test_a_call_started_early_can_be_rejoined_and_finished_before_its_start(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, c = await _my_clinic(session)
    a = await make_appointment(session, c, start=in_minutes(25))
    await _checked_in(session, a)
    csrf = await sign_in(client, user.email)
    day = {"date": to_london(a.starts_at).date().isoformat()}

    started = await client.post(
        f"/staff/appointments/{a.id}/action", data={"csrf": csrf, "action": "start_call"}
    )
    assert started.headers["location"].startswith(f"https://meet.jit.si/{a.video_room}")
    page = await client.get("/staff/clinic", params=day)
    assert "Rejoin call" in row_of(page.text, a.id)
    assert {"start_call", "finish"} <= offered(page.text, a.id)
    rejoined = await client.post(
        f"/staff/appointments/{a.id}/action", data={"csrf": csrf, "action": "start_call"}
    )
    assert rejoined.headers["location"].startswith(f"https://meet.jit.si/{a.video_room}")

    finished = await client.post(
        f"/staff/appointments/{a.id}/action",
        data={"csrf": csrf, "action": "finish", "back": "/staff/clinic"},
    )
    assert finished.status_code == 303 and finished.headers["location"] == "/staff/clinic"
    await session.refresh(a)
    assert a.status == "fulfilled" and a.finished_at is not None
    assert a.finished_at < a.starts_at


async def test_reception_is_offered_only_what_the_state_allows(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_clinic(session)
    user, _ = await make_user(session, role="reception", hubs=[c.hub])
    a = await make_appointment(session, c, start=just_started(), mode="video_site")
    csrf = await sign_in(client, user.email)
    screen = f"/staff/reception?site_id={c.hub.id}"

    async def press(action: str) -> httpx.Response:
        return await client.post(
            f"/staff/appointments/{a.id}/action",
            data={"csrf": csrf, "action": action, "back": screen},
        )

    assert offered((await client.get(screen)).text, a.id) == {"arrive", "check_in", "no_show"}
    assert (await press("arrive")).status_code == 303
    assert offered((await client.get(screen)).text, a.id) == {"check_in", "no_show"}
    assert (await press("check_in")).status_code == 303
    assert offered((await client.get(screen)).text, a.id) == {"no_show"}
    await clinic.apply(session, a, Action.START_CALL, actor="staff", actor_user_id=None)
    page = await client.get(screen)
    assert 'data-live="in_call"' in row_of(page.text, a.id)
    assert offered(page.text, a.id) == set()

    # A screen left open from before the call: the refusal comes back to the screen itself.
    stale = await press("no_show")
    assert stale.status_code == 303 and stale.headers["location"] == screen
    back = await client.get(screen)
    assert back.status_code == 200
    assert error_summary(back.text) == {f"appointment-{a.id}": "The patient is already in the call"}
    assert f'id="appointment-{a.id}"' in back.text
    assert "There is a problem" not in (await client.get(screen)).text  # said once
    await session.refresh(a)
    assert a.status == "checked-in"


async def test_the_api_keeps_its_error_code_for_a_refused_change(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_clinic(session)
    a = await make_appointment(session, c, start=soon(), mode="video_site")
    await _checked_in(session, a)
    _, headers = await make_user(session, role="reception", hubs=[c.hub])
    refused = await client.post(
        f"/api/v1/appointments/{a.id}/status", json={"action": "arrive"}, headers=headers
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "invalid_status"
    assert error["message"] == "This appointment has already been checked in"


async def test_the_clinic_picker_names_only_the_clinician_it_lists(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin, _ = await make_user(session, role="admin")
    c = await make_clinic(session)
    a = await make_appointment(session, c, start=soon())
    await sign_in(client, admin.email)
    page = await client.get("/staff/clinic")
    assert page.status_code == 200
    assert "<h1>Clinic</h1>" in page.text
    assert re.search(r'<option value=""\s+selected\s*>Choose a clinician</option>', page.text)
    assert not re.search(r'<option value="\d+"\s+selected\s*>', page.text)
    assert 'id="clinic-table"' not in page.text
    assert "Choose a clinician and a date" in page.text

    chosen = await client.get(f"/staff/clinic?clinician_id={c.clinician.id}")
    assert f"<h1>{c.clinician.name}'s clinic</h1>" in chosen.text
    assert re.search(
        rf'<option value="{c.clinician.id}"\s+selected\s*>{c.clinician.name}</option>', chosen.text
    )
    assert f'data-appointment="{a.id}"' in chosen.text


CLINIC_BAD = [
    ({"date": "24/11/2026"}, "date", "Date must be a real date, for example 2026-11-24"),
    ({"date": "9999-12-31"}, "date", "Date must be between 1 January 1900 and 31 December 2999"),
    ({"clinician_id": "abc"}, "clinician_id", "Select a clinician from the list"),
    ({"clinician_id": "2147483648"}, "clinician_id", "Select a clinician from the list"),
    ({"clinician_id": "9" * 20}, "clinician_id", "Select a clinician from the list"),
    ({"clinician_id": "2147483647"}, "clinician_id", "Select a clinician from the list"),
    ({"status": "bogus"}, "status", "Select which appointments to show from the list"),
]


@pytest.mark.parametrize(("query", "field", "message"), CLINIC_BAD)
async def test_bad_input_on_the_clinic_screen_is_shown_on_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    query: dict[str, str],
    field: str,
    message: str,
) -> None:
    admin, _ = await make_user(session, role="admin")
    c = await make_clinic(session)
    await sign_in(client, admin.email)
    page = await client.get("/staff/clinic", params={"clinician_id": c.clinician.id, **query})
    assert page.status_code == 422
    assert error_summary(page.text) == {field: message}
    assert re.search(rf'<span class="nhsuk-error-message" id="{field}-error"\s*>', page.text)
    assert re.search(
        rf'<(input|select)[^>]* id="{field}"[^>]* aria-describedby="{field}-error"', page.text
    )
    assert '<form method="get" action="/staff/clinic"' in page.text  # still usable
    assert "<title>Error: Clinic" in page.text and "<h1>Clinic</h1>" in page.text
    params: dict[str, str | int] = {"clinician_id": c.clinician.id, **query}
    assert (await client.get("/staff/clinic/table", params=params)).status_code == 422
    if field == "clinician_id":
        assert (await client.get("/staff/clinic/events", params=params)).status_code == 422


async def test_the_clinic_screen_filters_by_state(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, c = await _my_clinic(session)
    waiting = await make_appointment(session, c, start=soon())
    await _checked_in(session, waiting)
    other = await make_appointment(session, c, start=waiting.starts_at + timedelta(minutes=20))
    await sign_in(client, user.email)
    day = to_london(waiting.starts_at).date().isoformat()
    page = await client.get("/staff/clinic", params={"status": "waiting", "date": day})
    assert f'data-appointment="{waiting.id}"' in page.text
    assert f'data-appointment="{other.id}"' not in page.text
    assert re.search(r'<option value="waiting"\s+selected\s*>Waiting</option>', page.text)
    assert "status=waiting" in page.text  # the live re-fetch asks for the same


RECEPTION_BAD = [
    ({"date": "2026-02-30"}, "date", "Date must be a real date, for example 2026-11-24"),
    ({"date": "9999-12-31"}, "date", "Date must be between 1 January 1900 and 31 December 2999"),
    ({"site_id": "hub"}, "site_id", "Select a community hub from the list"),
    ({"site_id": "2147483648"}, "site_id", "Select a community hub from the list"),
    ({"site_id": "HOSPITAL"}, "site_id", "Select a community hub from the list"),
    ({"status": "in call"}, "status", "Select which appointments to show from the list"),
]


@pytest.mark.parametrize(("query", "field", "message"), RECEPTION_BAD)
async def test_bad_input_on_the_reception_screen_is_shown_on_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    query: dict[str, str],
    field: str,
    message: str,
) -> None:
    c = await make_clinic(session)
    user, _ = await make_user(session, role="reception", hubs=[c.hub])
    if query.get("site_id") == "HOSPITAL":  # a real site, but not a hub
        query = {"site_id": str(c.hospital.id)}
    await sign_in(client, user.email)
    page = await client.get("/staff/reception", params={"site_id": c.hub.id, **query})
    assert page.status_code == 422
    assert error_summary(page.text) == {field: message}
    assert re.search(
        rf'<(input|select)[^>]* id="{field}"[^>]* aria-describedby="{field}-error"', page.text
    )
    assert f'<option value="{c.hub.id}"' in page.text  # the hub list is still there to pick
    assert "<h1>Reception</h1>" in page.text
    table = await client.get("/staff/reception/table", params={"site_id": c.hub.id, **query})
    assert table.status_code == 422
    if field == "site_id":
        events = await client.get("/staff/reception/events", params=query)
        assert events.status_code == 422


async def test_a_button_for_an_appointment_id_beyond_the_columns_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, _ = await make_user(session, role="admin")
    csrf = await sign_in(client, user.email)
    for path in ("action", "message"):
        response = await client.post(
            f"/staff/appointments/{2**31}/{path}",
            data={"csrf": csrf, "action": "finish", "message": "hello"},
        )
        assert response.status_code == 404 and "Page not found" in response.text


async def test_an_empty_message_is_shown_beside_its_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, c = await _my_clinic(session)
    a = await make_appointment(session, c, start=soon())
    csrf = await sign_in(client, user.email)
    sent = await client.post(
        f"/staff/appointments/{a.id}/message",
        data={"csrf": csrf, "message": "  ", "back": "/staff/clinic"},
    )
    assert sent.status_code == 303
    page = await client.get("/staff/clinic")
    assert error_summary(page.text) == {f"message-{a.id}": "Enter a message"}


async def test_the_clinic_and_reception_rows_show_the_patients_access_needs(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, c = await _my_clinic(session)
    patient = await make_patient(session)
    patient.access_needs = "Hard of hearing: please turn on captions"
    a = await make_appointment(session, c, start=in_minutes(20), patient=patient, mode="video_site")
    await sign_in(client, user.email)
    day = to_london(a.starts_at).date().isoformat()
    table = await client.get("/staff/clinic/table", params={"date": day})
    assert "please turn on captions" in row_of(table.text, a.id)
    desk, _ = await make_user(session, role="reception", hubs=[c.hub])
    other = httpx.AsyncClient(transport=client._transport, base_url="http://test")
    await sign_in(other, desk.email)
    listed = await other.get("/staff/reception/table", params={"date": day, "site_id": c.hub.id})
    await other.aclose()
    assert "please turn on captions" in row_of(listed.text, a.id)


LONDON = ZoneInfo("Europe/London")


async def test_the_clinic_marks_an_appointment_that_leave_now_falls_over(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, c = await _my_clinic(session)
    day = to_london(datetime.now(UTC)).date() + timedelta(days=2)
    start = datetime.combine(day, time(10), LONDON).astimezone(UTC)
    a = await make_appointment(session, c, start=start)
    other = await make_appointment(session, c, start=start + timedelta(hours=1))
    _, admin = await make_user(session, role="admin")
    leave = await client.post(
        f"/api/v1/clinicians/{c.clinician.id}/exceptions",
        json={
            "kind": "leave",
            "start_date": day.isoformat(),
            "start_time": "10:00",
            "end_time": "10:30",
            "reason": "Training",
        },
        headers=admin,
    )
    assert leave.status_code == 201, leave.text
    await sign_in(client, user.email)
    table = await client.get(
        "/staff/clinic/table", params={"date": to_london(a.starts_at).date().isoformat()}
    )
    marked = re.findall(r"To rebook: ([^<]+)", row_of(table.text, a.id))
    # The hour after is outside this test clinic's Tuesday session, but not on leave.
    assert any("leave" in m for m in marked), marked
    assert not any(
        "leave" in m for m in re.findall(r"To rebook: ([^<]+)", row_of(table.text, other.id))
    )


async def test_an_in_person_row_offers_no_message_to_a_waiting_room(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, c = await _my_clinic(session)
    a = await make_appointment(session, c, start=in_minutes(20), mode="in_person")
    await sign_in(client, user.email)
    table = await client.get(
        "/staff/clinic/table", params={"date": to_london(a.starts_at).date().isoformat()}
    )
    assert "Message to the waiting patient" not in row_of(table.text, a.id)
