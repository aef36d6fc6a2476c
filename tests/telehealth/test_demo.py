"""The Morecambe Bay demo data: loads through the services, bookable, and real postcodes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import (
    Appointment,
    Clinician,
    ClinicianSession,
    Leave,
    Organisation,
    Patient,
    Service,
    Site,
    VideoRoom,
)
from scheduling.slot_inputs import load_availability, service_rules
from scheduling.slots import expand_slots
from telehealth import demo, demo_data
from telehealth.auth.models import StaffUser
from telehealth.auth.service import authenticate_password
from telehealth.db import utcnow
from telehealth.identifiers import parse_nhs_number, parse_postcode

# Known points from REFERENCE.md (OS Code-Point Open).
HOSPITAL_POINTS = {
    "LA1 4RP": (347761, 461046),
    "LA14 4LF": (321179, 471847),
    "LA9 7RG": (352493, 490303),
}


async def _count(session: AsyncSession, table: type[object]) -> int:
    return (await session.scalar(select(func.count()).select_from(table))) or 0


async def _seeded(session: AsyncSession) -> demo.DemoSummary:
    assert await demo.is_empty(session)
    summary = await demo.seed(session)
    assert not await demo.is_empty(session)
    return summary


async def test_seed_loads_the_bay(session: AsyncSession) -> None:
    summary = await _seeded(session)

    expected = {
        Organisation: 3,
        Site: 3 + len(demo_data.HUBS),
        Clinician: len(demo_data.CLINICIANS),
        Service: len(demo_data.SERVICES),
        ClinicianSession: len(demo_data.SESSIONS) + 1,  # and one Saturday extra session
        Leave: 1,
        Patient: demo.PATIENTS,
        Appointment: demo.APPOINTMENTS,
        StaffUser: 5,
    }
    for table, count in expected.items():
        assert await _count(session, table) == count, table.__name__
    rooms = sum(h.rooms for h in demo_data.HUBS)
    assert await _count(session, VideoRoom) == rooms
    assert (summary.organisations, summary.sites, summary.hubs, summary.rooms) == (
        3,
        12,
        len(demo_data.HUBS),
        rooms,
    )
    assert summary.clinicians == len(demo_data.CLINICIANS)
    assert summary.services == len(demo_data.SERVICES)
    assert summary.sessions == len(demo_data.SESSIONS) + 1
    assert (summary.patients, summary.appointments) == (demo.PATIENTS, demo.APPOINTMENTS)

    statuses = dict(
        (await session.execute(select(Appointment.status, func.count()).group_by("status"))).all()
    )
    assert statuses == {"booked": demo.APPOINTMENTS - demo.CANCELLED, "cancelled": demo.CANCELLED}
    reasons = await session.scalars(
        select(Appointment.cancel_reason).where(Appointment.status == "cancelled")
    )
    assert all(reasons)
    modes = set(await session.scalars(select(Appointment.mode).distinct()))
    assert modes == {"video_home", "video_site", "in_person"}
    assert min(await session.scalars(select(Appointment.starts_at))) > utcnow()

    # The clinician login is a clinician.
    linked = await session.scalar(
        select(Clinician).join(StaffUser, StaffUser.id == Clinician.user_id)
    )
    assert linked is not None and linked.profession == "Consultant Cardiologist"

    text = summary.describe()
    for login in summary.logins:
        assert login.email in text and login.password in text
    assert "local demo use only" in text


async def test_seeded_demo_is_ready_to_use(session: AsyncSession) -> None:
    """One seed, several checks: seeding takes a second or two, so tests share it."""
    summary = await _seeded(session)
    await _every_service_has_free_slots_in_every_mode(session, summary)
    await _demo_users_can_sign_in(session, summary)
    await _video_site_appointments_have_an_active_room_at_their_hub(session)


async def _every_service_has_free_slots_in_every_mode(
    session: AsyncSession, summary: demo.DemoSummary
) -> None:
    assert summary.first_day is not None
    start, end = summary.first_day, summary.first_day + timedelta(weeks=4)
    now = utcnow()
    for service in await session.scalars(select(Service)):
        availability = await load_availability(
            session, service_id=service.id, start_date=start, end_date=end
        )
        free = expand_slots(
            availability, service_rules(service), start_date=start, end_date=end, now=now
        )
        assert {s.mode for s in free} == set(service.modes), service.name


async def _demo_users_can_sign_in(session: AsyncSession, summary: demo.DemoSummary) -> None:
    roles = {login.role for login in summary.logins}
    assert roles == {"admin", "clinician", "navigator", "reception", "analyst"}
    for login in summary.logins:
        assert len(login.password) >= 10
        user = await authenticate_password(session, email=login.email, password=login.password)
        assert user.role == login.role


async def _video_site_appointments_have_an_active_room_at_their_hub(
    session: AsyncSession,
) -> None:
    rows = (
        await session.execute(
            select(Appointment, VideoRoom, Site)
            .join(VideoRoom, VideoRoom.id == Appointment.room_id)
            .join(Site, Site.id == VideoRoom.site_id)
            .where(Appointment.mode == "video_site")
        )
    ).all()
    total = await session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.mode == "video_site")
    )
    assert rows and len(rows) == total
    for appointment, room, site in rows:
        assert room.active and site.active and site.kind == "community_hub"
        assert appointment.site_id == site.id


def test_every_demo_postcode_is_in_code_point_open() -> None:
    points = demo_data.codepoint("la")
    for site in (*demo_data.HOSPITALS, *demo_data.HUBS):
        assert parse_postcode(site.postcode) == site.postcode
        assert site.postcode in points, site.name
        assert site.icc in demo_data.ICCS
    for postcode, point in HOSPITAL_POINTS.items():
        assert points[postcode] == point
    assert {s.icc for s in (*demo_data.HOSPITALS, *demo_data.HUBS)} == set(demo_data.ICCS)
    for patient in demo.patient_details(demo.PATIENTS):
        assert patient.postcode in points


def test_patients_are_the_same_every_time_with_test_nhs_numbers() -> None:
    first, second = demo.patient_details(demo.PATIENTS), demo.patient_details(demo.PATIENTS)
    assert first == second
    numbers = [p.nhs_number for p in first]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert number is not None and number.startswith("999")
        assert parse_nhs_number(number) == number
    mobiles = [p.mobile for p in first if p.mobile]
    assert mobiles and all(m.startswith("+447700900") for m in mobiles)
    assert any(p.interpreter_language for p in first)
    assert all(p.email and p.email.endswith("@example.com") for p in first)
