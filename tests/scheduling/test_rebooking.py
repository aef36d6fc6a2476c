"""Leave, room closures and removed sessions over booked appointments: answered with the
appointments they clash with, listed to rebook, marked for the clinic screen; on both
databases. Nothing here moves or cancels an appointment."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.fit import Reason
from scheduling.rebooking import clashes_for_day
from scheduling.slots import london_datetime
from tests.builders import (
    book_via_api,
    make_appointment,
    make_clinic,
    make_session,
    make_user,
    next_weekday,
)

DAY = next_weekday(1, weeks=2)  # make_clinic's Tuesday 09:00-12:00 session


def _at(hour: int, minute: int = 0, day: Any = DAY) -> datetime:
    return london_datetime(day, time(hour, minute))


def _ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["appointment"]["id"] for item in items]


async def test_leave_over_booked_appointments_answers_with_them_and_lists_them_to_rebook(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, admin = await make_user(session, role="admin")
    _, navigator = await make_user(session, role="navigator")
    early = await book_via_api(client, session, navigator, clinic, _at(9))
    during = await book_via_api(client, session, navigator, clinic, _at(10, 40))
    after = await book_via_api(client, session, navigator, clinic, _at(11, 20))
    leave = await client.post(
        f"/api/v1/clinicians/{clinic.clinician.id}/exceptions",
        json={"start_date": str(DAY), "start_time": "10:00", "end_time": "11:00"},
        headers=admin,
    )
    assert leave.status_code == 201, leave.text
    affected = leave.json()["appointments_affected"]
    assert _ids(affected) == [during["id"]]
    assert [c["reason"] for c in affected[0]["clashes"]] == ["leave"]
    assert affected[0]["appointment"]["status"] == "booked"
    # A whole day's leave the week after, over nothing, answers with nothing.
    free = await client.post(
        f"/api/v1/clinicians/{clinic.clinician.id}/exceptions",
        json={"start_date": str(DAY + timedelta(days=7))},
        headers=admin,
    )
    assert free.json()["appointments_affected"] == []

    listed = await client.get("/api/v1/appointments/to-rebook", headers=navigator)
    assert listed.status_code == 200, listed.text
    assert _ids(listed.json()["items"]) == [during["id"]]
    for booked in (early, during, after):
        now = await client.get(f"/api/v1/appointments/{booked['id']}", headers=navigator)
        assert now.json() == booked, "still booked, at its time"
    marked = await clashes_for_day(session, clinic.clinician.id, DAY)
    assert {i: [c.reason for c in cs] for i, cs in marked.items()} == {during["id"]: [Reason.LEAVE]}
    assert await clashes_for_day(session, clinic.clinician.id, DAY + timedelta(days=1)) == {}


async def test_a_room_closure_and_a_removed_session_put_appointments_on_the_list(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session, rooms=1)
    _, admin = await make_user(session, role="admin")
    afternoon = await make_session(
        session,
        clinician=clinic.clinician,
        services=[clinic.service],
        weekday=1,
        start=time(13),
        end=time(15),
        valid_from=DAY - timedelta(days=1),
        modes=("video_home",),
    )
    at_hub = await book_via_api(
        client, session, admin, clinic, _at(9), mode="video_site", site_id=clinic.hub.id
    )
    at_home = await book_via_api(client, session, admin, clinic, _at(13))
    room = at_hub["room_id"]
    closed = await client.post(
        f"/api/v1/sites/{clinic.hub.id}/rooms/{room}/closures",
        json={"start": _at(8).isoformat(), "end": _at(12).isoformat(), "reason": "Broken"},
        headers=admin,
    )
    assert closed.status_code == 201 and closed.json()["to_rebook"] == [at_hub["id"]]

    removed = await client.delete(
        f"/api/v1/clinicians/{clinic.clinician.id}/sessions/{afternoon.id}", headers=admin
    )
    assert removed.status_code == 200, removed.text
    affected = removed.json()["appointments_affected"]
    assert _ids(affected) == [at_home["id"]]
    assert [c["reason"] for c in affected[0]["clashes"]] == ["outside_sessions"]

    listed = (await client.get("/api/v1/appointments/to-rebook", headers=admin)).json()
    reasons = {i["appointment"]["id"]: [c["reason"] for c in i["clashes"]] for i in listed["items"]}
    assert reasons == {at_hub["id"]: ["room_closed"], at_home["id"]: ["outside_sessions"]}
    assert all(c["message"] for i in listed["items"] for c in i["clashes"])
    # Filters, and a page of them.
    query: dict[str, int | str] = {
        "clinician_id": clinic.clinician.id,
        "start": str(DAY),
        "end": str(DAY),
    }
    page = await client.get(
        "/api/v1/appointments/to-rebook", params=query | {"limit": 1, "offset": 1}, headers=admin
    )
    assert _ids(page.json()["items"]) == [at_home["id"]]
    later = await client.get(
        "/api/v1/appointments/to-rebook",
        params={"start": str(DAY + timedelta(days=1)), "end": "2999-12-31"},
        headers=admin,
    )
    assert later.status_code == 200 and later.json()["items"] == []
    # Past the dates any booking can have (telehealth.kernel.inputs): named, not an overflow.
    beyond = await client.get(
        "/api/v1/appointments/to-rebook", params={"end": "9999-12-31"}, headers=admin
    )
    assert beyond.status_code == 422 and "end" in beyond.json()["error"]["fields"]
    backwards = await client.get(
        "/api/v1/appointments/to-rebook",
        params={"start": str(DAY), "end": str(DAY - timedelta(days=1))},
        headers=admin,
    )
    assert backwards.status_code == 422 and "end" in backwards.json()["error"]["fields"]
    marked = await clashes_for_day(session, clinic.clinician.id, DAY)
    assert set(marked) == {at_hub["id"], at_home["id"]}


async def test_the_list_leaves_out_the_past_and_the_no_longer_booked(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, admin = await make_user(session, role="admin")
    yesterday = datetime.now().date() - timedelta(days=1)
    await client.post(
        f"/api/v1/clinicians/{clinic.clinician.id}/exceptions",
        json={"start_date": str(yesterday - timedelta(days=1)), "end_date": str(DAY)},
        headers=admin,
    )
    await make_appointment(session, clinic, start=_at(9, day=yesterday))
    cancelled = await make_appointment(session, clinic, start=_at(9), status="cancelled")
    booked = await make_appointment(session, clinic, start=_at(9, 20))
    listed = (await client.get("/api/v1/appointments/to-rebook", headers=admin)).json()
    assert _ids(listed["items"]) == [booked.id]
    assert cancelled.id not in await clashes_for_day(session, clinic.clinician.id, DAY)
    _, analyst = await make_user(session, role="analyst")
    refused = await client.get("/api/v1/appointments/to-rebook", headers=analyst)
    assert refused.status_code == 403
