"""What messages and invites say: templates and invites rendered from a snapshot of an
appointment (its state when the message was queued, or now for a download).

Privacy: messages and invites name the service, never a condition, and carry no NHS number,
date of birth, address or phone number of the patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.invites import Attendee, Invite, build_calendar
from scheduling import wording
from scheduling.models import Appointment, Clinician, Patient, Service, Site, VideoRoom
from telehealth.kernel import timefmt
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from telehealth.kernel.web.templating import TEMPLATES
from telehealth.messaging.invite_links import invite_url
from telehealth.messaging.patient_links import manage_url
from telehealth.video.pages import join_path

_text = Environment(loader=FileSystemLoader(TEMPLATES / "messages"), autoescape=False)
_html = Environment(
    loader=FileSystemLoader(TEMPLATES / "messages"), autoescape=select_autoescape(["html"])
)
for _env in (_text, _html):
    _env.filters["when"] = timefmt.moment
    _env.filters["lower_first"] = wording.lower_first


# What the booked page and the messages ask of a patient coming to a hub.
ARRIVE_EARLY_MINUTES = 10


def text_template(name: str) -> Template:
    """A plain-text message template (no escaping) from templates/messages/."""
    return _text.get_template(name)


def html_template(name: str) -> Template:
    return _html.get_template(name)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a message may say, read once; nothing here identifies the patient beyond
    their name and contact address. `before` is the appointment as it was before the change a
    change message tells of (None otherwise, or when that is not known)."""

    appointment: Appointment
    patient: Patient
    clinician: Clinician
    service: Service
    site: Site | None
    room: str | None
    phone: str | None
    join_url: str | None
    invite_url: str
    # "Manage your appointment": a fresh link (issued today) in every message to the patient.
    manage_url: str
    settings: Settings
    before: wording.Visit | None = None
    usual_site: str | None = None

    @property
    def is_telephone(self) -> bool:
        return self.appointment.medium == wording.TELEPHONE

    @property
    def is_video(self) -> bool:
        return self.appointment.mode in ("video_home", "video_site") and not self.is_telephone

    @property
    def at_site(self) -> bool:
        """The patient comes to a place (a hub or a clinic) for it."""
        return self.site is not None and not self.is_telephone

    @property
    def joins_from_home(self) -> bool:
        """The patient joins the call from their own device (video from home): the join
        words and link are theirs. At a hub the staff set the call up, so not there."""
        return self.join_url is not None and not self.at_site

    @property
    def hub_words(self) -> str | None:
        """What a patient seen by video at a community hub does, as the booked page says it:
        where to go, to arrive early, and that staff set up the call (None elsewhere)."""
        if self.appointment.mode != "video_site" or not self.at_site:
            return None
        return (
            f"Go to {self.address} and arrive {ARRIVE_EARLY_MINUTES} minutes early. Staff at "
            "the hub set up the video call in a private room for you: you do not need your "
            "own phone, tablet or computer."
        )

    @property
    def hub_sms(self) -> str | None:
        """The hub words short enough for a text message (its `where` names the hub)."""
        if self.hub_words is None:
            return None
        return f"Arrive {ARRIVE_EARLY_MINUTES} minutes early: hub staff set up the video call."

    @property
    def phrase(self) -> str:
        return wording.service_phrase(self.service.name)

    @property
    def how(self) -> str:
        a = self.appointment
        return wording.how(a.mode, place=self.site.name if self.site else None, medium=a.medium)

    @property
    def visit(self) -> wording.Visit:
        return wording.Visit(self.appointment.starts_at, self.how, self.clinician.name)

    @property
    def change(self) -> tuple[str, str] | None:
        return None if self.before is None else wording.change_lines(self.before, self.visit)

    @property
    def address(self) -> str:
        if self.site is None:
            return ""
        return ", ".join(p for p in (self.site.name, self.site.address, self.site.postcode) if p)

    @property
    def street(self) -> str:
        """The site's address without its name: "Thornton Road, Morecambe, LA4 5RJ"."""
        if self.site is None:
            return ""
        return ", ".join(p for p in (self.site.address, self.site.postcode) if p)

    @property
    def summary(self) -> str:
        return f"{self.service.name}: {wording.lower_first(self.how)}"

    @property
    def location(self) -> str:
        """An invite's LOCATION: the place, and the room to go to."""
        if not self.at_site:
            return self.how
        assert self.site is not None
        parts = (self.site.name, self.room, self.site.address, self.site.postcode)
        return ", ".join(p for p in parts if p)

    @property
    def contact(self) -> str:
        """How to change or cancel: "call 0113 496 0000" (see `snapshot_of` for whose)."""
        if self.phone:
            return f"call {self.phone}"
        return f"contact the {self.service.name} team" + (
            f" at {self.usual_site}" if self.usual_site else ""
        )

    def details(self, *, for_clinician: bool = False) -> list[tuple[str, str]]:
        """The appointment's particulars as label and value, in the order people need them."""
        a = self.appointment
        when = timefmt.moment(a.starts_at)
        if for_clinician:
            when += f" ({self.service.length_minutes} minutes)"
        rows = [("When", when), ("How", self.how)]
        if self.is_telephone:
            rows.append(("Phone call", f"{self.clinician.name} will phone you"))
        elif self.at_site:
            assert self.site is not None
            rows.append(("Where", self.address))
            if self.room:
                rows.append(("Room", self.room))
            if self.site.directions and not for_clinician:
                rows.append(("Getting there", self.site.directions))
        rows.append(("Booking reference", a.reference))
        return rows


