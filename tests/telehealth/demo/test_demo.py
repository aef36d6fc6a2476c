"""The Morecambe Bay demo data: loads through the services, tells the truth about its past and
its hubs, and real postcodes.

Seeding takes a few seconds, so one seeded database per dialect (as `telehealth seed-demo`
leaves it: the Bay's postcodes, then the demo) is shared by the module; a test that writes
does so in a transaction it rolls back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import create_app
from notifications.models import OutboxMessage
from scheduling.models import (
    Appointment,
    AppointmentChange,
    AppointmentEvent,
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
from scheduling.slots import bank_holidays_between, expand_slots, london_datetime, to_london
from telehealth import messaging
from telehealth.demo import appointments as demo_appointments
from telehealth.demo import data as demo_data
from telehealth.demo import patients as demo_patients
from telehealth.demo import seed as demo
from telehealth.demo import sites as demo_sites
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.auth.service import authenticate_password
from telehealth.kernel.db import create_engine, utcnow
from telehealth.kernel.identifiers import parse_nhs_number, parse_postcode
from telehealth.travel import postcodes
from telehealth.travel.maths import Point, straight_line_km
from telehealth.travel.models import AppointmentTravel, TravelQueue
from telehealth.travel.pages import last_full_months
from telehealth.travel.reports import ReportQuery, travel_report
from tests.conftest import DIALECTS, TEST_SETTINGS, Databases

# Known points from REFERENCE.md (OS Code-Point Open).
HOSPITAL_POINTS = {
    "LA1 4RP": (347761, 461046),
    "LA14 4LF": (321179, 471847),
    "LA9 7RG": (352493, 490303),
}
README = Path(__file__).resolve().parents[3] / "README.md"


def clinic_day(today: date) -> date:
    """The latest weekday on or before `today` that is not a bank holiday: a day the demo
    clinician has a clinic, so the checks of today's clinic hold whatever day they run."""
    holidays = bank_holidays_between(today - timedelta(days=14), today)
    while today.weekday() > 4 or today in holidays:
        today -= timedelta(days=1)
    return today


@dataclass(frozen=True)
class Seeded:
    engine: AsyncEngine
    summary: demo.DemoSummary
    today: date


@pytest.fixture(scope="module", params=DIALECTS)
async def seeded(request: pytest.FixtureRequest, databases: Databases) -> AsyncIterator[Seeded]:
    if not databases.available(request.param):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    engine = create_engine(await databases.migrated(request.param))
    today = clinic_day(demo.london_today())
    async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
        await postcodes.import_areas(session, ["la", "ca"])  # as seed-demo does first
        assert await demo.is_empty(session)
        summary = await demo.seed(session, today=today)
        assert not await demo.is_empty(session)
    yield Seeded(engine, summary, today)
    await engine.dispose()


