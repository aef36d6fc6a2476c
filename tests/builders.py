"""Small typed builders for test data: `await make_clinician(session, name=...)`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import booking
from scheduling.models import (
    Appointment,
    Clinician,
    ClinicianSession,
    Organisation,
    Patient,
    Service,
    SessionHub,
    SessionService,
    Site,
    StaffSite,
    VideoRoom,
)
from scheduling.placement import Placement, place
from scheduling.slots import london_datetime
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.auth.service import create_token, create_user

_counter = itertools.count(1)


# A new patient's details as a booking request gives them: valid NHS number, a real postcode.
NEW_PATIENT: dict[str, object] = {
    "given_name": "Mary",
    "family_name": "Atkinson",
    "date_of_birth": "1948-02-29",
    "nhs_number": "943 476 5919",
    "email": "mary@example.com",
    "postcode": "la4 5rj",
}


def _n() -> int:
    return next(_counter)


async def make_organisation(session: AsyncSession, *, name: str | None = None) -> Organisation:
    row = Organisation(name=name or f"Test Trust {_n()}")
    session.add(row)
    await session.flush()
    return row


async def make_site(
    session: AsyncSession,
    *,
    organisation: Organisation | None = None,
    kind: str = "hospital",
    name: str | None = None,
    postcode: str = "LA1 4RP",
    rooms: int = 0,
) -> Site:
    organisation = organisation or await make_organisation(session)
    row = Site(
        organisation_id=organisation.id,
        kind=kind,
        name=name or f"Test site {_n()}",
        address="1 Test Street",
        postcode=postcode,
        icc="Lancaster",
    )
    session.add(row)
    await session.flush()
    session.add_all(VideoRoom(site_id=row.id, name=f"Room {i}") for i in range(1, rooms + 1))
    await session.flush()
    return row


async def make_clinician(
    session: AsyncSession,
    *,
    organisation: Organisation | None = None,
    name: str | None = None,
    user: StaffUser | None = None,
) -> Clinician:
    organisation = organisation or await make_organisation(session)
    n = _n()
    row = Clinician(
        organisation_id=organisation.id,
        name=name or f"Dr Test {n}",
        profession="Consultant",
        email=f"clinician{n}@test.nhs.uk",
        user_id=user.id if user else None,
    )
    session.add(row)
    await session.flush()
    return row


async def make_service(
    session: AsyncSession,
    *,
    site: Site | None = None,
    length: int = 20,
    buffer: int = 0,
    modes: tuple[str, ...] = ("video_home", "video_site", "in_person"),
    min_notice: int = 0,
    horizon_days: int = 365,
) -> Service:
    site = site or await make_site(session)
    row = Service(
        organisation_id=site.organisation_id,
        name=f"Test clinic {_n()}",
        specialty="Cardiology",
        length_minutes=length,
        modes=list(modes),
        usual_site_id=site.id,
        min_notice_minutes=min_notice,
        horizon_days=horizon_days,
        buffer_minutes=buffer,
    )
    session.add(row)
    await session.flush()
    return row


async def make_session(
    session: AsyncSession,
    *,
    clinician: Clinician,
    services: list[Service],
    weekday: int,
    start: time = time(9),
    end: time = time(12),
    valid_from: date,
    valid_until: date | None = None,
    modes: tuple[str, ...] = ("video_home", "video_site", "in_person"),
    site: Site | None = None,
    hubs: list[Site] | None = None,
    bank_holidays: bool = False,
) -> ClinicianSession:
    row = ClinicianSession(
        clinician_id=clinician.id,
        weekday=weekday,
        start_time=start,
        end_time=end,
        valid_from=valid_from,
        valid_until=valid_until,
        modes=list(modes),
        site_id=site.id if site else None,
        bank_holidays=bank_holidays,
    )
    session.add(row)
    await session.flush()
    session.add_all(SessionService(session_id=row.id, service_id=s.id) for s in services)
    session.add_all(SessionHub(session_id=row.id, site_id=h.id) for h in hubs or ())
    await session.flush()
    return row


async def make_patient(
    session: AsyncSession, *, nhs_number: str | None = None, family_name: str = "Testpatient"
) -> Patient:
    row = Patient(
        given_name="Alex",
        family_name=family_name,
        date_of_birth=date(1960, 5, 17),
        nhs_number=nhs_number,
        email=f"patient{_n()}@example.com",
        postcode="LA4 5RJ",
        contact_preference="email",
    )
    session.add(row)
    await session.flush()
    return row


async def make_user(
    session: AsyncSession,
    *,
    role: str = "admin",
    email: str | None = None,
    clinician: Clinician | None = None,
    hubs: Sequence[Site] = (),
) -> tuple[StaffUser, dict[str, str]]:
    """A staff user and the Authorization header carrying a fresh token for them; a
    clinician's login linked to `clinician`, a receptionist working at `hubs`."""
    user = await create_user(
        session,
        email=email or f"{role}{_n()}@test.nhs.uk",
        name=f"Test {role}",
        role=role,
        password="correct horse battery",
    )
    await session.flush()
    if clinician is not None:
        clinician.user_id = user.id
    session.add_all(StaffSite(user_id=user.id, site_id=hub.id) for hub in hubs)
    await session.flush()
    token = await create_token(session, user=user)
    return user, {"Authorization": f"Bearer {token}"}


