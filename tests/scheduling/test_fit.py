"""Whether a booked appointment still fits: the pure checks, directly."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from scheduling import slots
from scheduling.fit import Booking, Reason, ServiceNow, Surroundings, clashes

TUESDAY = date(2027, 3, 2)
MINUTES = timedelta(minutes=1)


def _at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return slots.london_datetime(day, time(hour, minute))


SESSION = slots.Session(
    clinician_id=1,
    weekday=1,
    start=time(9),
    end=time(12),
    valid_from=date(2027, 1, 1),
    valid_until=None,
    modes=frozenset({"video_home", "video_site", "in_person"}),
    service_ids=frozenset({10}),
    site_id=5,
    hub_ids=frozenset({7}),
)
SERVICE = ServiceNow(
    length=20 * MINUTES,
    buffer=timedelta(0),
    modes=frozenset({"video_home", "video_site", "in_person"}),
    active=True,
)
BOOKING = Booking(
    id=100,
    clinician_id=1,
    service_id=10,
    mode="video_home",
    site_id=None,
    room_id=None,
    start=_at(10),
    end=_at(10, 20),
)


def _around(**changes: Any) -> Surroundings:
    around = Surroundings(
        services={10: SERVICE},
        sessions={1: [SESSION]},
        leave={},
        closures={},
        appointments={1: [(BOOKING.id, slots.Interval(BOOKING.start, BOOKING.end))]},
        inactive_clinicians=frozenset(),
        inactive_sites=frozenset(),
        bank_holidays=frozenset(),
    )
    return replace(around, **changes)


def _reasons(booking: Booking = BOOKING, **changes: object) -> list[Reason]:
    return [c.reason for c in clashes(booking, _around(**changes))]


def test_a_booking_inside_its_session_fits() -> None:
    assert _reasons() == []
    assert _reasons(replace(BOOKING, start=_at(9), end=_at(9, 20))) == []
    assert _reasons(replace(BOOKING, start=_at(11, 40), end=_at(12))) == []


def test_leave_clashes_only_where_it_overlaps() -> None:
    def leave(start: datetime, end: datetime) -> list[Reason]:
        return _reasons(leave={1: [slots.Interval(start, end)]})

    assert leave(_at(10, 19), _at(11)) == [Reason.LEAVE]
    assert leave(_at(8), _at(10, 1)) == [Reason.LEAVE]
    assert leave(_at(10, 20), _at(11)) == [], "leave from the end on touches, no more"
    assert leave(_at(9), _at(10)) == []
    assert _reasons(leave={2: [slots.Interval(_at(9), _at(12))]}) == [], "another's leave"


def test_a_closed_room_clashes_with_its_bookings_only() -> None:
    at_hub = replace(BOOKING, mode="video_site", site_id=7, room_id=3)
    closure = {3: [slots.Interval(_at(10), _at(10, 5))]}
    assert _reasons(at_hub, closures=closure) == [Reason.ROOM_CLOSED]
    assert _reasons(replace(at_hub, room_id=4), closures=closure) == []


def test_outside_every_matching_session() -> None:
    assert _reasons(sessions={}) == [Reason.OUTSIDE_SESSIONS]
    ended = replace(SESSION, valid_until=TUESDAY - timedelta(days=1))
    assert _reasons(sessions={1: [ended]}) == [Reason.OUTSIDE_SESSIONS]
    assert _reasons(bank_holidays=frozenset({TUESDAY})) == [Reason.OUTSIDE_SESSIONS]
    holiday_clinic = replace(SESSION, bank_holidays=True)
    assert _reasons(sessions={1: [holiday_clinic]}, bank_holidays=frozenset({TUESDAY})) == []
    shorter = replace(SESSION, end=time(10, 10))
    assert _reasons(sessions={1: [shorter]}) == [Reason.OUTSIDE_SESSIONS]
    no_home = replace(SESSION, modes=frozenset({"in_person"}))
    assert _reasons(sessions={1: [no_home]}) == [Reason.OUTSIDE_SESSIONS]
    other_service = replace(SESSION, service_ids=frozenset({11}))
    assert _reasons(sessions={1: [other_service]}) == [Reason.OUTSIDE_SESSIONS]
    elsewhere = replace(BOOKING, mode="in_person", site_id=6)
    assert _reasons(elsewhere) == [Reason.OUTSIDE_SESSIONS]
    assert _reasons(replace(BOOKING, mode="in_person", site_id=5)) == []
    other_hub = replace(BOOKING, mode="video_site", site_id=8, room_id=1)
    assert _reasons(other_hub) == [Reason.OUTSIDE_SESSIONS]
    any_hub = replace(SESSION, hub_ids=None)
    assert _reasons(other_hub, sessions={1: [any_hub]}) == []


def test_a_longer_service_or_buffer_no_longer_fits_before_the_next_or_the_end() -> None:
    longer = {10: replace(SERVICE, length=30 * MINUTES)}
    next_one = (101, slots.Interval(_at(10, 20), _at(10, 40)))
    own = (BOOKING.id, slots.Interval(BOOKING.start, BOOKING.end))
    assert _reasons(services=longer, appointments={1: [own, next_one]}) == [Reason.SERVICE_LENGTH]
    assert _reasons(services=longer) == [], "room to run on"
    buffered = {10: replace(SERVICE, buffer=5 * MINUTES)}
    assert _reasons(services=buffered, appointments={1: [own, next_one]}) == [Reason.SERVICE_LENGTH]
    later = (101, slots.Interval(_at(10, 25), _at(10, 45)))
    assert _reasons(services=buffered, appointments={1: [own, later]}) == []
    last = replace(BOOKING, start=_at(11, 40), end=_at(12))
    assert _reasons(last, services=longer) == [Reason.SERVICE_LENGTH]
    assert _reasons(last, services={10: replace(SERVICE, length=10 * MINUTES)}) == []


def test_withdrawn_clinicians_services_sites_and_modes() -> None:
    assert _reasons(inactive_clinicians=frozenset({1})) == [Reason.CLINICIAN_INACTIVE]
    assert _reasons(services={10: replace(SERVICE, active=False)}) == [Reason.SERVICE_INACTIVE]
    in_person = replace(BOOKING, mode="in_person", site_id=5)
    assert _reasons(in_person, inactive_sites=frozenset({5})) == [Reason.SITE_INACTIVE]
    no_video = {10: replace(SERVICE, modes=frozenset({"in_person"}))}
    assert _reasons(services=no_video) == [Reason.MODE_NOT_OFFERED]
    # Every reason at once, each said once.
    leave = {1: [slots.Interval(_at(9), _at(12))]}
    assert _reasons(
        inactive_clinicians=frozenset({1}),
        services={10: replace(SERVICE, active=False)},
        leave=leave,
    ) == [Reason.CLINICIAN_INACTIVE, Reason.SERVICE_INACTIVE, Reason.LEAVE]
