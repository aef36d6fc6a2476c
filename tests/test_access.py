"""Who may see whom: every API operation and every staff page, walked for every role against
another clinician's patient and appointment. New operations and pages are walked as soon as
they exist (the walk is built from the OpenAPI document and the app's routes)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Route

from app import create_app
from notifications.models import OutboxMessage
from scheduling.models import Appointment, AppointmentEvent, ClinicianSession, Leave, VideoRoom
from scheduling.transitions import Action
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.config import Settings
from tests.builders import (
    Clinic,
    make_appointment,
    make_clinic,
    make_patient,
    make_user,
    next_weekday,
)
from tests.builders_referrals import make_referral
from tests.telehealth.video.test_clinic_pages import sign_in

LONDON = ZoneInfo("Europe/London")
RESTRICTED = ("clinician", "reception", "analyst")
# Operations any patient-facing role may call on data of its own making: registering a new
# patient answers with what the caller sent.
OWN_INPUT = {("post", "/api/v1/patients")}
# A clinician's own clinic stream says only "something changed" and never ends: not walked.
STREAMS_OF_THEIR_OWN = {"/staff/clinic/events"}
# A clinician's availability pages act on their own availability whatever a form names, so a
# POST there may succeed (their own calendar feed) or be refused as bad input; the other
# clinician's sessions and leave must stay as they were.
THEIR_OWN_AVAILABILITY = "/staff/availability"


@dataclass
class Other:
    """Another clinician's clinic, patient and appointment, and what must not leak."""

    clinic: Clinic
    appointment: Appointment
    room_id: int
    leave_id: int
    message_id: int
    user_id: int
    referral_id: int
    secrets: tuple[str, ...]
    start: datetime

    @property
    def day(self) -> str:
        return self.start.astimezone(LONDON).date().isoformat()


async def _other(session: AsyncSession) -> Other:
    clinic = await make_clinic(session)
    patient = await make_patient(session, nhs_number="9434765919", family_name="Otherpatient")
    start = datetime.combine(next_weekday(1), clock(9, 0), LONDON).astimezone(UTC)
    appointment = await make_appointment(
        session, clinic, start=start, mode="video_site", patient=patient
    )
    room_id = (
        await session.scalars(select(VideoRoom.id).where(VideoRoom.site_id == clinic.hub.id))
    ).first()
    assert room_id is not None
    leave = Leave(
        clinician_id=clinic.clinician.id,
        starts_at=start + timedelta(days=30),
        ends_at=start + timedelta(days=31),
    )
    message = OutboxMessage(
        dedupe_key=f"access-{appointment.id}",
        appointment_id=appointment.id,
        kind="confirmation",
        channel="email",
        recipient=str(patient.email),
        recipient_name="Alex Otherpatient",
        message_id=f"<access-{appointment.id}@test>",
        subject="Your appointment",
        body_text="Dear Alex Otherpatient",
        status="failed",
    )
    session.add_all([leave, message])
    await session.flush()
    login, _ = await make_user(session, role="clinician", clinician=clinic.clinician)
    referral = await make_referral(session, patient=patient, service=clinic.service)
    return Other(
        clinic,
        appointment,
        room_id,
        leave.id,
        message.id,
        login.id,
        referral.id,
        secrets=(
            "9434765919",
            "Otherpatient",
            str(patient.email),
            appointment.reference,
            referral.reference,
        ),
        start=start,
    )


def _iso(instant: datetime) -> str:
    return instant.astimezone(LONDON).isoformat()


def _path(template: str, other: Other) -> str:
    c = other.clinic
    values = {
        "appointment_id": other.appointment.id,
        "patient_id": other.appointment.patient_id,
        "clinician_id": c.clinician.id,
        "site_id": c.hub.id,
        "room_id": other.room_id,
        "session_id": c.session.id,
        "leave_id": other.leave_id,
        "service_id": c.service.id,
        "id": other.message_id,
        "user_id": other.user_id,
        "referral_id": other.referral_id,
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), template)


def _query(parameters: list[dict[str, Any]], other: Other) -> dict[str, str]:
    c = other.clinic
    known = {
        "clinician_id": c.clinician.id,
        "patient_id": other.appointment.patient_id,
        "site_id": c.hub.id,
        "service_id": c.service.id,
        "date": other.day,
        "start": other.day,
        "end": other.day,
        "nhs_number": "9434765919",
        "family_name": "Otherpatient",
        "date_of_birth": "1960-05-17",
    }
    return {
        p["name"]: str(known[p["name"]])
        for p in parameters
        if p.get("in") == "query" and p["name"] in known
    }


