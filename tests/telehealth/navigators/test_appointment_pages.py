"""Cancelling and moving an appointment on the patient's behalf: by a navigator (named as the
actor), not bound by the online notice period, a time taken meanwhile sent back to the times
with a message, and refused to clinicians, reception and analysts."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment
from scheduling.slots import to_london
from telehealth.kernel.db import utcnow
from tests.builders import book_via_service, make_appointment, make_patient, tuesday_at
from tests.builders_journey import with_travel
from tests.builders_navpatients import audited, make_booked, radio_values, signed_in_as


def _label(start_hour: int, minute: int) -> str:
    day = to_london(tuesday_at(9)).date()
    suffix = f"{start_hour}:{minute:02d}am" if minute else f"{start_hour}am"
    return f"{day:%A} {day.day} {day:%B}, {suffix}"


async def test_a_navigator_cancels_with_a_reason_inside_the_online_notice_period(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    booked.clinic.service.change_notice_minutes = 2880  # patients: 2 days ahead at the latest
    soon = await make_appointment(
        session, booked.clinic, start=utcnow() + timedelta(hours=3), patient=booked.patient
    )
    user, csrf = await signed_in_as(client, session)
    page = await client.get(f"/staff/appointments/{soon.id}/cancel")
    assert page.status_code == 200, page.text
    assert "Why is the appointment being cancelled?" in page.text and soon.reference in page.text
    assert radio_values(page.text, "reason") == [
        "patient_asked",
        "not_needed",
        "clinician",
        "other",
    ]
    path = f"/staff/appointments/{soon.id}/cancel"
    none = await client.post(path, data={"csrf": csrf})
    assert none.status_code == 422 and 'href="#reason"' in none.text
    other = await client.post(path, data={"csrf": csrf, "reason": "other"})
    assert other.status_code == 422 and 'href="#details"' in other.text
    done = await client.post(
        path, data={"csrf": csrf, "reason": "patient_asked", "details": "Moving away"}
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/staff/patients/{booked.patient.id}?done=cancelled"
    await session.refresh(soon)
    assert soon.status == "cancelled"
    [audit] = await audited(session, user, "appointment.cancel")
    assert audit.entity_id == soon.id
    shown = await client.get(done.headers["location"])
    assert "The appointment has been cancelled." in shown.text
    again = await client.get(path)
    assert (
        "This appointment cannot be cancelled" in again.text
        and "<form" not in again.text.split("<main", 1)[1].split("</main>")[0]
    )
    twice = await client.post(path, data={"csrf": csrf, "reason": "patient_asked"})
    assert twice.status_code == 422 and 'href="#reason"' in twice.text


async def test_a_navigator_moves_an_appointment_choosing_a_day_then_a_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    a = booked.appointment
    user, csrf = await signed_in_as(client, session)
    days = await client.get(f"/staff/appointments/{a.id}/move")
    assert days.status_code == 200, days.text
    assert radio_values(days.text, "how")[0] == "video_home"  # its own way first
    day = to_london(a.starts_at).date()
    assert f"day={day.isoformat()}" in html.unescape(days.text)
    times = await client.get(
        f"/staff/appointments/{a.id}/move", params={"how": "video_home", "day": day.isoformat()}
    )
    assert times.status_code == 200, times.text
    assert f">\n    {_label(9, 20)}\n" in times.text or _label(9, 20) in times.text
    values = radio_values(times.text, "slot")
    assert values and not any(v.startswith(a.starts_at.isoformat()) for v in values)
    nothing = await client.post(
        f"/staff/appointments/{a.id}/move/confirm",
        data={"csrf": csrf, "how": "video_home", "day": day.isoformat()},
    )
    assert nothing.status_code == 422 and 'href="#slot"' in nothing.text
    moved = await client.post(
        f"/staff/appointments/{a.id}/move/confirm",
        data={"csrf": csrf, "how": "video_home", "day": day.isoformat(), "slot": values[0]},
    )
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"/staff/patients/{booked.patient.id}?done=moved"
    await session.refresh(a)
    assert a.starts_at == tuesday_at(9, 20) and a.sequence == 1 and a.mode == "video_home"
    [audit] = await audited(session, user, "appointment.reschedule")
    assert audit.entity_id == a.id


async def test_a_move_can_change_how_they_are_seen(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    a, hub = booked.appointment, booked.clinic.hub
    _, csrf = await signed_in_as(client, session)
    days = await client.get(f"/staff/appointments/{a.id}/move")
    how = f"video_site:{hub.id}"
    assert how in radio_values(days.text, "how")
    day = to_london(a.starts_at).date().isoformat()
    times = await client.get(f"/staff/appointments/{a.id}/move", params={"how": how, "day": day})
    values = radio_values(times.text, "slot")
    assert values[0].startswith(tuesday_at(9, 20).isoformat())  # its clinician is busy at 9
    moved = await client.post(
        f"/staff/appointments/{a.id}/move/confirm",
        data={"csrf": csrf, "how": how, "day": day, "slot": values[0]},
    )
    assert moved.status_code == 303, moved.text
    await session.refresh(a)
    assert (a.mode, a.site_id, a.starts_at) == ("video_site", hub.id, tuesday_at(9, 20))
    assert a.room_id is not None


async def test_a_time_taken_meanwhile_goes_back_to_the_times_with_a_message(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    a = booked.appointment
    _, csrf = await signed_in_as(client, session)
    day = to_london(a.starts_at).date().isoformat()
    times = await client.get(
        f"/staff/appointments/{a.id}/move", params={"how": "video_home", "day": day}
    )
    wanted = radio_values(times.text, "slot")[0]
    other = await make_patient(session)
    await book_via_service(session, booked.clinic, tuesday_at(9, 20), patient_id=other.id)
    refused = await client.post(
        f"/staff/appointments/{a.id}/move/confirm",
        data={"csrf": csrf, "how": "video_home", "day": day, "slot": wanted},
    )
    assert refused.status_code == 409, refused.text
    assert "That time has just been taken: choose another time" in refused.text
    assert 'href="#slot"' in refused.text
    left = radio_values(refused.text, "slot")
    assert left and wanted not in left
    await session.refresh(a)
    assert (a.starts_at, a.sequence) == (tuesday_at(9), 0)


@pytest.mark.parametrize("role", ["clinician", "reception", "analyst"])
async def test_other_roles_cannot_cancel_or_move(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    booked = await make_booked(session)
    a = booked.appointment
    _, csrf = await signed_in_as(client, session, role)
    base = f"/staff/appointments/{a.id}"
    for path in (f"{base}/cancel", f"{base}/move"):
        assert (await client.get(path)).status_code == 403, path
    cancelled = await client.post(f"{base}/cancel", data={"csrf": csrf, "reason": "patient_asked"})
    assert cancelled.status_code == 403
    moved = await client.post(
        f"{base}/move/confirm",
        data={"csrf": csrf, "how": "video_home", "slot": f"{tuesday_at(10).isoformat()}|1|"},
    )
    assert moved.status_code == 403
    fresh = await session.get(Appointment, a.id)
    assert fresh is not None
    await session.refresh(fresh)
    assert (fresh.status, fresh.starts_at) == ("booked", tuesday_at(9))


async def test_the_move_page_says_what_each_way_means_in_travel(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    clinic = booked.clinic
    await with_travel(session, clinic, booked.patient)
    await signed_in_as(client, session)
    days = await client.get(f"/staff/appointments/{booked.appointment.id}/move")
    assert days.status_code == 200, days.text
    hints = dict(
        re.findall(
            r'value="([^"]+)"[^>]*>\s*<label[^>]*>\s*[^<]*</label>\s*<div[^>]*>\s*([^<]+?)\s*</div>',
            days.text,
        )
    )
    assert hints["video_home"] == "No travel"
    # The patient's own words (Barrow to Morecambe, and to Lancaster), one way by road.
    assert re.fullmatch(
        rf"\d+ miles to {clinic.hub.name}, about .+", hints[f"video_site:{clinic.hub.id}"]
    )
    assert re.fullmatch(
        rf"\d+ miles to {clinic.hospital.name}, about .+", hints[f"in_person:{clinic.hospital.id}"]
    )
