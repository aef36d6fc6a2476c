"""What the patient's join pages read: the visit a signed link opens, and what it shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import clinic
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    Clinician,
    Mode,
    Patient,
    Service,
    Site,
    VideoRoom,
)
from scheduling.transitions import Live, live_state
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from telehealth.video.join import JoinClaim, Verdict, read_token, verdict


@dataclass(frozen=True, slots=True)
class Visit:
    appointment: Appointment
    service: Service
    clinician: Clinician
    site: Site | None
    room: VideoRoom | None
    verdict: Verdict
    token: str
    claim: JoinClaim

    @property
    def live(self) -> Live:
        return live_state(clinic.state_of(self.appointment))


async def find_visit(
    session: AsyncSession, settings: Settings, token: str, *, lock: bool = False
) -> Visit | None:
    """The visit `token` opens (None for a bad link or a deleted appointment); `lock` holds the
    appointment's row until the transaction ends."""
    claim: JoinClaim | None = read_token(settings.secret_key, token)
    if claim is None:
        return None
    statement = select(Appointment).where(Appointment.id == claim.appointment_id)
    appointment = await session.scalar(statement.with_for_update() if lock else statement)
    if appointment is None:
        return None
    service = await session.get(Service, appointment.service_id)
    clinician = await session.get(Clinician, appointment.clinician_id)
    assert service is not None and clinician is not None
    site = await session.get(Site, appointment.site_id) if appointment.site_id else None
    room = await session.get(VideoRoom, appointment.room_id) if appointment.room_id else None
    found = verdict(
        status=appointment.status,
        sequence=appointment.sequence,
        claim=claim,
        start=appointment.starts_at,
        end=appointment.ends_at,
        now=utcnow(),
        window=timedelta(minutes=settings.join_window_minutes),
    )
    return Visit(appointment, service, clinician, site, room, found, token, claim)


async def patient_mobile(session: AsyncSession, visit: Visit) -> str | None:
    return await session.scalar(
        select(Patient.mobile).where(Patient.id == visit.appointment.patient_id)
    )


async def patient_of(session: AsyncSession, visit: Visit) -> Patient:
    patient = await session.get(Patient, visit.appointment.patient_id)
    assert patient is not None
    return patient


async def reception_has_them(session: AsyncSession, a: Appointment) -> bool:
    """At a hub, reception marked the patient as arrived or checked them in: the patient's own
    device has nothing more to do."""
    if a.mode != Mode.VIDEO_SITE:
        return False
    if a.arrived_at is not None:
        return True
    checked_in_by = await session.scalar(
        select(AppointmentEvent.actor)
        .where(AppointmentEvent.appointment_id == a.id, AppointmentEvent.action == "check_in")
        .order_by(AppointmentEvent.at.desc(), AppointmentEvent.id.desc())
        .limit(1)
    )
    return checked_in_by == "staff"


async def last_message(session: AsyncSession, appointment_id: int) -> str | None:
    """The clinician's latest message to the waiting room, if any."""
    return await session.scalar(
        select(AppointmentEvent.message)
        .where(
            AppointmentEvent.appointment_id == appointment_id,
            AppointmentEvent.action == "message",
        )
        .order_by(AppointmentEvent.at.desc(), AppointmentEvent.id.desc())
        .limit(1)
    )
