"""Booking, rescheduling and cancelling through the API, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment
from scheduling.slots import london_datetime
from telehealth.kernel.audit import AuditEvent
from tests.builders import (
    NEW_PATIENT,
    Clinic,
    make_clinic,
    make_patient,
    make_user,
    next_weekday,
    post_booking,
)


def _start(day_offset_weeks: int = 2, at: time = time(9)) -> datetime:
    return london_datetime(next_weekday(1, weeks=day_offset_weeks), at)


async def _book(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    clinic: Clinic,
    start: datetime,
    **extra: object,
) -> httpx.Response:
    """A booking for a new patient unless `extra` names one."""
    return await post_booking(client, headers, clinic, start, **({"patient": NEW_PATIENT} | extra))


async def test_book_returns_the_appointment(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    start = _start()
    response = await _book(client, headers, clinic, start)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["status"] == "booked"
    assert datetime.fromisoformat(data["start"]) == start
    assert datetime.fromisoformat(data["end"]) == start + timedelta(minutes=20)
    assert data["mode"] == "video_home" and data["site_id"] is None
    assert len(data["reference"]) == 8 and not set(data["reference"]) & set("0O1IL25SB8Z")
    fetched = await client.get(f"/api/v1/appointments/{data['id']}", headers=headers)
    assert fetched.json() == data


async def test_each_booking_is_audited_once_with_who_booked_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """In every mode: video_home goes through the one-statement path (with the audit row in
    the same statement on PostgreSQL), video_site through the room choice."""
    clinic = await make_clinic(session)
    user, headers = await make_user(session, role="navigator")
    patient = await make_patient(session)
    home = await _book(client, headers, clinic, _start(), patient=patient.id)
    hub = await _book(
        client,
        headers,
        clinic,
        _start(at=time(10)),
        patient=patient.id,
        mode="video_site",
        site_id=clinic.hub.id,
    )
    assert home.status_code == hub.status_code == 201, (home.text, hub.text)
    rows = (
        await session.execute(
            select(
                AuditEvent.actor_user_id,
                AuditEvent.entity_type,
                AuditEvent.entity_id,
                AuditEvent.detail,
            )
            .where(AuditEvent.action == "appointment.book")
            .order_by(AuditEvent.id)
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (user.id, "appointment", home.json()["id"], {"patient_id": patient.id}),
        (user.id, "appointment", hub.json()["id"], {"patient_id": patient.id}),
    ]
    failed = await _book(client, headers, clinic, _start(), patient=patient.id)
    assert failed.status_code == 409
    assert (
        await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "appointment.book")
        )
        == 2
    )


async def test_second_booking_of_same_slot_is_409(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    start = _start()
    assert (await _book(client, headers, clinic, start)).status_code == 201
    other = await make_patient(session)
    response = await _book(client, headers, clinic, start, patient=other.id)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"


async def test_idempotency_key_returns_first_result(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    keyed = headers | {"Idempotency-Key": "retry-1"}
    first = await _book(client, keyed, clinic, _start())
    again = await _book(client, keyed, clinic, _start())
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    count = await session.scalar(select(func.count()).select_from(Appointment))
    assert count == 1
    different = await _book(client, keyed, clinic, _start(at=time(10)))
    assert different.status_code == 422
    assert "Idempotency-Key" in different.json()["error"]["fields"]


async def test_video_site_takes_a_room_until_the_hub_is_full(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session, rooms=1)
    _, headers = await make_user(session, role="navigator")
    start = _start()
    first = await _book(client, headers, clinic, start, mode="video_site", site_id=clinic.hub.id)
    assert first.status_code == 201, first.text
    assert first.json()["room_id"] is not None
    from datetime import date

    from tests.builders import make_clinician, make_session

    other = await make_clinician(session, organisation=clinic.organisation)
    await make_session(
        session,
        clinician=other,
        services=[clinic.service],
        weekday=1,
        valid_from=date.today(),
        hubs=[clinic.hub],
    )
    patient = await make_patient(session)
    second = await client.post(
        "/api/v1/appointments",
        json={
            "service_id": clinic.service.id,
            "clinician_id": other.id,
            "start": start.isoformat(),
            "mode": "video_site",
            "site_id": clinic.hub.id,
            "patient": patient.id,
        },
        headers=headers,
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "slot_unavailable"


async def test_reschedule_keeps_identity_and_bumps_sequence(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    booked = (await _book(client, headers, clinic, _start())).json()
    new_start = _start(at=time(10))
    moved = await client.post(
        f"/api/v1/appointments/{booked['id']}/reschedule",
        json={"start": new_start.isoformat()},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    data = moved.json()
    assert (data["id"], data["reference"], data["uid"]) == (
        booked["id"],
        booked["reference"],
        booked["uid"],
    )
    assert data["sequence"] == booked["sequence"] + 1
    assert datetime.fromisoformat(data["start"]) == new_start
    # The old time is free again.
    rebook = await _book(
        client, headers, clinic, _start(), patient=(await make_patient(session)).id
    )
    assert rebook.status_code == 201


async def test_cancel_frees_the_slot_and_cannot_repeat(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    booked = (await _book(client, headers, clinic, _start())).json()
    url = f"/api/v1/appointments/{booked['id']}/cancel"
    cancelled = await client.post(url, json={"reason": "Patient asked"}, headers=headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["sequence"] == 1
    again = await client.post(url, json={"reason": "twice"}, headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_status"
    missing_reason = await client.post(url, json={}, headers=headers)
    assert (
        missing_reason.status_code == 422 and "reason" in missing_reason.json()["error"]["fields"]
    )
    rebook = await _book(
        client, headers, clinic, _start(), patient=(await make_patient(session)).id
    )
    assert rebook.status_code == 201


__all__ = ["UTC"]
