"""Community hub video rooms: capacity under concurrent bookings, and rooms out of service."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment
from scheduling.slots import london_datetime
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import make_clinic, make_clinician, make_session, make_user, next_weekday
from tests.servers import running_servers

ROOMS = 3


async def test_n_rooms_take_n_concurrent_bookings_and_refuse_the_next(
    fresh_database: str, project_root: Path
) -> None:
    engine = create_engine(fresh_database)
    async with make_sessionmaker(engine)() as session, session.begin():
        c = await make_clinic(session, rooms=ROOMS)
        clinicians = [c.clinician]
        for _ in range(ROOMS):
            other = await make_clinician(session, organisation=c.organisation)
            await make_session(
                session,
                clinician=other,
                services=[c.service],
                weekday=1,
                valid_from=date.today(),
                hubs=[c.hub],
            )
            clinicians.append(other)
        _, headers = await make_user(session, role="navigator")
    start = london_datetime(next_weekday(1, weeks=2), clock(9))

    def body(n: int) -> dict[str, object]:
        return {
            "service_id": c.service.id,
            "clinician_id": clinicians[n].id,
            "start": start.isoformat(),
            "mode": "video_site",
            "site_id": c.hub.id,
            "patient": {
                "given_name": f"P{n}",
                "family_name": "Roomtest",
                "date_of_birth": "1950-03-03",
                "email": f"p{n}@example.com",
            },
        }

    with running_servers(fresh_database, project_root) as bases:
        async with httpx.AsyncClient(timeout=60) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"{bases[n % 2]}/api/v1/appointments", json=body(n), headers=headers
                    )
                    for n in range(ROOMS + 1)
                )
            )
    assert Counter(r.status_code for r in responses) == {201: ROOMS, 409: 1}
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["error"]["code"] == "slot_unavailable"
    assert len({r.json()["room_id"] for r in responses if r.status_code == 201}) == ROOMS
    async with make_sessionmaker(engine)() as session:
        held = await session.scalar(
            select(func.count()).select_from(Appointment).where(Appointment.room_id.is_not(None))
        )
    await engine.dispose()
    assert held == ROOMS


async def test_closing_a_room_hides_its_slots_and_lists_bookings_to_move(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_clinic(session, rooms=1)
    _, headers = await make_user(session, role="admin")
    day = next_weekday(1, weeks=2)
    start = london_datetime(day, clock(9))
    booked = await client.post(
        "/api/v1/appointments",
        json={
            "service_id": c.service.id,
            "clinician_id": c.clinician.id,
            "start": start.isoformat(),
            "mode": "video_site",
            "site_id": c.hub.id,
            "patient": {
                "given_name": "A",
                "family_name": "B",
                "date_of_birth": "1970-01-01",
                "email": "a@example.com",
            },
        },
        headers=headers,
    )
    assert booked.status_code == 201
    room_id = booked.json()["room_id"]
    slots_url = (
        f"/api/v1/slots?service_id={c.service.id}&start={day}&end={day}"
        f"&mode=video_site&site_id={c.hub.id}"
    )
    before = (await client.get(slots_url, headers=headers)).json()["slots"]
    assert before, "the hub's other times are free"
    rooms = (await client.get(f"/api/v1/sites/{c.hub.id}/rooms", headers=headers)).json()
    assert [r["id"] for r in rooms] == [room_id]
    closed = await client.post(
        f"/api/v1/sites/{c.hub.id}/rooms/{room_id}/closures",
        json={
            "start": london_datetime(day, clock(0)).isoformat(),
            "end": london_datetime(day + timedelta(days=1), clock(0)).isoformat(),
            "reason": "Broken camera",
        },
        headers=headers,
    )
    assert closed.status_code == 201, closed.text
    assert closed.json()["to_rebook"] == [booked.json()["id"]]
    assert (await client.get(slots_url, headers=headers)).json()["slots"] == []
    # The booking is still there, untouched, for staff to move with the patient.
    kept = await client.get(f"/api/v1/appointments/{booked.json()['id']}", headers=headers)
    assert kept.json()["status"] == "booked"
    refused = await client.post(
        f"/api/v1/appointments/{booked.json()['id']}/reschedule",
        json={"start": london_datetime(day, clock(10)).isoformat()},
        headers=headers,
    )
    assert refused.status_code == 409
    backwards = await client.post(
        f"/api/v1/sites/{c.hub.id}/rooms/{room_id}/closures",
        json={"start": start.isoformat(), "end": start.isoformat()},
        headers=headers,
    )
    assert backwards.status_code == 422 and "end" in backwards.json()["error"]["fields"]
