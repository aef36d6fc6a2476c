"""What a patient is offered at each step of choosing an appointment: the ways of being seen
(with what each means in travel for them), the community hubs (nearest first), the days with
free time and the times of a day. The booking and the change journeys both ask these.

Free time is the slot search's (`scheduling.slots.expand_slots` over
`scheduling.slot_inputs.load_availability`, as the /slots API does): a day is offered only
when it has a time free, and a time only while it is free.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import slots
from scheduling.models import Mode, Patient, Service, Site
from scheduling.slot_inputs import ForPatient, load_availability, patient_busy, service_rules
from telehealth.kernel import timefmt
from telehealth.kernel.db import utcnow
from telehealth.travel.maths import KM_PER_MILE, Leg
from telehealth.travel.options import legs_to_sites
from telehealth.travel.records import point_of

# "Which day?" shows this many weeks at a time, with links to the weeks before and after.
WEEKS = 3
# Hubs are offered when they have free time this far ahead.
HUB_LOOKAHEAD = timedelta(weeks=12)

MODE_LABELS = {
    Mode.VIDEO_HOME: "Video call from home",
    Mode.VIDEO_SITE: "Video call at a community hub near you",
    Mode.IN_PERSON: "In person",
}
MODE_HINTS = {
    Mode.VIDEO_HOME: "You need a phone, tablet or computer with a camera and an internet "
    "connection.",
    Mode.VIDEO_SITE: "Staff at the hub set up the video call in a private room for you.",
    Mode.IN_PERSON: "You see the clinician face to face.",
}


def today() -> date:
    return slots.to_london(utcnow()).date()


def modes_for(service: Service, *, video_suitable: bool) -> list[str]:
    """The service's ways of being seen, in the order people are offered them; only in person
    when the referrer judged video unsuitable."""
    offered: list[str] = [m.value for m in Mode if m.value in service.modes]
    return offered if video_suitable else [m for m in offered if m == Mode.IN_PERSON.value]


def _minutes_text(minutes: Decimal) -> str:
    whole = max(5, int((minutes / 5).quantize(Decimal(1), ROUND_HALF_UP)) * 5)
    hours, rest = divmod(whole, 60)
    if not hours:
        return f"about {rest} minutes"
    hour_text = "1 hour" if hours == 1 else f"{hours} hours"
    return f"about {hour_text}" + (f" {rest} minutes" if rest else "")


def travel_text(site_name: str, leg: Leg) -> str:
    """ "12 miles to Ulverston Health Centre, about 20 minutes" (one way, by road)."""
    miles = int((leg.km / KM_PER_MILE).quantize(Decimal(1), ROUND_HALF_UP))
    distance = "less than 1 mile" if miles < 1 else ("1 mile" if miles == 1 else f"{miles} miles")
    return f"{distance} to {site_name}, {_minutes_text(leg.minutes)}"


@dataclass(frozen=True, slots=True)
class Place:
    """A site with how far it is from the patient's home (None when not known)."""

    site: Site
    leg: Leg | None

    @property
    def travel(self) -> str | None:
        return travel_text(self.site.name, self.leg) if self.leg else None

    @property
    def sort_key(self) -> tuple[int, Decimal, str]:
        return (0, self.leg.km, self.site.name) if self.leg else (1, Decimal(0), self.site.name)


async def places(session: AsyncSession, patient: Patient, service: Service) -> dict[int, Place]:
    """The service's usual site and every active hub, each with its travel from the patient's
    postcode (no travel figures when the postcode is missing or unknown)."""
    home = await point_of(session, patient.postcode)
    if home is None or patient.postcode is None:
        return {}
    try:
        legs = await legs_to_sites(session, home, patient.postcode, service)
    except LookupError:  # no travel factor set in force: say nothing rather than guess
        return {}
    return {site.id: Place(site, leg if leg.method != "none" else None) for site, leg in legs}


def mode_travel(mode: str, service: Service, found: dict[int, Place], hubs: list[int]) -> str:
    """What a way of being seen means in travel for the patient."""
    if mode == Mode.VIDEO_HOME:
        return "No travel"
    if mode == Mode.VIDEO_SITE:
        near = sorted((found[h] for h in hubs if h in found), key=lambda p: p.sort_key)
        if near and near[0].travel:
            return f"Nearest hub: {near[0].travel}"
        return "Travel to a community hub near you"
    usual = found.get(service.usual_site_id)
    return (usual.travel if usual and usual.travel else "Travel to the clinic") or ""


