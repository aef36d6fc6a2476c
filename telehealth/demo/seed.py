"""Morecambe Bay demo data: `telehealth seed-demo` loads it into an empty database.

Everything goes through the scheduling services (they validate), and every appointment is
booked on a slot the availability code offered, exactly as a navigator would book it (see
`demo_appointments`: months of past clinics with their outcomes, today's and the weeks
ahead). A seeded random generator picks names, postcodes and slots, so two runs on the same
date give the same data. `seed` flushes but never commits: the caller owns the transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import access, directory, patients
from scheduling.availability import create_exception, create_session
from scheduling.directory_schemas import (
    ClinicianIn,
    ExceptionIn,
    OrganisationIn,
    ServiceIn,
    SessionIn,
    SiteIn,
)
from scheduling.models import (
    Appointment,
    ClinicianSession,
    Mode,
    Organisation,
    Service,
    Site,
    SiteKind,
)
from scheduling.schemas import PatientIn
from telehealth.demo import appointments as demo_appointments
from telehealth.demo import data as cast
from telehealth.demo import patients as demo_patients
from telehealth.demo import referrals as demo_referrals
from telehealth.demo import sites as places
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.auth.service import create_user
from telehealth.kernel.timefmt import LONDON
from telehealth.travel.maths import Point
from telehealth.travel.pages import last_full_months
from telehealth.travel.reports import ReportQuery, travel_report

PATIENTS = 60


@dataclass
class DemoSummary:
    organisations: int = 0
    sites: int = 0
    hubs: int = 0
    rooms: int = 0
    clinicians: int = 0
    services: int = 0
    sessions: int = 0
    patients: int = 0
    today: date | None = None
    first_day: date | None = None
    last_day: date | None = None
    booked: demo_appointments.Booked | None = None
    travel_range: tuple[date, date] | None = None
    travel_avoided: dict[str, Decimal] = field(default_factory=dict)
    logins: list[cast.DemoLogin] = field(default_factory=list)
    reception_hubs: list[str] = field(default_factory=list)
    referrals: int = 0

    @property
    def appointments(self) -> int:
        return sum(self.booked.past.values()) + self.booked.upcoming if self.booked else 0

    def describe(self) -> str:
        counts: list[tuple[str, object]] = [
            ("organisations", self.organisations),
            ("sites", f"{self.sites} ({self.hubs} community video hubs, {self.rooms} rooms)"),
            ("clinicians", self.clinicians),
            ("services", self.services),
            ("sessions", f"{self.sessions} (from {self.first_day} to {self.last_day})"),
            ("patients", self.patients),
            ("referrals", f"{self.referrals} open (see the navigator's worklist)"),
        ]
        if self.booked:
            past = self.booked.past
            counts += [
                ("appointments", self.appointments),
                (
                    "  before today",
                    f"{sum(past.values())}: {past[demo_appointments.Outcome.ATTENDED]} attended, "
                    f"{past[demo_appointments.Outcome.TELEPHONE]} by telephone, "
                    f"{past[demo_appointments.Outcome.DID_NOT_ATTEND]} did not attend, "
                    f"{past[demo_appointments.Outcome.CANCELLED]} cancelled",
                ),
                (
                    "  from today",
                    f"{self.booked.upcoming} booked ({self.booked.upcoming_cancelled} since "
                    f"cancelled), {self.booked.todays_clinic} of them in today's clinic of "
                    f"the clinician login",
                ),
            ]
        if self.travel_range and self.travel_avoided:
            start, end = self.travel_range
            counts.append(
                (
                    "travel avoided",
                    f"{self.travel_avoided['avoided_miles']:,} miles, "
                    f"{self.travel_avoided['avoided_co2e_kg']:,} kg CO2e "
                    f"from {start} to {end} (the travel report's first view)",
                )
            )
        lines = ["Morecambe Bay demo data loaded:"]
        lines += [f"  {name:<15} {value}" for name, value in counts]
        width = max(len(login.email) for login in self.logins) if self.logins else 5
        lines += ["", "Demo logins:", f"  {'role':<10} {'email':<{width}}  password"]
        lines += [f"  {u.role:<10} {u.email:<{width}}  {u.password}" for u in self.logins]
        if self.reception_hubs:
            lines.append(f"  (reception works at {', '.join(self.reception_hubs)})")
        lines += [
            "",
            "These credentials are for local demo use only: never load demo data into a real",
            "deployment, and never use these passwords anywhere else.",
        ]
        return "\n".join(lines)


def london_today() -> date:
    return datetime.now(LONDON).date()


async def is_empty(session: AsyncSession) -> bool:
    """No organisations and no staff users."""
    organisations = await session.scalar(select(func.count()).select_from(Organisation))
    users = await session.scalar(select(func.count()).select_from(StaffUser))
    return not organisations and not users


async def seed(session: AsyncSession, *, today: date | None = None) -> DemoSummary:
    """Load the demo around `today` (default: London's today): sessions from HISTORY_WEEKS
    before it to WEEKS after, past clinics up to the day before, bookings from it on, and
    every appointment's travel record (from the postcodes already imported)."""
    today = today or london_today()
    summary = DemoSummary(
        today=today,
        first_day=today - timedelta(weeks=cast.HISTORY_WEEKS),
        last_day=today + timedelta(weeks=cast.WEEKS),
    )
    users = await _users(session, summary)
    organisations = {
        key: (await directory.create_organisation(session, OrganisationIn(name=n, ods_code=c))).id
        for key, (n, c) in places.ORGANISATIONS.items()
    }
    sites = await _sites(session, organisations, summary)
    clinicians = await _clinicians(session, organisations, users)
    services = await _services(session, organisations, sites, summary)
    await _sessions(session, clinicians, services, sites, today, summary)
    details = demo_patients.patient_details(PATIENTS)
    patient_ids = [(await patients.find_or_create(session, data)).id for data in details]
    summary.organisations, summary.clinicians = len(organisations), len(clinicians)
    summary.patients = len(patient_ids)
    bookers = await _bookers(session, services, patient_ids, details, users, clinicians)
    summary.booked = await demo_appointments.load(
        session,
        bookers,
        random.Random(demo_patients.SEED),
        today=today,
        demo_clinician=clinicians[cast.CLINICIAN_USER],
    )
    summary.reception_hubs = await _reception_desk(session, users["reception"], today)
    navigator = await session.get(StaffUser, users["navigator"])
    assert navigator is not None
    summary.referrals = await demo_referrals.load(
        session,
        navigator=navigator,
        services=list(services.values()),
        patient_ids=patient_ids,
        today=today,
    )
    await demo_appointments.travel_records(session)
    summary.travel_range = last_full_months(today)
    report = await travel_report(session, ReportQuery(*summary.travel_range))
    summary.travel_avoided = report["headline"]
    await session.flush()
    return summary


async def _reception_desk(session: AsyncSession, user_id: int, today: date) -> list[str]:
    """The demo receptionist works at the hub with the most video appointments from today on,
    so their desk has people to check in (reception sees only their own hubs' lists)."""
    start = datetime.combine(today, time(0), LONDON)
    busiest = await session.scalar(
        select(Appointment.site_id)
        .where(Appointment.mode == Mode.VIDEO_SITE.value, Appointment.starts_at >= start)
        .group_by(Appointment.site_id)
        .order_by(func.count().desc(), Appointment.site_id)
        .limit(1)
    )
    user = await session.get(StaffUser, user_id)
    assert user is not None
    return await access.set_hubs(session, user, [busiest] if busiest is not None else [])


async def _clinicians(
    session: AsyncSession, organisations: dict[str, int], users: dict[str, int]
) -> dict[str, int]:
    ids = {}
    for spec in cast.CLINICIANS:
        made = await directory.create_clinician(
            session,
            ClinicianIn(
                organisation_id=organisations[spec.organisation],
                name=spec.name,
                profession=spec.profession,
                email=spec.email,
                user_id=users["clinician"] if spec.key == cast.CLINICIAN_USER else None,
            ),
        )
        ids[spec.key] = made.id
    return ids


async def _bookers(
    session: AsyncSession,
    services: dict[str, Service],
    patient_ids: list[int],
    details: list[PatientIn],
    users: dict[str, int],
    clinicians: dict[str, int],
) -> demo_appointments.Bookers:
    points = cast.codepoint("la")
    homes = {pid: _point(points, p.postcode) for pid, p in zip(patient_ids, details, strict=True)}
    return demo_appointments.Bookers(
        services=list(services.values()),
        patients=patient_ids,
        near_hub=demo_appointments.patients_by_hub(homes, await _hub_points(session, points)),
        users=users,
        clinician_users={clinicians[cast.CLINICIAN_USER]: users["clinician"]},
    )


def _point(points: dict[str, tuple[int, int]], postcode: str | None) -> Point | None:
    found = points.get(postcode) if postcode else None
    return Point(*found) if found else None


async def _hub_points(
    session: AsyncSession, points: dict[str, tuple[int, int]]
) -> dict[int, Point]:
    """The active community hubs where their postcode is known: a navigator's choice."""
    hubs = await session.execute(
        select(Site.id, Site.postcode).where(
            Site.kind == SiteKind.COMMUNITY_HUB, Site.active.is_(True)
        )
    )
    return {site_id: point for site_id, postcode in hubs if (point := _point(points, postcode))}


async def _users(session: AsyncSession, summary: DemoSummary) -> dict[str, int]:
    ids = {}
    for login in cast.DEMO_LOGINS:
        user = await create_user(
            session, email=login.email, name=login.name, role=login.role, password=login.password
        )
        ids[login.role] = user.id
        summary.logins.append(login)
    return ids


async def _sites(
    session: AsyncSession, organisations: dict[str, int], summary: DemoSummary
) -> dict[str, int]:
    ids = {}
    for spec in (*places.HOSPITALS, *places.HUBS):
        kind = SiteKind.COMMUNITY_HUB if spec.rooms else SiteKind.HOSPITAL
        site = await directory.create_site(
            session,
            SiteIn(
                organisation_id=organisations[spec.organisation],
                kind=kind,
                name=spec.name,
                address=spec.address,
                postcode=spec.postcode,
                icc=spec.icc,
                video_rooms=spec.rooms,
                directions=spec.directions,
                phone=spec.phone,
            ),
        )
        ids[spec.key] = site.id
        summary.hubs += kind == SiteKind.COMMUNITY_HUB
        summary.rooms += spec.rooms
    summary.sites = len(ids)
    return ids


async def _services(
    session: AsyncSession,
    organisations: dict[str, int],
    sites: dict[str, int],
    summary: DemoSummary,
) -> dict[str, Service]:
    found = {}
    for spec in cast.SERVICES:
        out = await directory.create_service(
            session,
            ServiceIn(
                organisation_id=organisations[spec.organisation],
                name=spec.name,
                specialty=spec.specialty,
                length_minutes=spec.length,
                modes=[Mode(m) for m in spec.modes],
                usual_site_id=sites[spec.usual_site],
                min_notice_minutes=spec.min_notice,
                horizon_days=spec.horizon,
                buffer_minutes=spec.buffer,
                phone=spec.phone,
            ),
        )
        found[spec.key] = await directory.require_service(session, out.id)
    summary.services = len(found)
    return found


def _session_shape(
    services: list[Service],
) -> tuple[list[Mode], int | None]:
    """The modes every one of the services offers, and the in-person site they share."""
    modes = [Mode(m) for m in cast.ALL_MODES if all(m in s.modes for s in services)]
    sites = {s.usual_site_id for s in services}
    assert len(sites) == 1, "a session's services share their usual in-person site"
    return modes, (sites.pop() if Mode.IN_PERSON in modes else None)


async def _sessions(
    session: AsyncSession,
    clinicians: dict[str, int],
    services: dict[str, Service],
    sites: dict[str, int],
    today: date,
    summary: DemoSummary,
) -> None:
    for spec in cast.SESSIONS:
        offered = [services[key] for key in spec.services]
        modes, site_id = _session_shape(offered)
        await create_session(
            session,
            clinician_id=clinicians[spec.clinician],
            data=SessionIn(
                weekday=spec.weekday,
                start_time=time.fromisoformat(spec.hours[0]),
                end_time=time.fromisoformat(spec.hours[1]),
                valid_from=today - timedelta(weeks=cast.HISTORY_WEEKS),
                valid_until=today + timedelta(weeks=cast.WEEKS),
                modes=modes,
                service_ids=[s.id for s in offered],
                site_id=site_id,
                hub_ids=[sites[h] for h in spec.hubs] if spec.hubs else None,
            ),
        )
    await _exceptions(session, clinicians, services, today)
    summary.sessions = (
        await session.scalar(select(func.count()).select_from(ClinicianSession))
    ) or 0


async def _exceptions(
    session: AsyncSession, clinicians: dict[str, int], services: dict[str, Service], today: date
) -> None:
    """A week's leave starting on the Monday two weeks on, and a Saturday clinic in week two."""
    monday = _next(today + timedelta(weeks=2), weekday=0)
    await create_exception(
        session,
        clinician_id=clinicians[cast.LEAVE_CLINICIAN],
        data=ExceptionIn(
            start_date=monday, end_date=monday + timedelta(days=4), reason=cast.LEAVE_REASON
        ),
    )
    await create_exception(
        session,
        clinician_id=clinicians[cast.EXTRA_CLINICIAN],
        data=ExceptionIn(
            kind="extra",
            start_date=_next(today + timedelta(weeks=1), weekday=5),
            start_time=time(9),
            end_time=time(12, 30),
            reason="Waiting list initiative",
            modes=[Mode.VIDEO_HOME],
            service_ids=[services[cast.EXTRA_SERVICE].id],
        ),
    )


def _next(day: date, *, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)
