"""Free appointment slots, expanded from clinicians' weekly availability.

Pure logic: plain values in, plain values out, no I/O. Clinic hours are wall-clock times in
Europe/London; every instant taken or returned is a timezone-aware UTC ``datetime``, and every
interval is half-open ``[start, end)``.

Clock changes: local times are read with ``fold=0``. A time in the spring-forward gap
(01:00-02:00 on the last Sunday of March) therefore maps to the instant an hour later than the
wall clock suggests, and a time in the fall-back fold (01:00-02:00 on the last Sunday of October)
maps to its first, BST, occurrence. See ``_grid_runs`` for how slots near a change are kept
well defined.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import holidays

from scheduling.slot_sweep import ForbiddenStarts, HubRooms
from telehealth.kernel.timefmt import LONDON

MODES = ("video_home", "video_site", "in_person")

# Sort key stand-in for "no site" (video_home); site ids are positive database keys.
_NO_SITE = -1
_ONE_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)  # datetime resolution


class Interval(NamedTuple):
    """Half-open [start, end), aware UTC. A named tuple (like `Slot`): a month's search builds
    thousands, and a tuple is built in a fraction of a frozen dataclass's time."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A clinician's availability: recurring weekly, or a one-off when valid_from == valid_until."""

    clinician_id: int
    weekday: int  # 0 = Monday (date.weekday())
    start: time  # local wall-clock, Europe/London
    end: time  # local wall-clock, > start (sessions never cross midnight)
    valid_from: date
    valid_until: date | None  # inclusive; None = open-ended
    modes: frozenset[str]  # subset of MODES
    service_ids: frozenset[int]
    site_id: int | None  # where in_person appointments happen
    hub_ids: frozenset[int] | None  # hubs offered for "video_site"; None = every hub in hub_rooms
    bank_holidays: bool = False  # True: the session runs on England bank holidays too


@dataclass(frozen=True, slots=True)
class ServiceRules:
    id: int
    length: timedelta  # appointment length, also the slot grid step
    buffer: timedelta  # gap the clinician needs after each appointment
    min_notice: timedelta  # slots starting before now + min_notice are not offered
    horizon: timedelta  # slots starting after now + horizon are not offered
    modes: frozenset[str]  # modes the service offers


class Slot(NamedTuple):
    """A free slot. A named tuple, not a frozen dataclass: a month's search builds thousands,
    and a frozen dataclass's __init__ (a setattr per field) was a tenth of its time."""

    start: datetime  # aware UTC
    end: datetime
    clinician_id: int
    mode: str
    site_id: int | None  # None for video_home; the in-person site; or the hub for video_site


@dataclass(frozen=True, slots=True)
class Availability:
    """Everything expand_slots needs, fetched by the caller in a few queries."""

    sessions: Sequence[Session]
    leave: Mapping[int, Sequence[Interval]]  # clinician_id -> leave periods (UTC)
    # clinician_id -> booked appointments, each already extended by ITS OWN service buffer.
    busy: Mapping[int, Sequence[Interval]]
    hub_rooms: Mapping[int, int]  # hub site_id -> number of video rooms in service
    # hub site_id -> intervals each occupying ONE room of that hub.
    room_busy: Mapping[int, Sequence[Interval]]
    bank_holidays: frozenset[date]  # England bank holidays (incl. substitute days)


def london_datetime(day: date, wall: time) -> datetime:
    """The UTC instant of local wall-clock `wall` on `day` (fold=0, see module docstring)."""
    return datetime.combine(day, wall, tzinfo=LONDON).replace(fold=0).astimezone(UTC)


def to_london(instant: datetime) -> datetime:
    """The same instant with Europe/London's offset, for showing and for finding its local date."""
    return instant.astimezone(LONDON)


def local_day_bounds(day: date) -> Interval:
    """The UTC interval covered by local date `day` (23 or 25 hours on clock-change Sundays)."""
    return Interval(london_datetime(day, time()), london_datetime(day + _ONE_DAY, time()))


