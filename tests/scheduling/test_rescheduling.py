"""Rescheduling to where the appointment already is changes nothing, on both databases."""

from __future__ import annotations

from datetime import datetime, time

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import AppointmentChange, AppointmentEvent
from scheduling.slots import london_datetime
from tests.builders import NEW_PATIENT, make_clinic, make_user, next_weekday


def _start(at: time = time(9)) -> datetime:
    return london_datetime(next_weekday(1, weeks=2), at)


async def _count(
    session: AsyncSession,
    model: type[AppointmentChange] | type[AppointmentEvent],
    appointment_id: int,
) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(model).where(model.appointment_id == appointment_id)
        )
        or 0
    )


async def test_a_reschedule_to_the_same_place_and_time_is_a_no_op(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    places: list[dict[str, object]] = [
        {"mode": "video_home"},
        {"mode": "video_site", "site_id": clinic.hub.id},
        {"mode": "in_person", "site_id": clinic.hospital.id},
    ]
    for hour, where in zip((9, 10, 11), places, strict=True):
        start = _start(time(hour))
        booked = await client.post(
            "/api/v1/appointments",
            json={
                "service_id": clinic.service.id,
                "clinician_id": clinic.clinician.id,
                "start": start.isoformat(),
                "patient": NEW_PATIENT,
                **where,
            },
            headers=headers,
        )
        assert booked.status_code == 201, booked.text
        before = booked.json()
        changes = await _count(session, AppointmentChange, before["id"])
        events = await _count(session, AppointmentEvent, before["id"])
        # The same time, said in full (clinician, mode and site as they are) or left implied.
        for body in (
            {"start": start.isoformat()},
            {"start": start.isoformat(), "clinician_id": clinic.clinician.id, **where},
        ):
            same = await client.post(
                f"/api/v1/appointments/{before['id']}/reschedule", json=body, headers=headers
            )
            assert same.status_code == 200, same.text
            assert same.json() == before, "nothing changed: not the sequence, not the room"
        assert await _count(session, AppointmentChange, before["id"]) == changes
        assert await _count(session, AppointmentEvent, before["id"]) == events
