"""Staff screens: sign in, the clinician's clinic, reception at a hub, and their buttons."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import clinic
from tests.builders import make_appointment, make_clinic, make_clinician, make_user
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

    await clinic.apply(session, a, clinic.Action.CHECK_IN, actor="patient", actor_user_id=None)
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