def overlaps(a: Interval, b: Interval) -> bool:
    """Whether two half-open intervals share an instant (an empty interval overlaps nothing)."""
    return a.start < a.end and b.start < b.end and a.start < b.end and b.start < a.end


def session_runs_on(session: Session, day: date, bank_holidays: frozenset[date]) -> bool:
    """Whether the session's weekday, validity range and bank-holiday rule admit local `day`."""
    if day.weekday() != session.weekday or day < session.valid_from:
        return False
    if session.valid_until is not None and day > session.valid_until:
        return False
    return session.bank_holidays or day not in bank_holidays


def session_intervals(
    session: Session, day: date, bank_holidays: frozenset[date]
) -> Interval | None:
    """The UTC interval the session covers on local date `day`, or None if it does not run that day.

    Also None when the session is empty in UTC, e.g. 01:00-02:00 on spring-forward Sunday.
    """
    if not session_runs_on(session, day, bank_holidays):
        return None
    start, end = london_datetime(day, session.start), london_datetime(day, session.end)
    return Interval(start, end) if start < end else None


@functools.cache
def _bank_holidays_in(year: int) -> frozenset[date]:
    # Building the `holidays` calendar costs about a third of a millisecond, on every booking
    # otherwise; a year's list never changes while the process runs.
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=year)
    # `holidays` also lists a holiday falling on a weekend (Saturday 2026-12-26, Boxing Day)
    # beside its substitute Monday. Only the substitute is a bank holiday (gov.uk lists
    # 2026-12-25 and 2026-12-28), and a Saturday clinic should not close for Boxing Day.
    return frozenset(day for day in calendar if day.weekday() < 5)


def bank_holidays_between(start: date, end: date) -> frozenset[date]:
    """England bank holidays (including substitute days) from `start` to `end` inclusive."""
    if end < start:
        return frozenset()
    return frozenset(
        day
        for year in range(start.year, end.year + 1)
        for day in _bank_holidays_in(year)
        if start <= day <= end
    )


def _wall_exists(wall: datetime) -> bool:
    """Whether naive local `wall` is a real Europe/London time (not in the spring-forward gap)."""
    aware = wall.replace(tzinfo=LONDON, fold=0)
    return aware.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) == wall


def _day_offset(day: date) -> timedelta | None:
    """Europe/London's UTC offset all through local `day`, or None on a clock-change day."""
    offset = LONDON.utcoffset(datetime.combine(day, time()))
    return offset if offset == LONDON.utcoffset(datetime.combine(day + _ONE_DAY, time())) else None


def _grid_runs(
    session: Session, day: date, length: timedelta, offset: timedelta | None
) -> list[tuple[datetime, datetime]]:
    """UTC runs [start, end) holding the session's grid slots (start + k * length) on `day`.

    Inside a run, slots are spaced exactly `length` apart in UTC, starting at the run start.
    `offset` is `_day_offset(day)`.
    """
    if offset is not None:
        # No clock change that day: UTC steps equal wall-clock steps, so one run covers the
        # session. Plain subtraction instead of zoneinfo: the conversions dominated run time.
        start = datetime.combine(day, session.start, tzinfo=UTC) - offset
        end = datetime.combine(day, session.end, tzinfo=UTC) - offset
        return [(start, end)] if start < end else []
    # The day has a clock change: convert slot by slot. With fold=0 a wall time in the
    # spring-forward gap maps an hour late, so a 01:00 slot would land on the same instants
    # as the real 02:00 one: keep only slots whose wall times [start, end) all exist (the end
    # may be the gap's first instant). Over real wall times fold=0 is strictly increasing, so
    # kept slots cannot overlap. A slot straddling a change lasts an hour more or less than
    # the service, so drop it by its UTC length (this also drops end <= start). A session
    # starting in the gap begins an hour late, so clip to the session's UTC interval too.
    session_start, session_end = (
        london_datetime(day, session.start),
        london_datetime(day, session.end),
    )
    wall = datetime.combine(day, session.start.replace(tzinfo=None, fold=0))
    wall_end = datetime.combine(day, session.end.replace(tzinfo=None, fold=0))
    runs = []
    while wall + length <= wall_end:
        start = wall.replace(tzinfo=LONDON).astimezone(UTC)
        end = (wall + length).replace(tzinfo=LONDON).astimezone(UTC)
        real = _wall_exists(wall) and _wall_exists(wall + length - _TICK)
        if real and session_start <= start and end <= session_end and end - start == length:
            runs.append((start, end))
        wall += length
    return runs


