"""The availability pages: a clinician sees their own week and changes it; leave or a removed
session over booked appointments is shown with those appointments and saved only when
confirmed; navigators look but do not change; bad input is named and kept."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import ClinicianSession, Leave
from scheduling.slots import london_datetime
from tests.builders import (
    Clinic,
    book_via_service,
    make_clinic,
    make_patient,
    make_user,
    next_weekday,
)
from tests.telehealth.video.test_clinic_pages import sign_in

DAY = next_weekday(1, weeks=2)  # a Tuesday of make_clinic's 09:00-12:00 session


async def _clinician(session: AsyncSession, client: httpx.AsyncClient) -> tuple[Clinic, str]:
    clinic = await make_clinic(session)
    user, _ = await make_user(session, role="clinician")
    clinic.clinician.user_id = user.id
    await session.flush()
    return clinic, await sign_in(client, user.email)


def _date(name: str, day: date) -> dict[str, str]:
    """The NHS date input's three boxes, as the browser sends them."""
    return {
        f"{name}[day]": str(day.day),
        f"{name}[month]": str(day.month),
        f"{name}[year]": str(day.year),
    }


async def _leave_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Leave)) or 0)


async def test_a_clinician_sees_their_week_with_sessions_and_bookings(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, _ = await _clinician(session, client)
    patient = await make_patient(session)
    await book_via_service(
        session, clinic, london_datetime(DAY, time(9, 20)), patient_id=patient.id
    )
    page = await client.get(f"/staff/availability?week={DAY.isoformat()}")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "9am to midday (weekly)" in text
    assert "Booked (1)" in text and "9:20am to 9:40am" in text
    assert f"week={(DAY - timedelta(days=8)).isoformat()}" in page.text  # the Monday before


async def test_leave_over_a_booking_is_shown_and_added_only_when_confirmed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, csrf = await _clinician(session, client)
    patient = await make_patient(session)
    booked = await book_via_service(
        session, clinic, london_datetime(DAY, time(10)), patient_id=patient.id
    )
    form = {
        "csrf": csrf,
        **_date("start", DAY),
        "start_time": "9:30am",
        "end_time": "11:00",
        "reason": "Training",
    }
    check = await client.post("/staff/availability/leave", data=form)
    assert check.status_code == 200
    assert "falls over 1 booked appointment" in check.text and booked.reference in check.text
    assert await _leave_count(session) == 0  # asked, not saved
    confirmed = await client.post("/staff/availability/leave", data={**form, "confirm": "yes"})
    assert confirmed.status_code == 303
    assert "done=leave" in confirmed.headers["location"]
    leave = (await session.scalars(select(Leave))).one()
    assert (leave.starts_at, leave.ends_at) == (
        london_datetime(DAY, time(9, 30)),
        london_datetime(DAY, time(11)),
    )
    week = await client.get(confirmed.headers["location"])
    assert "Your leave is added." in week.text and "9:30am to 11am" in week.text
    removed = await client.post(
        f"/staff/availability/leave/{leave.id}/remove", data={"csrf": csrf, "week": DAY.isoformat()}
    )
    assert removed.status_code == 303 and await _leave_count(session) == 0


async def test_leave_with_no_clash_is_added_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, csrf = await _clinician(session, client)
    later = DAY + timedelta(days=1)
    added = await client.post(
        "/staff/availability/leave",
        data={
            "csrf": csrf,
            **_date("start", DAY),
            **_date("end", later),
        },
    )
    assert added.status_code == 303 and await _leave_count(session) == 1


async def test_bad_leave_is_named_and_what_was_typed_kept(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, csrf = await _clinician(session, client)
    bad = await client.post(
        "/staff/availability/leave",
        data={
            "csrf": csrf,
            "start[day]": "31",
            "start[month]": "2",
            "start[year]": "2027",
            "start_time": "noonish",
            "end_time": "1pm",
        },
    )
    assert bad.status_code == 422
    assert 'href="#start-day"' in bad.text and "Start date must be a real date" in bad.text
    assert 'href="#start_time"' in bad.text and 'value="noonish"' in bad.text
    backwards = await client.post(
        "/staff/availability/leave",
        data={"csrf": csrf, **_date("start", DAY), **_date("end", DAY - timedelta(days=2))},
    )
    assert backwards.status_code == 422
    assert "End date must not be before the start date" in backwards.text
    assert await _leave_count(session) == 0


async def test_a_weekly_session_is_added_and_removing_a_booked_one_asks_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, csrf = await _clinician(session, client)
    monday = DAY - timedelta(days=1)
    added = await client.post(
        "/staff/availability/sessions",
        data={
            "csrf": csrf,
            "kind": "weekly",
            "weekday": "0",
            **_date("from", monday),
            "start_time": "2pm",
            "end_time": "17:00",
            "modes": ["video_home"],
            "service_ids": [str(clinic.service.id)],
        },
    )
    assert added.status_code == 303, added.text
    sessions = list(await session.scalars(select(ClinicianSession).order_by(ClinicianSession.id)))
    assert (sessions[-1].weekday, sessions[-1].start_time, sessions[-1].end_time) == (
        0,
        time(14),
        time(17),
    )
    patient = await make_patient(session)
    await book_via_service(session, clinic, london_datetime(DAY, time(9)), patient_id=patient.id)
    path = f"/staff/availability/sessions/{clinic.session.id}/remove"
    asked = await client.post(path, data={"csrf": csrf, "week": DAY.isoformat()})
    assert asked.status_code == 200 and "outside your hours" in asked.text
    assert await session.get(ClinicianSession, clinic.session.id) is not None
    done = await client.post(path, data={"csrf": csrf, "week": DAY.isoformat(), "confirm": "yes"})
    assert done.status_code == 303
    session.expunge_all()
    assert await session.get(ClinicianSession, clinic.session.id) is None


async def test_a_session_naming_a_mode_its_service_lacks_is_refused_by_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, csrf = await _clinician(session, client)
    clinic.service.modes = ["video_home"]
    await session.flush()
    refused = await client.post(
        "/staff/availability/sessions",
        data={
            "csrf": csrf,
            "kind": "one_off",
            **_date("on", DAY + timedelta(days=2)),
            "start_time": "9am",
            "end_time": "8am",
            "modes": ["video_home"],
            "service_ids": [str(clinic.service.id)],
        },
    )
    assert refused.status_code == 422 and 'href="#end_time"' in refused.text
    refused = await client.post(
        "/staff/availability/sessions",
        data={
            "csrf": csrf,
            "kind": "one_off",
            **_date("on", DAY + timedelta(days=2)),
            "start_time": "9am",
            "end_time": "10am",
            "modes": ["in_person"],
            "service_ids": [str(clinic.service.id)],
            "site_id": str(clinic.hospital.id),
        },
    )
    assert refused.status_code == 422 and 'href="#modes"' in refused.text


async def test_navigators_look_but_do_not_change_and_unlinked_clinicians_are_told(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    navigator, _ = await make_user(session, role="navigator")
    csrf = await sign_in(client, navigator.email)
    chooser = await client.get("/staff/availability")
    assert chooser.status_code == 200 and clinic.clinician.name in chooser.text
    week = await client.get(f"/staff/availability?clinician_id={clinic.clinician.id}")
    assert week.status_code == 200 and "Add leave" not in week.text
    refused = await client.post(
        "/staff/availability/leave",
        data={"csrf": csrf, "clinician_id": str(clinic.clinician.id), **_date("start", DAY)},
    )
    assert refused.status_code == 403
    assert (await client.get("/staff/availability?clinician_id=abc")).status_code == 422
    assert (await client.get("/staff/availability?clinician_id=0")).status_code == 422
    # A valid id that names nothing is a 404, as everywhere else.
    assert (await client.get("/staff/availability?clinician_id=99999")).status_code == 404
    unlinked, _ = await make_user(session, role="clinician")
    other = httpx.AsyncClient(transport=client._transport, base_url="http://test")
    await sign_in(other, unlinked.email)
    told = await other.get("/staff/availability")
    assert told.status_code == 403 and "not linked to a clinician record" in told.text


async def test_the_calendar_feed_link_is_shown_once_and_serves_the_clinicians_calendar(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, csrf = await _clinician(session, client)
    shown = await client.post("/staff/availability/calendar-feed", data={"csrf": csrf})
    assert shown.status_code == 200
    found = re.search(r"<code>https?://[^/]+(/calendar/[^<]+\.ics)</code>", shown.text)
    assert found, shown.text
    feed = await client.get(found.group(1))
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
    again = await client.post("/staff/availability/calendar-feed", data={"csrf": csrf})
    assert again.status_code == 200
    assert (await client.get(found.group(1))).status_code == 404  # the old link stops working