@pytest.fixture
async def demo_sessionmaker(seeded: Seeded) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the seeded database inside a transaction rolled back at the end."""
    async with seeded.engine.connect() as connection:
        outer = await connection.begin()
        yield async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        await outer.rollback()


@pytest.fixture
async def demo_session(
    demo_sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with demo_sessionmaker() as session:
        yield session


async def _count(session: AsyncSession, table: type[object]) -> int:
    return (await session.scalar(select(func.count()).select_from(table))) or 0


def _start_of(day: date) -> datetime:
    return london_datetime(day, time())


async def test_seed_loads_the_bay(seeded: Seeded, demo_session: AsyncSession) -> None:
    summary, session = seeded.summary, demo_session
    assert summary.booked is not None
    expected = {
        Organisation: 3,
        Site: 3 + len(demo_sites.HUBS),
        Clinician: len(demo_data.CLINICIANS),
        Service: len(demo_data.SERVICES),
        ClinicianSession: len(demo_data.SESSIONS) + 1,  # and one Saturday extra session
        Leave: 1,
        Patient: demo.PATIENTS,
        Appointment: summary.appointments,
        StaffUser: 5,
    }
    for table, count in expected.items():
        assert await _count(session, table) == count, table.__name__
    rooms = sum(h.rooms for h in demo_sites.HUBS)
    assert await _count(session, VideoRoom) == rooms
    assert (summary.organisations, summary.sites, summary.hubs, summary.rooms) == (
        3,
        12,
        len(demo_sites.HUBS),
        rooms,
    )
    assert summary.clinicians == len(demo_data.CLINICIANS)
    assert summary.services == len(demo_data.SERVICES)
    assert summary.sessions == len(demo_data.SESSIONS) + 1
    assert summary.patients == demo.PATIENTS
    weeks = demo_data.HISTORY_WEEKS
    assert sum(summary.booked.past.values()) == weeks * demo_appointments.PAST_PER_WEEK
    modes = set(await session.scalars(select(Appointment.mode).distinct()))
    assert modes == {"video_home", "video_site", "in_person"}

    # The clinician login is a clinician.
    linked = await session.scalar(
        select(Clinician).join(StaffUser, StaffUser.id == Clinician.user_id)
    )
    assert linked is not None and linked.profession == "Consultant Cardiologist"

    text = summary.describe()
    for login in summary.logins:
        assert login.email in text and login.password in text
    assert "local demo use only" in text
    assert f"{summary.travel_avoided['avoided_miles']:,} miles" in text


async def test_past_appointments_have_each_outcome_with_its_history(
    seeded: Seeded, demo_session: AsyncSession
) -> None:
    session = demo_session
    past = list(
        await session.scalars(
            select(Appointment).where(Appointment.starts_at < _start_of(seeded.today))
        )
    )
    assert len(past) == demo_data.HISTORY_WEEKS * demo_appointments.PAST_PER_WEEK
    statuses = {a.status for a in past}
    assert statuses == {"fulfilled", "noshow", "cancelled"}, "no past appointment left booked"
    events: dict[int, list[AppointmentEvent]] = {}
    for event in await session.scalars(
        select(AppointmentEvent).order_by(AppointmentEvent.at, AppointmentEvent.id)
    ):
        events.setdefault(event.appointment_id, []).append(event)
    telephone = 0
    for a in past:
        history = events[a.id]
        assert history[-1].to_status == a.status, a.id
        assert all(e.at < utcnow() for e in history)
        if a.status == "cancelled":
            assert a.cancel_reason and history[-1].at < a.starts_at
        elif a.status == "noshow":
            assert a.call_started_at is None and a.finished_at and a.finished_at > a.starts_at
        else:
            assert a.finished_at and a.finished_at > a.starts_at
            if a.mode == "in_person":
                assert a.medium == "in_person" and a.call_started_at is None
            else:
                assert a.call_started_at and a.call_started_at < a.finished_at
                assert a.medium in ("video", "telephone")
                telephone += a.medium == "telephone"
    assert telephone, "some video calls were switched to telephone"
    outcomes = seeded.summary.booked.past if seeded.summary.booked else {}
    assert outcomes[demo_appointments.Outcome.TELEPHONE] == telephone
    assert outcomes[demo_appointments.Outcome.CANCELLED] == sum(
        a.status == "cancelled" for a in past
    )

    upcoming = list(
        await session.scalars(
            select(Appointment).where(Appointment.starts_at >= _start_of(seeded.today))
        )
    )
    assert {a.status for a in upcoming} == {"booked", "cancelled"}
    cancelled = [a for a in upcoming if a.status == "cancelled"]
    assert len(cancelled) == demo_appointments.UPCOMING_CANCELLED
    assert all(a.cancel_reason for a in cancelled)


async def test_the_readme_says_when_the_demo_appointments_are(
    seeded: Seeded, demo_session: AsyncSession
) -> None:
    text = " ".join(README.read_text().split())
    said = re.search(
        r"The demo holds (\d+) weeks of past appointments .*? and (\d+) weeks of booked ones "
        r"starting on the day it is loaded\. The clinician login has a clinic every weekday "
        r"that is not a bank holiday",
        text,
    )
    assert said, "the README's sentence about the demo's dates"
    history, ahead = int(said.group(1)), int(said.group(2))
    today, session = seeded.today, demo_session
    starts = sorted(await session.scalars(select(Appointment.starts_at)))
    first_past = today - timedelta(weeks=history)
    assert _start_of(first_past) <= starts[0] < _start_of(first_past + timedelta(days=7))
    assert starts[-1] < _start_of(today + timedelta(weeks=ahead, days=1))
    assert starts[-1] >= _start_of(today + timedelta(weeks=ahead - 1))
    # The first booked one is on the day the demo was loaded: the clinician login's clinic.
    upcoming = [s for s in starts if s >= _start_of(today)]
    assert upcoming[0] < _start_of(today + timedelta(days=1))
    clinician_id = await session.scalar(
        select(Clinician.id).join(StaffUser, StaffUser.id == Clinician.user_id)
    )
    todays = await session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.clinician_id == clinician_id,
            Appointment.starts_at >= _start_of(today),
            Appointment.starts_at < _start_of(today + timedelta(days=1)),
            Appointment.status == "booked",
        )
    )
    assert todays == demo_appointments.TODAYS_CLINIC
    weekdays = {
        s.weekday
        for s in await session.scalars(
            select(ClinicianSession).where(ClinicianSession.clinician_id == clinician_id)
        )
    }
    assert weekdays == {0, 1, 2, 3, 4}


async def test_hub_appointments_are_at_the_hub_nearest_the_patient(
    demo_session: AsyncSession,
) -> None:
    points = demo_data.codepoint("la")
    hubs = {
        site.id: (site.name, Point(*points[site.postcode]))
        for site in await demo_session.scalars(
            select(Site).where(Site.kind == "community_hub", Site.active.is_(True))
        )
    }
    rows = (
        await demo_session.execute(
            select(Appointment.site_id, Patient.postcode)
            .join(Patient, Patient.id == Appointment.patient_id)
            .where(Appointment.mode == "video_site")
        )
    ).all()
    assert len(rows) > 20
    used = set()
    for site_id, postcode in rows:
        assert site_id is not None and postcode is not None
        home = Point(*points[postcode])
        km = {hub: straight_line_km(home, point) for hub, (_, point) in hubs.items()}
        assert km[site_id] <= min(km.values()) + 0.5, (postcode, hubs[site_id][0])
        used.add(site_id)
        if postcode.split()[0] in ("LA1", "LA2", "LA3", "LA4"):  # Lancaster and Morecambe
            assert "Sedbergh" not in hubs[site_id][0], postcode
    assert len(used) >= 5, "hub patients come from round the Bay"


async def test_the_travel_report_s_first_view_has_figures(
    seeded: Seeded, demo_session: AsyncSession
) -> None:
    """Computed by the seed itself, so they are there before the worker first runs."""
    assert await _count(demo_session, TravelQueue) == 0
    appointments = await _count(demo_session, Appointment)
    assert await _count(demo_session, AppointmentTravel) == appointments
    start, end = last_full_months(demo.london_today())  # what the page shows first
    report = await travel_report(demo_session, ReportQuery(start, end))  # attended
    headline = report["headline"]
    assert headline["appointments"] > 50
    assert headline["avoided_miles"] > 0 and headline["avoided_co2e_kg"] > 0
    assert len(report["by_month"]) >= 4 and len(report["by_home_icc"]) >= 5
    assert report["methodology"]["pending"] == 0
    assert seeded.summary.travel_avoided["avoided_miles"] > 0


async def test_the_analyst_s_first_view_of_the_report_page_has_figures(
    seeded: Seeded, demo_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app = create_app(TEST_SETTINGS, sessionmaker=demo_sessionmaker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        analyst = next(login for login in seeded.summary.logins if login.role == "analyst")
        page = await client.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        done = await client.post(
            "/staff/login",
            data={"csrf": csrf.group(1), "email": analyst.email, "password": analyst.password},
        )
        assert done.status_code == 303, done.text
        page = await client.get("/staff/reports/travel")
    assert page.status_code == 200
    for figure in ("appointments", "avoided_miles", "avoided_co2e_kg"):
        shown = re.search(rf'data-figure="{figure}">([^<]+)<', page.text)
        assert shown, figure
        assert Decimal(shown.group(1).replace(",", "")) > 0, figure


async def test_no_message_is_queued_for_an_appointment_already_over(
    demo_session: AsyncSession,
) -> None:
    """The change feed holds every demo booking; the worker tells nobody about the past."""
    before = utcnow()
    while await messaging.messages_from_changes(demo_session, TEST_SETTINGS, limit=1000):
        pass
    after = utcnow()
    assert await _count(demo_session, AppointmentChange) == 0
    told = (
        await demo_session.execute(
            select(OutboxMessage.kind, Appointment.id, Appointment.ends_at).join(
                Appointment, Appointment.id == OutboxMessage.appointment_id
            )
        )
    ).all()
    assert told and all(ends_at > before for _, _, ends_at in told)
    confirmed = {appointment_id for kind, appointment_id, _ in told if kind == "confirmation"}
    to_come = set(
        await demo_session.scalars(select(Appointment.id).where(Appointment.ends_at > after))
    )
    assert to_come <= confirmed, "every appointment still to come is confirmed"


async def _shape(session: AsyncSession, today: date) -> list[tuple[object, ...]]:
    """The appointments, less the moments of the upcoming ones' cancellations (made by the
    seed as it runs, so at the real time)."""
    rows = await session.execute(
        select(
            Appointment.starts_at,
            Appointment.mode,
            Appointment.status,
            Appointment.medium,
            Appointment.call_started_at,
            Appointment.finished_at,
            Clinician.email,
            Patient.nhs_number,
            Site.name,
        )
        .join(Clinician, Clinician.id == Appointment.clinician_id)
        .join(Patient, Patient.id == Appointment.patient_id)
        .outerjoin(Site, Site.id == Appointment.site_id)
        .order_by(Appointment.starts_at, Clinician.email, Patient.nhs_number)
    )
    return [
        (*row[:5], row.finished_at if row.starts_at < _start_of(today) else None, *row[6:])
        for row in rows
    ]


async def test_seed_is_the_same_on_the_same_day(seeded: Seeded, databases: Databases) -> None:
    """A second load on the same day, into another empty database, books the same. On
    SQLite only: a third seed per dialect costs more than it could find, the seed's choices
    coming from ordered queries and a seeded generator alike on both."""
    if seeded.engine.dialect.name != "sqlite":
        pytest.skip("checked on SQLite")
    engine = create_engine(await databases.migrated(seeded.engine.dialect.name))
    try:
        async with engine.connect() as connection, AsyncSession(bind=connection) as session:
            await demo.seed(session, today=seeded.today)
            again = await _shape(session, seeded.today)  # and rolled back on leaving
    finally:
        await engine.dispose()
    async with seeded.engine.connect() as connection, AsyncSession(bind=connection) as session:
        assert await _shape(session, seeded.today) == again


async def test_seeded_demo_is_ready_to_use(seeded: Seeded, demo_session: AsyncSession) -> None:
    await _every_service_has_free_slots_in_every_mode(demo_session, seeded.today)
    await _demo_users_can_sign_in(demo_session, seeded.summary)
    await _video_site_appointments_have_an_active_room_at_their_hub(demo_session)
    await _no_patient_has_two_appointments_a_day(demo_session)


async def _every_service_has_free_slots_in_every_mode(session: AsyncSession, today: date) -> None:
    start, end = today, today + timedelta(weeks=4)
    now = max(utcnow(), london_datetime(today, time()))
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


async def _no_patient_has_two_appointments_a_day(session: AsyncSession) -> None:
    days = Counter(
        (patient_id, to_london(start).date())
        for patient_id, start in await session.execute(
            select(Appointment.patient_id, Appointment.starts_at)
        )
    )
    assert max(days.values()) == 1


def test_every_demo_postcode_is_in_code_point_open() -> None:
    points = demo_data.codepoint("la")
    for site in (*demo_sites.HOSPITALS, *demo_sites.HUBS):
        assert parse_postcode(site.postcode) == site.postcode
        assert site.postcode in points, site.name
        assert site.icc in demo_sites.ICCS
    for postcode, point in HOSPITAL_POINTS.items():
        assert points[postcode] == point
    assert {s.icc for s in (*demo_sites.HOSPITALS, *demo_sites.HUBS)} == set(demo_sites.ICCS)
    for patient in demo_patients.patient_details(demo.PATIENTS):
        assert patient.postcode in points


def test_patients_are_the_same_every_time_with_test_nhs_numbers() -> None:
    first, second = (
        demo_patients.patient_details(demo.PATIENTS),
        demo_patients.patient_details(demo.PATIENTS),
    )
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


async def test_the_receptionist_works_at_a_hub_with_people_to_check_in(
    seeded: Seeded, demo_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from scheduling.models import Site, StaffSite

    assert seeded.summary.reception_hubs
    async with demo_sessionmaker() as session:
        hub_ids = list(await session.scalars(select(StaffSite.site_id)))
        names = list(await session.scalars(select(Site.name).where(Site.id.in_(hub_ids))))
    assert names == seeded.summary.reception_hubs
    app = create_app(TEST_SETTINGS, sessionmaker=demo_sessionmaker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        desk = next(login for login in seeded.summary.logins if login.role == "reception")
        page = await client.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        await client.post(
            "/staff/login",
            data={"csrf": csrf.group(1), "email": desk.email, "password": desk.password},
        )
        page = await client.get("/staff/reception")
    assert page.status_code == 200
    for name in names:
        assert name in page.text


async def test_the_demo_worklist_has_each_reason_and_the_worker_invites_the_rest(
    seeded: Seeded, demo_session: AsyncSession
) -> None:
    from scheduling import referrals
    from scheduling.referral_models import Referral
    from telehealth.kernel.auth.models import StaffUser
    from telehealth.messaging.invitations import invitations_from_referrals
    from tests.conftest import TEST_SETTINGS

    assert seeded.summary.referrals == 5
    navigator = await demo_session.scalar(select(StaffUser).where(StaffUser.role == "navigator"))
    assert navigator is not None
    reasons = {
        reason.split(":")[0]
        for entry in await referrals.worklist(demo_session, viewer=navigator)
        for reason in entry.reasons
    }
    assert reasons == {"Waiting too long", "Invitation not taken up", "Could not book online"}
    # The help-requested one is the navigators' to book, the long-invited one invited already.
    assert await invitations_from_referrals(demo_session, TEST_SETTINGS) == 3
    invited = await demo_session.scalar(
        select(func.count()).select_from(Referral).where(Referral.invited_at.is_not(None))
    )
    assert invited == 4
