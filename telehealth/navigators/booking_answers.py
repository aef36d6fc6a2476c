"""The navigator's booking journey's answers, carried in the query string (and, at the end, in
the posted form): which service, how to be seen, which hub, which day, which time. Each answer
is checked against what is offered now, in order; the first missing or no longer offered is
the question to ask (again), so a stale link or a time taken meanwhile asks that question with
a message rather than booking something nobody chose.

What is offered is what the patient's own journey offers (`telehealth.patients.
journey_options`): the service's ways of being seen (in person only when the referrer judged
video unsuitable), the hubs with free time, the days with a free time, a day's free times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import slots
from scheduling.models import Mode, Patient, Service
from scheduling.referral_booking import Choice
from scheduling.referral_models import Referral, ReferralStatus
from scheduling.slot_inputs import ForPatient
from telehealth.patients import journey_options
from telehealth.patients.journey_flow import parse_slot

# The questions in the order they are asked, each named by the parameter that answers it.
STEPS = ("service", "mode", "hub", "day", "slot")
MISSING = {
    "service": "Select the service the appointment is for",
    "mode": "Select how they will be seen",
    "hub": "Select a community hub",
    "day": "Select a day",
    "slot": "Select a time",
}
GONE = {
    "service": "That service is no longer offered: select another service",
    "mode": "The service does not offer that way of being seen: select another",
    "hub": "That hub has no free time now: select another hub",
    "day": "There are no free times left on that day: select another day",
    "slot": "That time is no longer free: select another time",
}


@dataclass
class Answers:
    """The answers checked so far (each None until answered and still offered)."""

    patient: Patient
    service: Service | None = None
    mode: str | None = None
    hub: int | None = None
    day: date | None = None
    slot: slots.Slot | None = None
    times: list[slots.Slot] = field(default_factory=list)  # the chosen day's free times

    def params(self, *, before: str | None = None) -> dict[str, str]:
        """The answers as query parameters, those asked before `before` only when given."""
        values = {
            "service": str(self.service.id) if self.service else "",
            "mode": self.mode or "",
            "hub": str(self.hub) if self.hub is not None else "",
            "day": self.day.isoformat() if self.day else "",
            "slot": journey_options.slot_value(self.slot) if self.slot else "",
        }
        names = STEPS if before is None else STEPS[: STEPS.index(before)]
        return {name: values[name] for name in names if values[name]}

    def asked(self) -> list[str]:
        """The questions this journey asks: the hub only for video at a hub."""
        return [s for s in STEPS if s != "hub" or self.mode == Mode.VIDEO_SITE]

    @property
    def for_patient(self) -> ForPatient:
        return ForPatient(self.patient.id)

    def choice(self) -> Choice:
        """The slot as booking takes it: the hub's or the clinic's site, none from home."""
        assert self.slot is not None and self.mode is not None
        site_id = None if self.mode == Mode.VIDEO_HOME else self.slot.site_id
        return Choice(self.slot.clinician_id, self.mode, site_id, self.slot.start)


@dataclass(frozen=True, slots=True)
class Reached:
    """How far the answers go: the question to ask next (None: all answered), and why it is
    asked again when an answer was given (or a form sent) without a usable one."""

    answers: Answers
    step: str | None
    error: str | None = None


async def active_services(session: AsyncSession) -> list[Service]:
    return list(await session.scalars(select(Service).where(Service.active).order_by(Service.name)))


async def modes_for(session: AsyncSession, patient: Patient, service: Service) -> list[str]:
    """The service's ways of being seen, as the patient's own journey offers them: in person
    only while an open referral of theirs to the service says video is unsuitable."""
    unsuitable = await session.scalar(
        select(Referral.id).where(
            Referral.patient_id == patient.id,
            Referral.service_id == service.id,
            Referral.status == ReferralStatus.OPEN.value,
            Referral.video_suitable.is_(False),
        )
    )
    return journey_options.modes_for(service, video_suitable=unsuitable is None)


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and 1 <= int(text) <= 2**31 - 1 else None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


async def reach(session: AsyncSession, patient: Patient, given: Mapping[str, str]) -> Reached:
    """Check the answers `given` in order, up to the first that is missing or not offered."""
    a = Answers(patient)

    def ask(step: str) -> Reached:
        raw = given.get(step, "")
        error = GONE[step] if raw else (MISSING[step] if given.get("step") == step else None)
        return Reached(a, step, error)

    wanted = _number(given.get("service", ""))
    a.service = next((s for s in await active_services(session) if s.id == wanted), None)
    if a.service is None:
        return ask("service")
    mode = given.get("mode", "")
    if mode not in await modes_for(session, patient, a.service):
        return ask("mode")
    a.mode = mode
    if mode == Mode.VIDEO_SITE:
        hubs = await journey_options.hub_places(session, a.service, {}, a.for_patient)
        a.hub = _number(given.get("hub", ""))
        if a.hub not in {p.site.id for p in hubs}:
            a.hub = None
            return ask("hub")
    a.day = _day(given.get("day", ""))
    if a.day is not None:
        a.times = await journey_options.day_times(
            session, a.service, day=a.day, mode=mode, site_id=a.hub, patient=a.for_patient
        )
    if not a.times:
        a.day = None
        return ask("day")
    chosen = given.get("slot", "")
    a.slot = next((s for s in a.times if journey_options.slot_value(s) == chosen), None)
    if a.slot is None or parse_slot(chosen) is None:
        a.slot = None
        return ask("slot")
    return Reached(a, None)