# What one session offers for each free slot time: (mode, sort site key, hub rooms or None).
_Offer = tuple[str, int, HubRooms | None]


def _session_offers(
    session: Session,
    modes: Sequence[str],
    site_id: int | None,
    availability: Availability,
    rooms: dict[int, HubRooms],
) -> list[_Offer]:
    """What the session offers at each free slot time; `rooms` caches each hub's occupancy."""
    offers: list[_Offer] = []
    for mode in modes:
        if mode not in session.modes:
            continue
        if mode == "video_home" and site_id is None:
            offers.append((mode, _NO_SITE, None))
        elif mode == "in_person" and session.site_id is not None:
            if site_id is None or site_id == session.site_id:
                offers.append((mode, session.site_id, None))
        elif mode == "video_site":
            hubs = availability.hub_rooms.keys() if session.hub_ids is None else session.hub_ids
            for hub in sorted(hubs):
                count = availability.hub_rooms.get(hub, 0)
                if count <= 0 or (site_id is not None and hub != site_id):
                    continue
                if hub not in rooms:
                    rooms[hub] = HubRooms(count, availability.room_busy.get(hub, ()))
                offers.append((mode, hub, rooms[hub]))
    return offers


def _offers_by_weekday(
    availability: Availability,
    service: ServiceRules,
    modes: Sequence[str],
    site_id: int | None,
    clinician_id: int | None,
) -> dict[int, list[tuple[Session, list[_Offer]]]]:
    """The sessions that can hold this service under the filters, with what each offers."""
    rooms: dict[int, HubRooms] = {}
    by_weekday: dict[int, list[tuple[Session, list[_Offer]]]] = {}
    for session in availability.sessions:
        if service.id not in session.service_ids:
            continue
        if clinician_id is not None and session.clinician_id != clinician_id:
            continue
        offers = _session_offers(session, modes, site_id, availability, rooms)
        if offers:
            by_weekday.setdefault(session.weekday, []).append((session, offers))
    return by_weekday


def _forbidden_for(
    availability: Availability, clinician_id: int, service: ServiceRules
) -> ForbiddenStarts:
    length, buffered = service.length, service.length + service.buffer
    # Empty intervals block nothing; (a - pad, b) would wrongly forbid the points just before a.
    leave = availability.leave.get(clinician_id, ())
    busy = availability.busy.get(clinician_id, ())
    blocks = [(i.start - length, i.end) for i in leave if i.start < i.end]
    blocks += [(i.start - buffered, i.end) for i in busy if i.start < i.end]
    return ForbiddenStarts(blocks)


