"""Registering a patient who exists, and changing a patient's details, on both databases."""

from __future__ import annotations

from datetime import time
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Patient
from scheduling.slots import london_datetime
from telehealth.kernel.audit import AuditEvent
from tests.builders import NEW_PATIENT, make_clinic, make_patient, make_user, next_weekday


async def _patients(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Patient)) or 0)


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


async def test_registering_a_known_nhs_number_with_the_same_details_answers_with_them(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await make_user(session, role="navigator")
    created = await client.post("/api/v1/patients", json=NEW_PATIENT, headers=headers)
    assert created.status_code == 201, created.text
    count = await _patients(session)
    # The same details, as typed again (spaces, case): the patient we have, not a new one.
    again = NEW_PATIENT | {"nhs_number": "9434765919", "family_name": "ATKINSON "}
    found = await client.post("/api/v1/patients", json=again, headers=headers)
    assert found.status_code == 200, found.text
    assert found.json() == created.json()
    assert await _patients(session) == count


async def test_registering_a_known_nhs_number_with_new_details_is_refused_and_says_how(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await make_user(session, role="navigator")
    created = (await client.post("/api/v1/patients", json=NEW_PATIENT, headers=headers)).json()
    pid = created["id"]
    for change in (
        {"email": "new@example.com"},
        {"mobile": "07700 900123"},
        {"postcode": "LA1 4RP"},
        {"interpreter_language": "Polish"},
    ):
        refused = await client.post("/api/v1/patients", json=NEW_PATIENT | change, headers=headers)
        error = _error(refused, 409, "patient_exists")
        assert f"patient {pid}" in error["message"]
        assert f"PATCH /api/v1/patients/{pid}" in error["message"]
        assert next(iter(change)) in error["message"], "it names what differs"
    # Another person under this NHS number (a typing slip, most likely): refused too.
    other = await client.post(
        "/api/v1/patients", json=NEW_PATIENT | {"date_of_birth": "1950-01-01"}, headers=headers
    )
    error = _error(other, 409, "patient_mismatch")
    assert f"patient {pid}" in error["message"] and "PATCH" in error["message"]
    kept = (await client.get(f"/api/v1/patients/{pid}", headers=headers)).json()
    assert kept == created, "nothing was changed by the refused requests"


async def test_booking_with_new_details_for_a_known_patient_is_refused_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    pid = (await client.post("/api/v1/patients", json=NEW_PATIENT, headers=headers)).json()["id"]
    booking = {
        "service_id": clinic.service.id,
        "clinician_id": clinic.clinician.id,
        "start": london_datetime(next_weekday(1, weeks=2), time(9)).isoformat(),
        "mode": "video_home",
    }
    refused = await client.post(
        "/api/v1/appointments",
        json=booking | {"patient": NEW_PATIENT | {"email": "new@example.com"}},
        headers=headers,
    )
    assert f"PATCH /api/v1/patients/{pid}" in _error(refused, 409, "patient_exists")["message"]
    assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
    booked = await client.post(
        "/api/v1/appointments", json=booking | {"patient": NEW_PATIENT}, headers=headers
    )
    assert booked.status_code == 201 and booked.json()["patient_id"] == pid


async def test_a_patients_details_are_changed_validated_and_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, headers = await make_user(session, role="navigator")
    patient = await make_patient(session, nhs_number="9434765919")
    other = await make_patient(session, nhs_number="9434765900")
    url = f"/api/v1/patients/{patient.id}"
    changed = await client.patch(
        url,
        json={"mobile": "07700 900123", "contact_preference": "both", "postcode": "la1 4rp"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()
    assert (data["mobile"], data["contact_preference"], data["postcode"]) == (
        "+447700900123",
        "both",
        "LA1 4RP",
    )
    assert data["email"] == patient.email and data["family_name"] == patient.family_name
    assert (await client.get(url, headers=headers)).json() == data
    refused = {
        "postcode": {"postcode": "not a postcode"},
        "date_of_birth": {"date_of_birth": "2999-01-01"},
        "nhs_number": {"nhs_number": "943 476 5918"},
        "email": {"email": None},  # still wanted: the contact preference is both
        "favourite_colour": {"favourite_colour": "blue"},
        "given_name": {"given_name": ""},
    }
    for field, body in refused.items():
        error = _error(await client.patch(url, json=body, headers=headers), 422, "invalid_input")
        assert field in error["fields"], (body, error)
    taken = await client.patch(url, json={"nhs_number": other.nhs_number}, headers=headers)
    assert f"patient {other.id}" in _error(taken, 409, "patient_exists")["message"]
    _error(await client.patch("/api/v1/patients/99999", json={}, headers=headers), 404, "not_found")
    for role in ("reception", "clinician", "analyst"):
        _, others = await make_user(session, role=role)
        _error(
            await client.patch(url, json={"email": "x@example.com"}, headers=others),
            403,
            "forbidden",
        )
    audited = list(
        await session.execute(
            select(AuditEvent.actor_user_id, AuditEvent.detail).where(
                AuditEvent.action == "patient.update", AuditEvent.entity_id == patient.id
            )
        )
    )
    # Which fields changed, never their values: the audit trail holds no contact details.
    assert [tuple(row) for row in audited] == [
        (user.id, {"fields": ["mobile", "postcode", "contact_preference"]})
    ]


async def test_the_openapi_document_gives_both_answers_of_registering(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    responses = document["paths"]["/api/v1/patients"]["post"]["responses"]
    assert {"200", "201", "409"} <= set(responses)
    assert responses["200"]["content"] == responses["201"]["content"]
    assert "patch" in document["paths"]["/api/v1/patients/{patient_id}"]
