"""The demo's appointments: months of past clinics with what happened at each, the demo
clinician's clinic on the day the demo is loaded, and the weeks ahead.

Every appointment is booked through `placement.place` and `booking.book`, on a slot the
availability code offered. Past ones are booked with an "as of" clock (`place(now=...)`) a
week before the four weeks they fall in, as a navigator would have booked them; what then
happened (arrival, check-in, the call, the end; did not attend; cancelled; seen by telephone)
is recorded through `clinic.apply` at the moment it happened, so statuses, call times and
history are the ones the clinic screens write. The rows themselves say when they were really
written (`created_at`, the booking's audit row): today.

Dates depend only on the day the demo is loaded, never on the time of day: past clinics end
the day before, and today's and later appointments are booked as of the start of today.

A community hub appointment goes to a patient whose nearest active hub it is: a navigator
does not send a Morecambe patient to Sedbergh.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import booking, clinic
from scheduling.models import Appointment, Mode, Patient, Service, Site
from scheduling.placement import place
from scheduling.slot_inputs import load_availability
from scheduling.slot_inputs import service_rules as rules_of
from scheduling.slots import Slot, expand_slots, london_datetime, to_london
from scheduling.transitions import Action
from telehealth.demo import data as cast
from telehealth.kernel.errors import PatientUnavailable, SlotUnavailable
from telehealth.travel import records
from telehealth.travel.maths import Point, straight_line_km
from telehealth.travel.models import Postcode, TravelQueue

PAST_PER_WEEK = 8
BLOCK_WEEKS = 4  # past weeks are booked four at a time...
BOOKED_AHEAD = timedelta(days=7)  # ...each block as of a week before it starts
TODAYS_CLINIC = 6  # the demo clinician's appointments on the day the demo is loaded
UPCOMING = 66  # booked from today on; UPCOMING_CANCELLED of those after today then cancelled
UPCOMING_CANCELLED = 6
BOOKING_WEEKS = 5  # upcoming appointments fall in the first five weeks of the eight ahead


class Outcome(enum.StrEnum):
    ATTENDED = "attended"
    TELEPHONE = "telephone"  # seen, but by telephone instead of video
    DID_NOT_ATTEND = "did_not_attend"
    CANCELLED = "cancelled"


def draw_outcome(rng: random.Random, mode: str) -> Outcome:
    """Plausible rates for an outpatient clinic (the demo's own, not measured): one in ten
    cancelled, one in twelve not attended, and one attended video-from-home appointment in
    seven held on the telephone instead."""
    draw = rng.random()
    if draw < 0.10:
        return Outcome.CANCELLED
    if draw < 0.18:
        return Outcome.DID_NOT_ATTEND
    if mode == Mode.VIDEO_HOME and draw < 0.30:
        return Outcome.TELEPHONE
    return Outcome.ATTENDED


@dataclass(frozen=True, slots=True)
class Step:
    """One status change of a past appointment: what, by whom and when."""

    action: Action
    by: str  # "patient", "clinician", "reception" or "navigator"
    at: datetime
    reason: str | None = None


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def outcome_steps(
    outcome: Outcome, mode: str, start: datetime, end: datetime, rng: random.Random
) -> list[Step]:
    """The changes that lead to `outcome`, at plausible moments around the appointment."""
    if outcome == Outcome.CANCELLED:
        day = to_london(start).date() - timedelta(days=rng.randint(1, 6))
        at = london_datetime(day, time(9)) + _minutes(rng.randrange(0, 8 * 60, 5))
        return [Step(Action.CANCEL, "navigator", at, rng.choice(cast.CANCEL_REASONS))]
    if outcome == Outcome.DID_NOT_ATTEND:
        # Marked after waiting a quarter of an hour: by reception at a hub, else the clinician.
        by = "reception" if mode == Mode.VIDEO_SITE else "clinician"
        return [Step(Action.NO_SHOW, by, start + _minutes(15))]
    steps = []
    if mode == Mode.VIDEO_HOME:
        steps.append(Step(Action.CHECK_IN, "patient", start - _minutes(rng.randint(2, 15))))
    elif mode == Mode.VIDEO_SITE:
        arrived = start - _minutes(rng.randint(5, 20))
        steps.append(Step(Action.ARRIVE, "reception", arrived))
        steps.append(Step(Action.CHECK_IN, "reception", arrived + _minutes(2)))
    else:
        steps.append(Step(Action.ARRIVE, "clinician", start - _minutes(rng.randint(0, 10))))
    if mode != Mode.IN_PERSON:
        steps.append(Step(Action.START_CALL, "clinician", start + _minutes(rng.randint(0, 8))))
        if outcome == Outcome.TELEPHONE:
            at = steps[-1].at + _minutes(rng.randint(2, 5))
            steps.append(Step(Action.SWITCH_TO_PHONE, "clinician", at))
    finish = max(end + _minutes(rng.randint(-4, 6)), steps[-1].at + _minutes(5))
    steps.append(Step(Action.FINISH, "clinician", finish))
    return steps


def nearest_hub(home: Point, hubs: Mapping[int, Point]) -> int:
    """The hub a navigator would offer: the nearest, by straight line on the grid (ties to
    the lower id, so the choice never depends on ordering)."""
    return min(hubs, key=lambda hub: (straight_line_km(home, hubs[hub]), hub))


@dataclass(frozen=True)
class Bookers:
    """Who books and is booked: the services, the patients and, per hub, the patients whose
    nearest hub it is; the demo's staff logins by role and the clinicians' own logins; and
    the days each patient already has an appointment (one a day is plenty)."""

    services: Sequence[Service]
    patients: Sequence[int]
    near_hub: Mapping[int, Sequence[int]]
    users: Mapping[str, int]
    clinician_users: Mapping[int, int]
    booked_days: set[tuple[int, date]] = field(default_factory=set)


def patients_by_hub(
    homes: Mapping[int, Point | None], hubs: Mapping[int, Point]
) -> dict[int, list[int]]:
    """Hub id -> the patients (in the order given) whose nearest hub it is. A patient without
    a known home goes to no hub."""
    found: dict[int, list[int]] = {hub: [] for hub in hubs}
    for patient_id, home in homes.items():
        if home is not None and hubs:
            found[nearest_hub(home, hubs)].append(patient_id)
    return found


async def _free_slots(
    session: AsyncSession,
    service: Service,
    first: date,
    last: date,
    as_of: datetime,
    clinician_id: int | None,
) -> dict[str, list[Slot]]:
    availability = await load_availability(
        session, service_id=service.id, start_date=first, end_date=last, clinician_id=clinician_id
    )
    free = expand_slots(
        availability,
        rules_of(service),
        start_date=first,
        end_date=last,
        now=as_of,
        clinician_id=clinician_id,
    )
    return {mode: [s for s in free if s.mode == mode] for mode in service.modes}


async def _try_booking(
    session: AsyncSession,
    who: Bookers,
    rng: random.Random,
    service: Service,
    slot: Slot,
    as_of: datetime,
) -> int | None:
    """The new appointment's id, or None when the slot could not be booked."""
    if slot.mode == Mode.VIDEO_SITE:
        assert slot.site_id is not None
        candidates = who.near_hub.get(slot.site_id, ())
    else:
        candidates = who.patients
    day = to_london(slot.start).date()
    candidates = [p for p in candidates if (p, day) not in who.booked_days]
    if not candidates:
        return None  # nobody free that day lives nearer this hub than any other
    patient_id = rng.choice(candidates)
    try:
        placement = await place(
            session,
            service_id=service.id,
            clinician_id=slot.clinician_id,
            mode=slot.mode,
            site_id=slot.site_id,
            start=slot.start,
            now=as_of,
        )
        # A savepoint, since a refused booking ends its transaction otherwise.
        async with session.begin_nested():
            made = await booking.book(
                session,
                placement=placement,
                patient_id=patient_id,
                booked_by=who.users["navigator" if slot.mode == Mode.VIDEO_SITE else "reception"],
            )
    except (SlotUnavailable, PatientUnavailable):
        return None  # taken by an earlier demo booking
    who.booked_days.add((patient_id, day))
    booked_id: int = made.id
    return booked_id


async def book_round(
    session: AsyncSession,
    who: Bookers,
    rng: random.Random,
    *,
    first: date,
    last: date,
    as_of: datetime,
    count: int,
    clinician_id: int | None = None,
) -> list[Appointment]:
    """Up to `count` appointments from `first` to `last` (local dates), booked as of `as_of`:
    round the services in turn, each time in its next mode, on a random free slot."""
    pools = []
    for service in who.services:
        by_mode = await _free_slots(session, service, first, last, as_of, clinician_id)
        for pool in by_mode.values():
            rng.shuffle(pool)
        pools.append((service, by_mode))
    booked: list[int] = []
    turn = 0
    while len(booked) < count and any(p for _, by_mode in pools for p in by_mode.values()):
        for service, by_mode in pools:
            pool = by_mode[service.modes[turn % len(service.modes)]]
            while pool and len(booked) < count:
                made = await _try_booking(session, who, rng, service, pool.pop(), as_of)
                if made is not None:
                    booked.append(made)
                    break
        turn += 1
    if not booked:
        return []
    # One query for the round's appointments, not one per booking.
    return list(
        await session.scalars(
            select(Appointment)
            .where(Appointment.id.in_(booked))
            .order_by(Appointment.starts_at, Appointment.clinician_id, Appointment.id)
        )
    )


async def record_outcome(
    session: AsyncSession, appointment: Appointment, steps: Sequence[Step], who: Bookers
) -> None:
    """Apply `steps` as the clinic screens would have, each at its own moment. A clinician
    without a login of their own is recorded as the system, as booking does for a change
    nobody signed in made."""
    users = {
        "reception": who.users["reception"],
        "navigator": who.users["navigator"],
        "clinician": who.clinician_users.get(appointment.clinician_id),
    }
    for step in steps:
        user_id = users.get(step.by)
        actor = "patient" if step.by == "patient" else ("staff" if user_id else "system")
        await clinic.apply(
            session,
            appointment,
            step.action,
            actor=actor,
            actor_user_id=user_id,
            now=step.at,
            reason=step.reason,
        )


@dataclass
class Booked:
    past: dict[Outcome, int]
    todays_clinic: int
    upcoming: int
    upcoming_cancelled: int


async def load(
    session: AsyncSession,
    who: Bookers,
    rng: random.Random,
    *,
    today: date,
    demo_clinician: int,
) -> Booked:
    """Every demo appointment: HISTORY_WEEKS of past clinics, today's and the weeks ahead."""
    past = await _past(session, who, rng, today=today)
    as_of = london_datetime(today, time())
    todays = await book_round(
        session,
        who,
        rng,
        first=today,
        last=today,
        as_of=as_of,
        count=TODAYS_CLINIC,
        clinician_id=demo_clinician,
    )
    upcoming = await book_round(
        session,
        who,
        rng,
        first=today,
        last=today + timedelta(weeks=BOOKING_WEEKS),
        as_of=as_of,
        count=UPCOMING,
    )
    # Cancelled since: only ones after today, so today's clinic stays as booked.
    later = [a for a in upcoming if to_london(a.starts_at).date() > today]
    cancelled = rng.sample(later, min(UPCOMING_CANCELLED, len(later)))
    for appointment, reason in zip(cancelled, cast.CANCEL_REASONS, strict=False):
        await booking.cancel(
            session, appointment=appointment, reason=reason, actor_user_id=who.users["reception"]
        )
    return Booked(past, len(todays), len(todays) + len(upcoming), len(cancelled))


async def _past(
    session: AsyncSession, who: Bookers, rng: random.Random, *, today: date
) -> dict[Outcome, int]:
    """HISTORY_WEEKS of clinics up to the day before `today`, BLOCK_WEEKS at a time, each
    appointment with its outcome; returns how many of each."""
    past = {outcome: 0 for outcome in Outcome}
    first = today - timedelta(weeks=cast.HISTORY_WEEKS)
    while first < today:
        last = min(first + timedelta(weeks=BLOCK_WEEKS), today) - timedelta(days=1)
        count = round(PAST_PER_WEEK * ((last - first).days + 1) / 7)
        as_of = london_datetime(first, time()) - BOOKED_AHEAD
        for appointment in await book_round(
            session, who, rng, first=first, last=last, as_of=as_of, count=count
        ):
            outcome = draw_outcome(rng, appointment.mode)
            steps = outcome_steps(
                outcome, appointment.mode, appointment.starts_at, appointment.ends_at, rng
            )
            await record_outcome(session, appointment, steps, who)
            past[outcome] += 1
        first = last + timedelta(days=1)
    return past


async def travel_records(session: AsyncSession) -> int:
    """Compute every queued travel record now, through the worker's own `records.compute`,
    and take them off the queue as the worker does: the report has figures before the worker
    first runs. Returns how many."""
    queued = list(
        await session.scalars(
            select(TravelQueue.appointment_id).order_by(TravelQueue.appointment_id)
        )
    )
    # `compute` looks each party up by primary key. Held here, loaded by a few queries, those
    # look-ups come from the session's identity map: a third of the statements it otherwise
    # takes (1,065 against 3,491 for the demo).
    held = await _travel_parties(session)
    for appointment_id in queued:
        await records.compute(session, appointment_id)
    await session.execute(delete(TravelQueue).where(TravelQueue.appointment_id.in_(queued)))
    del held
    return len(queued)


async def _travel_parties(session: AsyncSession) -> list[object]:
    held: list[object] = []
    for model in (Appointment, Patient, Service, Site):
        held += await session.scalars(select(model))
    postcodes = {p for p in await session.scalars(select(Patient.postcode)) if p}
    postcodes |= set(await session.scalars(select(Site.postcode)))
    held += await session.scalars(select(Postcode).where(Postcode.postcode.in_(postcodes)))
    return held
