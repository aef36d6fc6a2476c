"""What patients and clinicians are told when an appointment is booked, moved or cancelled,
and the reminders before it. Runs inside the change's own transaction (a domain event
handler), so the messages are queued if and only if the change commits.

Privacy: messages and invites name the service, never a condition, and carry no NHS number,
date of birth, address or phone number of the patient.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import outbox
from notifications.invites import Attendee, Invite, build_calendar
from notifications.models import Channel
from scheduling.models import Appointment, Clinician, Patient, Service, Site
from telehealth.calendars import invite_url
from telehealth.config import Settings
from telehealth.db import utcnow
from telehealth.events import AppointmentChanged
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
    a = await session.get(Appointment, appointment_id)
    assert a is not None
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


def _message_id(s: Snapshot, key: str) -> str:
    domain = s.settings.mail_from.rsplit("@", 1)[-1]
    return f"<{key.replace(':', '.')}.{secrets.token_hex(6)}@{domain}>"


def _patient_messages(
    s: Snapshot, kind: str, *, not_before: datetime | None = None, tag: str = ""
) -> list[outbox.NewMessage]:
    a, p = s.appointment, s.patient
    method = "CANCEL" if kind == "cancellation" else "REQUEST"
    wanted = []
    if p.contact_preference in ("email", "both") and p.email:
        wanted.append(Channel.EMAIL)
    if p.contact_preference in ("sms", "both") and p.mobile:
        wanted.append(Channel.SMS)
    messages = []
    for channel in wanted:
        key = f"appt{a.id}:seq{a.sequence}:{kind}{tag}:{channel.value}:patient"
        context = {"s": s, "kind": kind, "for_clinician": False}
        if channel == Channel.EMAIL:
            messages.append(
                outbox.NewMessage(
                    dedupe_key=key,
                    kind=kind,
                    channel=channel.value,
                    recipient=str(p.email),
                    recipient_name=_patient_name(p),
                    message_id=_message_id(s, key),
                    subject=_text.get_template("subject.txt").render(**context).strip(),
                    body_text=_text.get_template("email.txt").render(**context),
                    body_html=_html.get_template("email.html").render(**context),
                    calendar=None
                    if kind == "reminder"
                    else invite(s, method=method, for_clinician=False),
                    calendar_method=None if kind == "reminder" else method,
                    appointment_id=a.id,
                    not_before=not_before,
                )
            )
        else:
            messages.append(
                outbox.NewMessage(
                    dedupe_key=key,
                    kind=kind,
                    channel=channel.value,
                    recipient=str(p.mobile),
                    recipient_name=_patient_name(p),
                    message_id=_message_id(s, key),
                    body_text=_text.get_template("sms.txt").render(**context).strip(),
                    appointment_id=a.id,
                    not_before=not_before,
                )
            )
    return messages


def _clinician_notice(s: Snapshot, kind: str) -> outbox.NewMessage:
    a = s.appointment
    method = "CANCEL" if kind == "cancellation" else "REQUEST"
    key = f"appt{a.id}:seq{a.sequence}:{kind}:email:clinician"
    context = {"s": s, "kind": kind, "for_clinician": True}
    return outbox.NewMessage(
        dedupe_key=key,
        kind="clinician_notice",
        channel=Channel.EMAIL.value,
        recipient=s.clinician.email,
        recipient_name=s.clinician.name,
        message_id=_message_id(s, key),
        subject=_text.get_template("subject.txt").render(**context).strip(),
        body_text=_text.get_template("email.txt").render(**context),
        body_html=_html.get_template("email.html").render(**context),
        calendar=invite(s, method=method, for_clinician=True),
        calendar_method=method,
        appointment_id=a.id,
    )


def reminders(s: Snapshot, *, now: datetime) -> list[outbox.NewMessage]:
    found = []
    for minutes in s.settings.reminder_offsets:
        due = s.appointment.starts_at - timedelta(minutes=minutes)
        if due <= now:
            continue  # never a reminder for a moment already past
        found += _patient_messages(s, "reminder", not_before=due, tag=f"-{minutes}m")
    return found


KIND_FOR_CHANGE = {"booked": "confirmation", "rescheduled": "change", "cancelled": "cancellation"}


async def on_appointment_changed(
    session: AsyncSession, event: AppointmentChanged, *, settings: Settings
) -> None:
    kind = KIND_FOR_CHANGE.get(event.change)
    if kind is None:
        return
    s = await snapshot(session, event.appointment_id, settings)
    # A move or a cancellation replaces every reminder of the old time.
    await outbox.cancel_pending(session, appointment_id=event.appointment_id, kinds=["reminder"])
    messages = [*_patient_messages(s, kind), _clinician_notice(s, kind)]
    if kind != "cancellation":
        messages += reminders(s, now=utcnow())
    await outbox.enqueue(session, messages)
