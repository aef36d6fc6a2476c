"""The appointments to rebook: each with why and up to three other free times of its service,
as one-click buttons that really move it (or say the time was taken meanwhile)."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.slots import to_london
from telehealth.navigators.free_times import slot_label
from tests.builders import book_via_service, make_patient, tuesday_at
from tests.builders_navpatients import audited, make_booked, make_leave, signed_in_as


def _buttons(page: str) -> list[tuple[str, dict[str, str], str]]:
    """Each one-click form: where it posts, its hidden fields and its button's words."""
    found = []
    for action, body in re.findall(
        r'<form method="post" action="([^"]+/move/confirm)"[^>]*>(.*?)</form>', page, re.S
    ):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
        words = re.search(r"<button[^>]*>\s*(.*?)\s*</button>", body, re.S)
        assert words
        found.append((action, fields, words.group(1)))
    return found


async def test_leave_over_an_appointment_lists_it_with_three_times_that_move_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    a = booked.appointment
    await make_leave(session, booked.clinic, tuesday_at(9), hours=3)
    fits = await make_booked(
        session, clinic=booked.clinic, nhs_number=None, start=tuesday_at(9, weeks=3)
    )
    user, csrf = await signed_in_as(client, session)
    page = await client.get("/staff/to-rebook")
    assert page.status_code == 200, page.text
    assert "<title>To rebook \u2013 Bay Telehealth \u2013 NHS</title>" in page.text
    assert a.reference in page.text and fits.appointment.reference not in page.text
    assert "leave" in page.text.lower()
    assert f'href="/staff/patients/{booked.patient.id}"' in page.text
    buttons = _buttons(page.text)
    assert len(buttons) == 3
    action, fields, words = buttons[0]
    assert action == f"/staff/appointments/{a.id}/move/confirm"
    start = fields["slot"].split("|")[0]
    first = datetime.fromisoformat(start)
    assert words == f"Move to {slot_label(first)}"
    assert first < tuesday_at(9)  # a week sooner, before the leave
    [listed] = await audited(session, user, "appointment.list")
    assert listed.detail == {"to_rebook": [a.id]}
    moved = await client.post(action, data={**fields, "csrf": csrf})
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"/staff/to-rebook?moved={a.id}"
    await session.refresh(a)
    assert (a.starts_at, a.mode, a.status) == (first, "video_home", "booked")
    after = await client.get(moved.headers["location"])
    assert f"is now on {to_london(first).strftime('%A')}" in after.text
    assert "No appointments to rebook." in after.text


async def test_two_appointments_to_rebook_are_offered_different_times(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first = await make_booked(session)
    second = await make_booked(
        session, clinic=first.clinic, nhs_number=None, start=tuesday_at(9, 20)
    )
    await make_leave(session, first.clinic, tuesday_at(9), hours=3)
    await signed_in_as(client, session)
    page = await client.get("/staff/to-rebook")
    buttons = _buttons(page.text)
    assert len(buttons) == 6
    mine: dict[str, set[str]] = {b[0]: set() for b in buttons}
    for action, fields, _ in buttons:
        mine[action].add(fields["slot"])
    a1 = f"/staff/appointments/{first.appointment.id}/move/confirm"
    a2 = f"/staff/appointments/{second.appointment.id}/move/confirm"
    assert len(mine[a1]) == 3 and len(mine[a2]) == 3 and not mine[a1] & mine[a2]


async def test_a_time_taken_since_the_page_was_shown_says_so(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    a = booked.appointment
    await make_leave(session, booked.clinic, tuesday_at(9), hours=3)
    _, csrf = await signed_in_as(client, session)
    page = await client.get("/staff/to-rebook")
    action, fields, _ = _buttons(page.text)[0]
    taken = datetime.fromisoformat(fields["slot"].split("|")[0])
    other = await make_patient(session)
    await book_via_service(session, booked.clinic, taken, patient_id=other.id)
    refused = await client.post(action, data={**fields, "csrf": csrf})
    assert refused.status_code == 409, refused.text
    assert "That time has just been taken: choose another time" in refused.text
    await session.refresh(a)
    assert a.starts_at == tuesday_at(9)


@pytest.mark.parametrize("role", ["clinician", "reception", "analyst"])
async def test_other_roles_cannot_see_what_to_rebook(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    booked = await make_booked(session)
    await make_leave(session, booked.clinic, tuesday_at(9), hours=3)
    await signed_in_as(client, session, role)
    page = await client.get("/staff/to-rebook")
    assert page.status_code == 403 and booked.appointment.reference not in page.text
