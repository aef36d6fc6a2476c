"""What messages and invites say: templates and invites rendered from a snapshot of an
appointment (its state when the message was queued, or now for a download).

Privacy: messages and invites name the service, never a condition, and carry no NHS number,
date of birth, address or phone number of the patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.invites import Attendee, Invite, build_calendar
from scheduling.models import Appointment, Clinician, Patient, Service, Site
from telehealth.calendars import invite_url
from telehealth.config import Settings
from telehealth.video.pages import join_path
from telehealth.web.templating import TEMPLATES

MODE_LABELS = {
    "video_home": "video appointment",
    "video_site": "video appointment at a community hub",
    "in_person": "appointment",
}
_text = Environment(loader=FileSystemLoader(TEMPLATES / "messages"), autoescape=False)
_html = Environment(
    loader=FileSystemLoader(TEMPLATES / "messages"), autoescape=select_autoescape(["html"])
)
_LONDON = ZoneInfo("Europe/London")


def _when(instant: datetime) -> str:
    return instant.astimezone(_LONDON).strftime("%A %-d %B %Y at %H:%M")


for _env in (_text, _html):
    _env.filters["when"] = _when


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a message may say, read once; nothing here identifies the patient beyond
    their name and contact address."""

    appointment: Appointment
    patient: Patient
    clinician: Clinician
    service: Service
    site: Site | None
    join_url: str | None
    invite_url: str
    settings: Settings

    @property
    def is_video(self) -> bool:
        return self.appointment.mode in ("video_home", "video_site")

    @property
    def summary(self) -> str:
        return f"{self.service.name} ({MODE_LABELS[self.appointment.mode]})"

    @property
    def location(self) -> str:
        if self.site is None:
            return "Video consultation"
        return f"{self.site.name}, {self.site.address}, {self.site.postcode}"


async def snapshot(session: AsyncSession, appointment_id: int, settings: Settings) -> Snapshot:
    """The appointment as it is now."""
    a = await session.get(Appointment, appointment_id)
    assert a is not None
    return await snapshot_of(session, a, settings)


async def snapshot_of(session: AsyncSession, a: Appointment, settings: Settings) -> Snapshot:
    patient = await session.get(Patient, a.patient_id)
    clinician = await session.get(Clinician, a.clinician_id)
    service = await session.get(Service, a.service_id)
    site = await session.get(Site, a.site_id) if a.site_id else None
    assert patient and clinician and service
    join = settings.public_base_url + join_path(settings, a) if a.mode != "in_person" else None
    return Snapshot(
        a, patient, clinician, service, site, join, invite_url(settings, a.id), settings
    )


def invite(s: Snapshot, *, method: str, for_clinician: bool) -> bytes:
    a = s.appointment
    join_url = (
        s.settings.public_base_url + "/staff/clinic" if for_clinician and s.is_video else s.join_url
    )
    description = _text.get_template("invite.txt").render(s=s, for_clinician=for_clinician)
    return build_calendar(
        Invite(
            uid=a.uid,
            sequence=a.sequence,
            method="CANCEL" if method == "CANCEL" else "REQUEST",
            start=a.starts_at,
            end=a.ends_at,
            summary=s.summary,
            location=s.location,
            organizer_email=s.settings.mail_from,
            organizer_name=s.settings.mail_from_name,
            attendees=_attendees(s),
            join_url=join_url,
            description=description,
            reminder=timedelta(hours=1),
        )
    )


def _attendees(s: Snapshot) -> tuple[Attendee, ...]:
    clinician = Attendee(s.clinician.email, s.clinician.name, role="CHAIR")
    if not s.patient.email:
        return (clinician,)
    return (Attendee(s.patient.email, _patient_name(s.patient)), clinician)


def _patient_name(p: Patient) -> str:
    return f"{p.given_name} {p.family_name}"


Audience = Literal["patient", "clinician"]


def subject(s: Snapshot, kind: str, *, for_clinician: bool) -> str:
    context = {"s": s, "kind": kind, "for_clinician": for_clinician}
    return _text.get_template("subject.txt").render(**context).strip()


def email_bodies(s: Snapshot, kind: str, *, for_clinician: bool) -> tuple[str, str]:
    context = {"s": s, "kind": kind, "for_clinician": for_clinician}
    return (
        _text.get_template("email.txt").render(**context),
        _html.get_template("email.html").render(**context),
    )


def sms_body(s: Snapshot, kind: str) -> str:
    return _text.get_template("sms.txt").render(s=s, kind=kind, for_clinician=False).strip()
