"""Referrals through the API: 201, a repeat 200, a conflicting repeat 409, reads and filters."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.referral_models import Referral
from scheduling.slots import london_datetime
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import (
    NEW_PATIENT,
    book_via_service,
    make_clinic,
    make_patient,
    make_user,
    next_weekday,
)
from tests.builders_referrals import make_referral
from tests.servers import running_servers

SEE_BY = (date.today() + timedelta(days=30)).isoformat()


async def test_a_system_records_a_referral_and_a_repeat_finds_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    body = {
        "patient": NEW_PATIENT,
        "service_id": clinic.service.id,
        "see_by": SEE_BY,
        "priority": "urgent",
        "notes": "Breathless on stairs",
        "source_system": "RSS",
        "source_reference": "E-1001",
    }
    first = await client.post("/api/v1/referrals", json=body, headers=headers)
    assert first.status_code == 201, first.text
    made = first.json()
    assert (made["status"], made["priority"], made["source"]) == ("open", "urgent", "api")
    assert made["invited_at"] is None and made["appointment_reference"] is None
    again = await client.post("/api/v1/referrals", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == made["id"]
    clash = await client.post(
        "/api/v1/referrals", json={**body, "see_by": date.today().isoformat()}, headers=headers
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["fields"] == {
        "see_by": "differs from the referral received before"
    }
    read = await client.get(f"/api/v1/referrals/{made['id']}", headers=headers)
    assert read.status_code == 200 and read.json()["reference"] == made["reference"]


async def test_validation_errors_are_422s_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="admin")
    past = (date.today() - timedelta(days=2)).isoformat()
    cases = {
        "see_by": {"patient": NEW_PATIENT, "service_id": clinic.service.id, "see_by": past},
        "service_id": {"patient": NEW_PATIENT, "service_id": 99999, "see_by": SEE_BY},
        "patient.date_of_birth": {
            "patient": {**NEW_PATIENT, "date_of_birth": "soon"},
            "service_id": clinic.service.id,
            "see_by": SEE_BY,
        },
        "source_system": {
            "patient": NEW_PATIENT,
            "service_id": clinic.service.id,
            "see_by": SEE_BY,
            "source_reference": "X",
        },
    }
    for field, body in cases.items():
        response = await client.post("/api/v1/referrals", json=body, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert field in response.json()["error"]["fields"], (field, response.text)


async def test_a_booked_referral_shows_its_appointment_and_lists_filter(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    referral = await make_referral(session, patient=patient, service=clinic.service)
    other = await make_referral(session, service=clinic.service)
    start = london_datetime(next_weekday(1, weeks=2), time(9))
    appointment = await book_via_service(session, clinic, start, patient_id=patient.id)
    referral.appointment_id, referral.status = appointment.id, "booked"
    await session.flush()
    _, headers = await make_user(session, role="navigator")
    read = (await client.get(f"/api/v1/referrals/{referral.id}", headers=headers)).json()
    assert read["status"] == "booked" and read["appointment_reference"] == appointment.reference
    assert datetime.fromisoformat(read["appointment_start"]) == start
    listed = await client.get("/api/v1/referrals", params={"status": "open"}, headers=headers)
    assert [r["id"] for r in listed.json()["items"]] == [other.id]
    by_patient = await client.get(
        "/api/v1/referrals", params={"patient_id": patient.id}, headers=headers
    )
    assert [r["id"] for r in by_patient.json()["items"]] == [referral.id]


async def test_who_may_refer_and_see_referrals(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    referral = await make_referral(session)
    _, analyst = await make_user(session, role="analyst")
    _, reception = await make_user(session, role="reception")
    user, clinician = await make_user(session, role="clinician", clinician=clinic.clinician)
    for headers in (analyst, reception):
        assert (await client.get("/api/v1/referrals", headers=headers)).status_code == 403
    assert (
        await client.get(f"/api/v1/referrals/{referral.id}", headers=clinician)
    ).status_code == 404
    mine = await client.post(
        "/api/v1/referrals",
        json={"patient": NEW_PATIENT, "service_id": clinic.service.id, "see_by": SEE_BY},
        headers=clinician,
    )
    assert mine.status_code == 201, mine.text
    listed = (await client.get("/api/v1/referrals", headers=clinician)).json()["items"]
    assert [r["id"] for r in listed] == [mine.json()["id"]]
    row = await session.get(Referral, mine.json()["id"])
    assert row is not None and row.referred_by_user_id == user.id


async def test_closing_a_referral(client: httpx.AsyncClient, session: AsyncSession) -> None:
    referral = await make_referral(session)
    _, headers = await make_user(session, role="navigator")
    path = f"/api/v1/referrals/{referral.id}/close"
    closed = await client.post(path, json={"reason": "Seen at A&E"}, headers=headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = await client.post(path, json={"reason": "Again"}, headers=headers)
    assert again.status_code == 409


async def test_a_system_sending_the_same_referral_at_once_gets_one_referral(
    fresh_database: str, project_root: Path
) -> None:
    engine = create_engine(fresh_database)
    async with make_sessionmaker(engine)() as session, session.begin():
        clinic = await make_clinic(session)
        patient = await make_patient(session)
        _, headers = await make_user(session, role="admin")
    body = {
        "patient": patient.id,
        "service_id": clinic.service.id,
        "see_by": SEE_BY,
        "source_system": "RSS",
        "source_reference": "E-RACE",
    }
    with running_servers(fresh_database, project_root) as bases:
        async with httpx.AsyncClient(timeout=60) as client:
            responses = await asyncio.gather(
                *(
                    client.post(f"{bases[n % 2]}/api/v1/referrals", json=body, headers=headers)
                    for n in range(8)
                )
            )
    outcomes = Counter(r.status_code for r in responses)
    assert outcomes == {201: 1, 200: 7}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    async with make_sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(Referral))
    await engine.dispose()
    assert count == 1