def next_weekday(weekday: int, *, after: date | None = None, weeks: int = 1) -> date:
    """The date of `weekday` at least `weeks` weeks ahead: safely beyond 'now' in tests."""
    start = (after or date.today()) + timedelta(days=7 * weeks)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def tuesday_at(hour: int, minute: int = 0, *, weeks: int = 2) -> datetime:
    """A time in make_clinic's Tuesday 9am to midday session, `weeks` ahead (London)."""
    return london_datetime(next_weekday(1, weeks=weeks), time(hour, minute))


@dataclass
class Clinic:
    """A ready-to-book clinic: a service, a hospital, a hub with rooms, a clinician with a
    weekly Tuesday 09:00-12:00 session offering every mode."""

    organisation: Organisation
    hospital: Site
    hub: Site
    service: Service
    clinician: Clinician
    session: ClinicianSession


async def make_clinic(
    session: AsyncSession,
    *,
    length: int = 20,
    buffer: int = 0,
    rooms: int = 2,
    min_notice: int = 0,
    horizon_days: int = 365,
) -> Clinic:
    organisation = await make_organisation(session)
    hospital = await make_site(session, organisation=organisation)
    hub = await make_site(
        session, organisation=organisation, kind="community_hub", rooms=rooms, postcode="LA4 5RJ"
    )
    service = await make_service(
        session,
        site=hospital,
        length=length,
        buffer=buffer,
        min_notice=min_notice,
        horizon_days=horizon_days,
    )
    clinician = await make_clinician(session, organisation=organisation)
    weekly = await make_session(
        session,
        clinician=clinician,
        services=[service],
        weekday=1,
        valid_from=date.today() - timedelta(days=1),
        site=hospital,
        hubs=[hub],
    )
    return Clinic(organisation, hospital, hub, service, clinician, weekly)


async def make_appointment(
    session: AsyncSession,
    clinic: Clinic,
    *,
    start: datetime,
    mode: str = "video_home",
    patient: Patient | None = None,
    status: str = "booked",
) -> Appointment:
    """An appointment written directly (no slot checks), e.g. for today or the past."""
    patient = patient or await make_patient(session)
    room_id = None
    if mode == "video_site":
        room_id = (
            await session.scalars(select(VideoRoom.id).where(VideoRoom.site_id == clinic.hub.id))
        ).first()
    n = _n()
    end = start + timedelta(minutes=clinic.service.length_minutes)
    row = Appointment(
        reference=f"T{n:07d}"[-8:],
        uid=f"test-{n}@test",
        service_id=clinic.service.id,
        clinician_id=clinic.clinician.id,
        patient_id=patient.id,
        mode=mode,
        site_id=None
        if mode == "video_home"
        else (clinic.hub.id if mode == "video_site" else clinic.hospital.id),
        room_id=room_id,
        starts_at=start,
        ends_at=end,
        busy_until=end,
        status=status,
        sequence=0,
        video_room=f"bay-test-{n}",
    )
    session.add(row)
    await session.flush()
    return row


def site_for(clinic: Clinic, mode: str) -> int | None:
    """Where an appointment in this mode is held: the hub's video room, the hospital, or home."""
    return {"video_home": None, "video_site": clinic.hub.id, "in_person": clinic.hospital.id}[mode]


async def place_via_service(
    session: AsyncSession, clinic: Clinic, start: datetime, *, mode: str = "video_home"
) -> Placement:
    """The clinic's service and clinician at start, placed as booking places them."""
    return await place(
        session,
        service_id=clinic.service.id,
        clinician_id=clinic.clinician.id,
        mode=mode,
        site_id=site_for(clinic, mode),
        start=start,
    )


async def book_via_service(
    session: AsyncSession,
    clinic: Clinic,
    start: datetime,
    *,
    patient_id: int,
    mode: str = "video_home",
) -> Appointment:
    """A booking made by the service (no request), as staff make one: the appointment."""
    placement = await place_via_service(session, clinic, start, mode=mode)
    made = await booking.book(session, placement=placement, patient_id=patient_id, booked_by=None)
    return await booking.get_appointment(session, made.id)


async def post_booking(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    clinic: Clinic,
    start: datetime,
    **fields: object,
) -> httpx.Response:
    """POST /api/v1/appointments for the clinic's service and clinician at start, by video from
    home unless fields say otherwise; the response, unchecked."""
    body: dict[str, object] = {
        "service_id": clinic.service.id,
        "clinician_id": clinic.clinician.id,
        "start": start.isoformat(),
        "mode": "video_home",
        **fields,
    }
    return await client.post("/api/v1/appointments", json=body, headers=headers)


async def book_via_api(
    client: httpx.AsyncClient,
    session: AsyncSession,
    headers: dict[str, str],
    clinic: Clinic,
    start: datetime,
    **where: object,
) -> dict[str, Any]:
    """A booking made through the API, as staff make one: its JSON. The patient is a new one
    (its id) unless where gives one (an id or a new patient's details)."""
    if "patient" not in where:
        where["patient"] = (await make_patient(session)).id
    response = await post_booking(client, headers, clinic, start, **where)
    assert response.status_code == 201, response.text
    booked: dict[str, Any] = response.json()
    return booked