async def free_slots(
    session: AsyncSession,
    service: Service,
    *,
    start_date: date,
    end_date: date,
    mode: str,
    site_id: int | None,
    patient: ForPatient | None = None,
) -> list[slots.Slot]:
    """Free slots of the service, in this mode (and at this hub), in local dates inclusive;
    for a `patient`, without the times their other appointments overlap (booking one would
    be refused)."""
    availability = await load_availability(
        session, service_id=service.id, start_date=start_date, end_date=end_date
    )
    found = slots.expand_slots(
        availability,
        service_rules(service),
        start_date=start_date,
        end_date=end_date,
        now=utcnow(),
        mode=mode,
        site_id=site_id,
    )
    if patient is None:
        return found
    return slots.clear_of(found, await patient_busy(session, patient, start_date, end_date))


async def hub_places(
    session: AsyncSession,
    service: Service,
    found: dict[int, Place],
    patient: ForPatient | None = None,
) -> list[Place]:
    """The hubs with free time for this service (and `patient`) in the coming weeks, nearest
    first."""
    start = today()
    free = await free_slots(
        session,
        service,
        start_date=start,
        end_date=start + HUB_LOOKAHEAD,
        mode=Mode.VIDEO_SITE,
        site_id=None,
        patient=patient,
    )
    hub_ids = {s.site_id for s in free if s.site_id is not None}
    known = [found[h] for h in hub_ids if h in found]
    missing = hub_ids - set(found)
    for hub_id in missing:
        site = await session.get(Site, hub_id)
        if site is not None:
            known.append(Place(site, None))
    return sorted(known, key=lambda p: p.sort_key)


@dataclass(frozen=True, slots=True)
class DayWindow:
    """ "Which day?": the days with free time among `WEEKS` weeks from `start`."""

    start: date
    end: date
    days: list[tuple[date, int]]  # each day with its number of free times
    earlier: date | None  # the start of the weeks before, when there are any to show
    later: date | None  # the start of the weeks after, within the booking horizon


def window_start(requested: str | None) -> date:
    first = today()
    try:
        asked = date.fromisoformat(requested) if requested else first
    except ValueError:
        asked = first
    return max(first, min(asked, first + timedelta(days=3660)))


async def day_window(
    session: AsyncSession,
    service: Service,
    *,
    start: date,
    mode: str,
    site_id: int | None,
    patient: ForPatient | None = None,
) -> DayWindow:
    end = start + timedelta(weeks=WEEKS, days=-1)
    free = await free_slots(
        session,
        service,
        start_date=start,
        end_date=end,
        mode=mode,
        site_id=site_id,
        patient=patient,
    )
    # A time is one start, whichever clinicians are free then: count each start once, and
    # turn only those (a third to a half of the slots) into local days.
    counts = Counter(slots.to_london(start).date() for start in {s.start for s in free})
    first = today()
    horizon = first + timedelta(days=service.horizon_days)
    earlier = max(first, start - timedelta(weeks=WEEKS)) if start > first else None
    later = end + timedelta(days=1) if end < horizon else None
    return DayWindow(start, end, sorted(counts.items()), earlier, later)


def short_day(day: date) -> str:
    """Tuesday 3 March (a time's label names its day without the year)."""
    return f"{day:%A} {day.day} {day:%B}"


def slot_label(start: datetime) -> str:
    """Tuesday 3 March, 9:30am: a time's radio label, read whole by a screen reader."""
    return f"{short_day(slots.to_london(start).date())}, {timefmt.clock(start)}"


def slot_value(s: slots.Slot) -> str:
    return f"{s.start.isoformat()}|{s.clinician_id}|{s.site_id or ''}"


async def day_times(
    session: AsyncSession,
    service: Service,
    *,
    day: date,
    mode: str,
    site_id: int | None,
    patient: ForPatient | None = None,
) -> list[slots.Slot]:
    """The free times of a day, one per start (the first clinician free then)."""
    free = await free_slots(
        session,
        service,
        start_date=day,
        end_date=day,
        mode=mode,
        site_id=site_id,
        patient=patient,
    )
    firsts: dict[datetime, slots.Slot] = {}
    for s in free:
        firsts.setdefault(s.start, s)
    return list(firsts.values())