def _local_dates(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += _ONE_DAY


def _sorted_unique(found: list[tuple[datetime, int, str, int]], length: timedelta) -> list[Slot]:
    # Overlapping sessions of one clinician yield the same (start, mode, site) twice; after
    # sorting, the copies are neighbours. Found keys arrive in long sorted runs, which
    # timsort merges cheaply.
    found.sort()
    slots: list[Slot] = []
    previous = None
    for key in found:
        if key != previous:
            start, cid, mode, site_key = key
            site = None if site_key == _NO_SITE else site_key
            slots.append(Slot(start, start + length, cid, mode, site))
            previous = key
    return slots


def _free_keys(
    availability: Availability,
    service: ServiceRules,
    *,
    start_date: date,
    end_date: date,
    now: datetime,
    mode: str | None,
    site_id: int | None,
    clinician_id: int | None,
) -> Iterator[tuple[datetime, int, str, int]]:
    """Each free (start, clinician, mode, site key), unsorted, possibly repeated: the one walk
    that both `expand_slots` and `is_offered` take."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if service.length <= timedelta(0):
        raise ValueError("service length must be positive")
    length = service.length
    earliest, latest = now + service.min_notice, now + service.horizon
    modes = [m for m in MODES if m in service.modes and mode in (None, m)]
    by_weekday = _offers_by_weekday(availability, service, modes, site_id, clinician_id)
    # A session's slots start within its own local day, so days before the one holding
    # `earliest` or after the one holding `latest` cannot contribute.
    first_day = max(start_date, earliest.astimezone(LONDON).date())
    last_day = min(end_date, latest.astimezone(LONDON).date())
    forbidden: dict[int, ForbiddenStarts] = {}
    for day in _local_dates(first_day, last_day):
        offset = _day_offset(day)
        for session, offers in by_weekday.get(day.weekday(), ()):
            if not session_runs_on(session, day, availability.bank_holidays):
                continue
            cid = session.clinician_id
            if cid not in forbidden:
                forbidden[cid] = _forbidden_for(availability, cid, service)
            for run in _grid_runs(session, day, length, offset):
                for start in forbidden[cid].free_starts(run, length, earliest, latest):
                    end = start + length
                    for offer_mode, site_key, hub in offers:
                        if hub is None or hub.free(start, end):
                            yield start, cid, offer_mode, site_key


def clear_of(found: Sequence[Slot], busy: Sequence[Interval]) -> list[Slot]:
    """The slots of `found` that overlap none of `busy` (a patient's other appointments: the
    database refuses a booking that overlaps one, so it is not offered), in their order.

    A slot overlaps a busy interval starting before the slot ends and ending after it starts:
    with the intervals sorted by start and the furthest end reached so far, that is one
    bisection per slot. Measured by hand (best of 7, CPython 3.11, the shared 2-core box):
    12 weeks of 20-minute slots for 7 clinicians (5,292) against 12 appointments, 1.8 to
    2.1 ms, where checking each slot against every interval took 21 to 25 ms."""
    taken = sorted(b for b in busy if b.start < b.end)
    if not taken:
        return list(found)
    starts = [b.start for b in taken]
    reach = list(itertools.accumulate((b.end for b in taken), max))
    kept = []
    for s in found:
        before = bisect.bisect_left(starts, s.end)
        if before == 0 or reach[before - 1] <= s.start:
            kept.append(s)
    return kept


def expand_slots(
    availability: Availability,
    service: ServiceRules,
    *,
    start_date: date,
    end_date: date,
    now: datetime,
    mode: str | None = None,
    site_id: int | None = None,
    clinician_id: int | None = None,
) -> list[Slot]:
    """Free slots, sorted by (start, clinician_id, mode, site_id or -1).

    `start_date` and `end_date` are local Europe/London dates, inclusive; `now` is aware UTC.
    An unknown `mode` matches nothing.

    Speed, measured by hand (best of 30, CPython 3.11, dev machine): 20 clinicians x 10
    sessions/week x 4 weeks, 30-minute service, 3,000 busy intervals, 3 hubs: ~6 ms for one
    mode (2,300 slots) and ~12 ms for all three (5,300 slots), ~4 ms of which is sorting and
    building the Slot tuples themselves.
    """
    found = list(
        _free_keys(
            availability,
            service,
            start_date=start_date,
            end_date=end_date,
            now=now,
            mode=mode,
            site_id=site_id,
            clinician_id=clinician_id,
        )
    )
    return _sorted_unique(found, service.length)


def is_offered(
    availability: Availability, service: ServiceRules, wanted: Slot, now: datetime
) -> bool:
    """Whether `wanted` is one of the free slots `expand_slots` would list for its day: the
    same walk, stopped at the first match and without sorting or building the day's slots
    (booking asks this of every request)."""
    day = to_london(wanted.start).date()
    site_key = _NO_SITE if wanted.site_id is None else wanted.site_id
    key = (wanted.start, wanted.clinician_id, wanted.mode, site_key)
    walk = _free_keys(
        availability,
        service,
        start_date=day,
        end_date=day,
        now=now,
        mode=wanted.mode,
        site_id=wanted.site_id,
        clinician_id=wanted.clinician_id,
    )
    return any(found == key for found in walk)