async def snapshot(session: AsyncSession, appointment_id: int, settings: Settings) -> Snapshot:
    """The appointment as it is now."""
    a = await session.get(Appointment, appointment_id)
    assert a is not None
    return await snapshot_of(session, a, settings)


async def snapshot_of(
    session: AsyncSession,
    a: Appointment,
    settings: Settings,
    *,
    before: Appointment | None = None,
) -> Snapshot:
    """`a` in words. The number to call is the service's, else its site's (the hub's or the
    clinic's desk), else that of the service's usual site."""
    patient = await session.get(Patient, a.patient_id)
    clinician = await session.get(Clinician, a.clinician_id)
    service = await session.get(Service, a.service_id)
    site = await session.get(Site, a.site_id) if a.site_id else None
    room = await session.get(VideoRoom, a.room_id) if a.room_id else None
    assert patient and clinician and service
    phone = service.phone or (site.phone if site else None)
    usual = None
    if phone is None:
        usual = await session.get(Site, service.usual_site_id)
        phone = usual.phone if usual else None
    video = a.mode != "in_person" and a.medium != wording.TELEPHONE
    join = settings.public_base_url + join_path(settings, a) if video else None
    return Snapshot(
        appointment=a,
        patient=patient,
        clinician=clinician,
        service=service,
        site=site,
        room=room.name if room else None,
        phone=phone,
        join_url=join,
        invite_url=invite_url(settings, a.id),
        manage_url=manage_url(settings, a.id, issued_on=today()),
        settings=settings,
        before=None if before is None else await _visit(session, before),
        usual_site=usual.name if usual else None,
    )


def today() -> date:
    """The London date now: the day a manage link is issued on."""
    return utcnow().astimezone(timefmt.LONDON).date()


async def _visit(session: AsyncSession, a: Appointment) -> wording.Visit:
    clinician = await session.get(Clinician, a.clinician_id)
    site = await session.get(Site, a.site_id) if a.site_id else None
    assert clinician
    how = wording.how(a.mode, place=site.name if site else None, medium=a.medium)
    return wording.Visit(a.starts_at, how, clinician.name)


def invite(s: Snapshot, *, method: str, for_clinician: bool) -> bytes:
    a = s.appointment
    if for_clinician:
        join_url = s.settings.public_base_url + "/staff/clinic" if s.is_video else None
    else:
        join_url = s.join_url if s.joins_from_home else None
    description = _text.get_template("invite.txt").render(
        s=s, for_clinician=for_clinician, cancelled=method == "CANCEL"
    )
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