def _body(method: str, path: str, other: Other) -> dict[str, Any]:
    c, later = other.clinic, other.start + timedelta(hours=2)
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("post", "/api/v1/appointments"): {
            "service_id": c.service.id,
            "clinician_id": c.clinician.id,
            "mode": "video_home",
            "start": _iso(later),
            "patient": other.appointment.patient_id,
        },
        ("post", "/api/v1/appointments/{appointment_id}/reschedule"): {"start": _iso(later)},
        ("post", "/api/v1/appointments/{appointment_id}/cancel"): {"reason": "walked"},
        ("post", "/api/v1/appointments/{appointment_id}/status"): {
            "action": "cancel",
            "reason": "walked",
        },
        ("post", "/api/v1/appointments/{appointment_id}/messages"): {"message": "hello"},
        ("post", "/api/v1/sites/{site_id}/rooms/{room_id}/closures"): {
            "start": _iso(later),
            "end": _iso(later + timedelta(hours=1)),
        },
        ("post", "/api/v1/patients"): {
            "given_name": "New",
            "family_name": "Walker",
            "date_of_birth": "1970-01-01",
        },
    }
    return bodies.get((method, path), {})


def _leaks(response: httpx.Response, other: Other) -> list[str]:
    return [secret for secret in other.secrets if secret in response.text]


async def _unchanged(session: AsyncSession, other: Other, events_before: int) -> None:
    await session.refresh(other.appointment)
    a = other.appointment
    assert (a.status, a.starts_at, a.sequence) == ("booked", other.start, 0)
    assert await _events(session, a.id) == events_before
    message = await session.get(OutboxMessage, other.message_id)
    assert message is not None
    await session.refresh(message)
    assert message.status == "failed"


async def _events(session: AsyncSession, appointment_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(AppointmentEvent)
            .where(AppointmentEvent.appointment_id == appointment_id)
        )
        or 0
    )


async def _viewer(session: AsyncSession, role: str) -> tuple[str, dict[str, str]]:
    """A member of staff of another clinic: a clinician with a clinic of their own, a
    receptionist at another hub, an analyst."""
    mine = await make_clinic(session)
    user, headers = await make_user(
        session,
        role=role,
        clinician=mine.clinician if role == "clinician" else None,
        hubs=[mine.hub] if role == "reception" else [],
    )
    return user.email, headers


@pytest.mark.parametrize("role", RESTRICTED)
async def test_every_operation_keeps_another_clinicians_patient_out_of_reach(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    other = await _other(session)
    _, headers = await _viewer(session, role)
    events_before = await _events(session, other.appointment.id)
    document = (await client.get("/openapi.json")).json()
    walked = 0
    for template, methods in document["paths"].items():
        if not template.startswith("/api/"):
            continue
        for method, operation in methods.items():
            response = await client.request(
                method,
                _path(template, other),
                params=_query(operation.get("parameters", []), other),
                json=_body(method, template, other) if method in ("post", "patch", "put") else None,
                headers=headers,
            )
            walked += 1
            where = f"{role} {method.upper()} {template}: {response.status_code}"
            assert response.status_code < 500, where
            assert not _leaks(response, other), f"{where} shows {_leaks(response, other)}"
            if method != "get" and (method, template) not in OWN_INPUT:
                assert response.status_code >= 400, where
    assert walked >= 30
    await _unchanged(session, other, events_before)


async def _availability(session: AsyncSession, clinician_id: int) -> tuple[int, int]:
    """How many sessions and leave periods the clinician has."""
    sessions = await session.scalar(
        select(func.count()).where(ClinicianSession.clinician_id == clinician_id)
    )
    leave = await session.scalar(select(func.count()).where(Leave.clinician_id == clinician_id))
    return int(sessions or 0), int(leave or 0)


@pytest.mark.parametrize("role", RESTRICTED)
async def test_every_staff_page_keeps_another_clinicians_patient_out_of_reach(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, role: str
) -> None:
    other = await _other(session)
    email, _ = await _viewer(session, role)
    events_before = await _events(session, other.appointment.id)
    availability_before = await _availability(session, other.clinic.clinician.id)
    csrf = await sign_in(client, email)
    pages = [
        (sorted(route.methods or ())[-1], route.path)
        for route in cast(list[Route], create_app(settings).routes)
        if getattr(route, "path", "").startswith("/staff/")
        and route.path not in ("/staff/login", "/staff/logout")
    ]
    params: dict[str, Any] = {
        "clinician_id": other.clinic.clinician.id,
        "site_id": other.clinic.hub.id,
    }
    params |= {"date": other.day, "start": other.day, "end": other.day}
    for method, template in pages:
        if template in STREAMS_OF_THEIR_OWN and role == "clinician":
            continue
        forms: list[dict[str, str]] = [{}]
        if template.endswith("/action"):
            forms = [{"action": a.value, "reason": "walked"} for a in Action]
        elif template.endswith("/message"):
            forms = [{"message": "hello"}]
        for form in forms:
            if method == "POST":
                request = client.post(_path(template, other), data={"csrf": csrf, **form})
            else:
                request = client.get(_path(template, other), params=params)
            # A stream this viewer may open would never end: a refusal is immediate.
            response = await asyncio.wait_for(request, timeout=10)
            where = f"{role} {method} {template} {form}: {response.status_code}"
            assert response.status_code < 500, where
            assert not _leaks(response, other), f"{where} shows {_leaks(response, other)}"
            if method == "POST" and not (
                role == "clinician" and template.startswith(THEIR_OWN_AVAILABILITY)
            ):
                assert response.status_code in (403, 404), where
    await _unchanged(session, other, events_before)
    assert await _availability(session, other.clinic.clinician.id) == availability_before


@pytest.mark.parametrize("role", ["navigator", "admin"])
async def test_navigators_and_admins_see_everyone_and_every_read_is_audited(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    other = await _other(session)
    user, headers = await make_user(session, role=role)
    a = other.appointment
    for path in (
        f"/api/v1/appointments/{a.id}",
        f"/api/v1/patients/{a.patient_id}",
        f"/api/v1/appointments?clinician_id={other.clinic.clinician.id}",
        "/api/v1/patients?nhs_number=9434765919",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200 and _leaks(response, other), path
    actions = set(
        await session.scalars(select(AuditEvent.action).where(AuditEvent.actor_user_id == user.id))
    )
    assert {"appointment.read", "patient.read", "appointment.list", "patient.search"} <= actions


async def test_a_clinician_sees_their_own_clinics_and_the_services_they_work_on(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    other = await _other(session)
    _, headers = await make_user(session, role="clinician", clinician=other.clinic.clinician)
    a = other.appointment
    assert (await client.get(f"/api/v1/appointments/{a.id}", headers=headers)).status_code == 200
    read = await client.get(f"/api/v1/patients/{a.patient_id}", headers=headers)
    assert read.status_code == 200 and read.json()["nhs_number"] == "9434765919"
    video = (await client.get(f"/api/v1/appointments/{a.id}/video", headers=headers)).json()
    assert video["clinician_join_url"]
    # A colleague named on the same service sees the appointment, but does not get the
    # moderator's way into a call that is not theirs to run.
    colleague_clinic = await make_clinic(session)
    colleague_clinic.session.id  # noqa: B018 (loaded)
    from scheduling.models import SessionService

    session.add(SessionService(session_id=colleague_clinic.session.id, service_id=a.service_id))
    await session.flush()
    _, colleague = await make_user(session, role="clinician", clinician=colleague_clinic.clinician)
    seen = await client.get(f"/api/v1/appointments/{a.id}/video", headers=colleague)
    assert seen.status_code == 200 and seen.json()["clinician_join_url"] is None


async def test_reception_sees_only_the_hubs_they_work_at(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    other = await _other(session)
    user, headers = await make_user(session, role="reception", hubs=[other.clinic.hub])
    listed = await client.get("/api/v1/appointments", params={"date": other.day}, headers=headers)
    assert [a["id"] for a in listed.json()["items"]] == [other.appointment.id]
    await sign_in(client, user.email)
    page = await client.get(
        "/staff/reception", params={"site_id": other.clinic.hub.id, "date": other.day}
    )
    assert "Otherpatient" in page.text


async def test_patient_search_needs_a_date_of_birth_with_a_family_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await make_user(session, role="navigator")
    alone = await client.get("/api/v1/patients?family_name=Otherpatient", headers=headers)
    assert alone.status_code == 422 and "date_of_birth" in alone.json()["error"]["fields"]


def test_an_admin_sets_the_hubs_a_receptionist_works_at(
    fresh_database: str, project_root: Path
) -> None:
    from tests.telehealth.test_cli import _run

    assert _run(fresh_database, project_root, "migrate").returncode == 0
    made = _run(
        fresh_database,
        project_root,
        "users",
        "create",
        "--email",
        "desk@test.nhs.uk",
        "--name",
        "Desk",
        "--role",
        "reception",
    )
    assert made.returncode == 0, made.stderr
    unknown = _run(
        fresh_database, project_root, "users", "hubs", "--email", "desk@test.nhs.uk", "--site", "9"
    )
    assert unknown.returncode == 1 and "no community hub with id 9" in unknown.stderr
    none = _run(fresh_database, project_root, "users", "hubs", "--email", "desk@test.nhs.uk")
    assert none.returncode == 0 and "works at: no hub" in none.stdout
