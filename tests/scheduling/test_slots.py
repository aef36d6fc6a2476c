"""Slot expansion: the grid, clock changes, leave, busy time, rooms and filters."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.slots import (
    MODES,
    Availability,
    Interval,
    ServiceRules,
    Session,
    Slot,
    bank_holidays_between,
    clear_of,
    expand_slots,
    local_day_bounds,
    london_datetime,
    overlaps,
    session_intervals,
)
from telehealth.kernel.timefmt import LONDON

MINUTE = timedelta(minutes=1)
MONDAY = date(2026, 1, 12)  # a plain winter Monday (GMT), no bank holiday near
PAST = datetime(2025, 1, 1, tzinfo=UTC)  # "now" far enough back for any test date
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)
HUB, OTHER_HUB, SITE = 20, 21, 10


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def session(**changes: Any) -> Session:
    base = Session(
        clinician_id=1,
        weekday=0,
        start=time(9),
        end=time(10, 30),
        valid_from=date(2025, 1, 1),
        valid_until=None,
        modes=frozenset({"video_home"}),
        service_ids=frozenset({1}),
        site_id=SITE,
        hub_ids=None,
    )
    return dataclasses.replace(base, **changes)


def service(**changes: Any) -> ServiceRules:
    base = ServiceRules(
        id=1,
        length=timedelta(minutes=30),
        buffer=timedelta(0),
        min_notice=timedelta(0),
        horizon=timedelta(days=1000),
        modes=frozenset(MODES),
    )
    return dataclasses.replace(base, **changes)


def availability(
    sessions: Sequence[Session],
    *,
    leave: Mapping[int, Sequence[Interval]] | None = None,
    busy: Mapping[int, Sequence[Interval]] | None = None,
    hub_rooms: Mapping[int, int] | None = None,
    room_busy: Mapping[int, Sequence[Interval]] | None = None,
    bank_holidays: frozenset[date] = frozenset(),
) -> Availability:
    return Availability(
        sessions=sessions,
        leave=leave or {},
        busy=busy or {},
        hub_rooms=hub_rooms or {},
        room_busy=room_busy or {},
        bank_holidays=bank_holidays,
    )


def expand(
    avail: Availability,
    rules: ServiceRules | None = None,
    start: date = MONDAY,
    end: date | None = None,
    now: datetime = PAST,
    **filters: Any,
) -> list[Slot]:
    return expand_slots(
        avail, rules or service(), start_date=start, end_date=end or start, now=now, **filters
    )


def starts(slots: Sequence[Slot]) -> list[datetime]:
    return [slot.start for slot in slots]


def local_starts(slots: Sequence[Slot]) -> list[str]:
    return [slot.start.astimezone(LONDON).strftime("%H:%M %Z") for slot in slots]


# --- the grid -----------------------------------------------------------------------------


def test_basic_grid() -> None:
    slots = expand(availability([session()]))
    assert slots == [
        Slot(utc(MONDAY, 9), utc(MONDAY, 9, 30), 1, "video_home", None),
        Slot(utc(MONDAY, 9, 30), utc(MONDAY, 10), 1, "video_home", None),
        Slot(utc(MONDAY, 10), utc(MONDAY, 10, 30), 1, "video_home", None),
    ]
    assert all(slot.start.tzinfo == UTC for slot in slots)


def test_slots_end_by_the_session_end() -> None:
    slots = expand(availability([session(end=time(10, 20))]))
    assert starts(slots) == [utc(MONDAY, 9), utc(MONDAY, 9, 30)]


def test_only_the_sessions_weekday() -> None:
    slots = expand(availability([session(weekday=1)]), end=MONDAY + timedelta(days=6))
    assert {slot.start.date() for slot in slots} == {MONDAY + timedelta(days=1)}


def test_only_sessions_for_the_service() -> None:
    avail = availability([session(service_ids=frozenset({2}))])
    assert expand(avail) == []
    assert len(expand(avail, service(id=2))) == 3


# --- clock changes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monday", "utc_hour"),
    [
        (date(2026, 3, 23), 9),  # week before spring-forward: GMT
        (date(2026, 3, 30), 8),  # week after: BST
        (date(2026, 10, 19), 8),  # week before fall-back: BST
        (date(2026, 10, 26), 9),  # week after: GMT
    ],
)
def test_nine_am_clinic_is_nine_local_either_side_of_clock_changes(
    monday: date, utc_hour: int
) -> None:
    slots = expand(availability([session()]), start=monday)
    assert slots[0].start == utc(monday, utc_hour)
    assert local_starts(slots)[0].startswith("09:00")
    assert slots[-1].end.astimezone(LONDON).time() == time(10, 30)


@pytest.mark.parametrize(("sunday", "utc_hour"), [(SPRING_FORWARD, 8), (FALL_BACK, 9)])
def test_nine_am_clinic_is_nine_local_on_clock_change_sundays(sunday: date, utc_hour: int) -> None:
    slots = expand(availability([session(weekday=6)]), start=sunday)
    assert slots[0].start == utc(sunday, utc_hour)
    zone = "BST" if utc_hour == 8 else "GMT"
    assert local_starts(slots) == [f"09:00 {zone}", f"09:30 {zone}", f"10:00 {zone}"]


def test_spring_forward_night_session_skips_the_missing_hour() -> None:
    # 00:00-03:00 local is only two real hours; 01:00-02:00 local does not exist.
    slots = expand(
        availability([session(weekday=6, start=time(0), end=time(3))]), start=SPRING_FORWARD
    )
    assert local_starts(slots) == ["00:00 GMT", "00:30 GMT", "02:00 BST", "02:30 BST"]
    assert starts(slots) == [utc(SPRING_FORWARD, 0) + m * MINUTE for m in (0, 30, 60, 90)]
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in slots)


def test_spring_forward_drops_slots_ending_inside_the_gap() -> None:
    # With 40 minutes the 00:40 slot would end at 01:20, which does not exist; kept, it would
    # overlap the real 02:00 BST slot (01:00-01:40 UTC).
    rules = service(length=timedelta(minutes=40))
    avail = availability([session(weekday=6, start=time(0), end=time(3))])
    slots = expand(avail, rules, start=SPRING_FORWARD)
    assert local_starts(slots) == ["00:00 GMT", "02:00 BST"]


def test_spring_forward_session_starting_in_the_gap_starts_an_hour_late() -> None:
    avail = availability([session(weekday=6, start=time(1, 30), end=time(3))])
    assert session_intervals(avail.sessions[0], SPRING_FORWARD, frozenset()) == Interval(
        utc(SPRING_FORWARD, 1, 30), utc(SPRING_FORWARD, 2)
    )
    assert local_starts(expand(avail, start=SPRING_FORWARD)) == ["02:30 BST"]


def test_session_wholly_inside_the_gap_does_not_run() -> None:
    gap = session(weekday=6, start=time(1), end=time(2))
    assert session_intervals(gap, SPRING_FORWARD, frozenset()) is None
    assert expand(availability([gap]), start=SPRING_FORWARD) == []


def test_fall_back_night_session_uses_the_first_pass_through_the_repeated_hour() -> None:
    slots = expand(availability([session(weekday=6, start=time(0), end=time(3))]), start=FALL_BACK)
    # 01:30 BST -> 02:00 GMT would last 90 minutes, so it is dropped; the second 01:00-02:00
    # (GMT) is never offered.
    assert local_starts(slots) == ["00:00 BST", "00:30 BST", "01:00 BST", "02:00 GMT", "02:30 GMT"]
    assert starts(slots)[0] == datetime(2026, 10, 24, 23, tzinfo=UTC)
    assert all(a.end <= b.start for a, b in itertools.pairwise(slots))
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in slots)


def test_local_day_bounds_on_clock_change_days() -> None:
    spring, autumn = local_day_bounds(SPRING_FORWARD), local_day_bounds(FALL_BACK)
    assert spring.end - spring.start == timedelta(hours=23)
    assert autumn.end - autumn.start == timedelta(hours=25)
    assert london_datetime(FALL_BACK, time(1, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


# --- leave --------------------------------------------------------------------------------


def test_whole_day_leave_removes_the_day() -> None:
    tuesday = MONDAY + timedelta(days=1)
    avail = availability(
        [session(), session(weekday=1)],
        leave={1: [local_day_bounds(MONDAY)]},
    )
    slots = expand(avail, end=tuesday)
    assert {slot.start.date() for slot in slots} == {tuesday}


def test_part_day_leave_removes_overlapping_slots_only() -> None:
    avail = availability(
        [session(end=time(12))], leave={1: [Interval(utc(MONDAY, 10, 15), utc(MONDAY, 10, 45))]}
    )
    assert starts(expand(avail)) == [
        utc(MONDAY, h, m) for h, m in [(9, 0), (9, 30), (11, 0), (11, 30)]
    ]


def test_leave_of_another_clinician_does_not_matter() -> None:
    avail = availability([session()], leave={2: [local_day_bounds(MONDAY)]})
    assert len(expand(avail)) == 3


# --- bank holidays ------------------------------------------------------------------------


def test_bank_holidays_2026_are_the_gov_uk_dates() -> None:
    assert bank_holidays_between(date(2026, 1, 1), date(2026, 12, 31)) == {
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 28),  # substitute for Boxing Day, a Saturday
    }
    assert bank_holidays_between(date(2026, 12, 26), date(2026, 12, 27)) == frozenset()
    assert bank_holidays_between(date(2027, 1, 2), date(2027, 1, 1)) == frozenset()


@pytest.mark.parametrize("day", [date(2026, 12, 25), date(2026, 12, 28)])
def test_sessions_close_on_bank_holidays(day: date) -> None:
    bank = bank_holidays_between(date(2026, 12, 1), date(2026, 12, 31))
    closed = availability([session(weekday=day.weekday())], bank_holidays=bank)
    assert expand(closed, start=day) == []
    week_later = day + timedelta(days=7)
    assert len(expand(closed, start=week_later)) == 3
    opened = availability([session(weekday=day.weekday(), bank_holidays=True)], bank_holidays=bank)
    assert len(expand(opened, start=day)) == 3


# --- validity ---------------------------------------------------------------------------


def test_one_off_session() -> None:
    one_off = session(valid_from=MONDAY + timedelta(days=7), valid_until=MONDAY + timedelta(days=7))
    slots = expand(availability([one_off]), end=MONDAY + timedelta(days=27))
    assert {slot.start.date() for slot in slots} == {MONDAY + timedelta(days=7)}


def test_valid_from_and_until_are_inclusive() -> None:
    weekly = session(valid_from=MONDAY + timedelta(days=7), valid_until=MONDAY + timedelta(days=21))
    slots = expand(availability([weekly]), start=MONDAY, end=MONDAY + timedelta(days=34))
    assert sorted({slot.start.date() for slot in slots}) == [
        MONDAY + timedelta(days=7),
        MONDAY + timedelta(days=14),
        MONDAY + timedelta(days=21),
    ]


def test_dates_are_inclusive_local_dates() -> None:
    monday_session, sunday_session = session(), session(weekday=6)
    slots = expand(
        availability([monday_session, sunday_session]), start=MONDAY, end=MONDAY + timedelta(days=6)
    )
    assert {slot.start.date() for slot in slots} == {MONDAY, MONDAY + timedelta(days=6)}


# --- busy time and buffers ----------------------------------------------------------------


def test_buffer_blocks_the_neighbouring_slot_on_both_sides() -> None:
    # A booked 10:00-10:30 appointment whose service needs 10 minutes after it.
    booked = Interval(utc(MONDAY, 10), utc(MONDAY, 10, 40))
    avail = availability([session(end=time(12))], busy={1: [booked]})
    plain = starts(expand(avail))
    buffered = starts(expand(avail, service(buffer=timedelta(minutes=10))))
    # Its own buffer blocks 10:30; the new slot's buffer blocks 09:30.
    assert plain == [utc(MONDAY, h, m) for h, m in [(9, 0), (9, 30), (11, 0), (11, 30)]]
    assert buffered == [utc(MONDAY, h, m) for h, m in [(9, 0), (11, 0), (11, 30)]]


def test_buffer_may_run_past_the_session_end() -> None:
    next_booking = Interval(utc(MONDAY, 10, 30), utc(MONDAY, 11))
    avail = availability([session()], busy={1: [next_booking]})
    assert len(expand(avail)) == 3
    assert starts(expand(avail, service(buffer=timedelta(minutes=5)))) == [
        utc(MONDAY, 9),
        utc(MONDAY, 9, 30),
    ]


def test_touching_busy_interval_does_not_block() -> None:
    avail = availability([session()], busy={1: [Interval(utc(MONDAY, 8), utc(MONDAY, 9))]})
    assert len(expand(avail)) == 3


def test_slot_exactly_filling_a_gap_between_bookings() -> None:
    # Bookings end at 09:30 and (with the new slot's buffer) the next begins just in time.
    rules = service(buffer=timedelta(minutes=10))
    booked = [
        Interval(utc(MONDAY, 9), utc(MONDAY, 9, 30)),
        Interval(utc(MONDAY, 10, 10), utc(MONDAY, 11)),
    ]
    avail = availability([session(end=time(12))], busy={1: booked})
    assert starts(expand(avail, rules)) == [
        utc(MONDAY, 9, 30),
        utc(MONDAY, 11),
        utc(MONDAY, 11, 30),
    ]


def test_empty_busy_interval_blocks_nothing() -> None:
    empty = Interval(utc(MONDAY, 9, 45), utc(MONDAY, 9, 45))
    assert len(expand(availability([session()], busy={1: [empty]}))) == 3


# --- notice and horizon -------------------------------------------------------------------


def test_min_notice_and_horizon_bound_the_start() -> None:
    avail = availability([session(start=time(8), end=time(13))])
    rules = service(min_notice=timedelta(hours=2), horizon=timedelta(hours=3))
    slots = expand(avail, rules, now=utc(MONDAY, 8))
    # Starts from now + 2 h to now + 3 h, both inclusive.
    assert starts(slots) == [utc(MONDAY, 10), utc(MONDAY, 10, 30), utc(MONDAY, 11)]


def test_min_notice_keeps_the_grid() -> None:
    slots = expand(
        availability([session()]), service(min_notice=timedelta(minutes=5)), now=utc(MONDAY, 9)
    )
    assert starts(slots) == [utc(MONDAY, 9, 30), utc(MONDAY, 10)]


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        expand(availability([session()]), now=datetime(2026, 1, 1))


# --- modes, sites and rooms -----------------------------------------------------------------


def test_modes_need_both_session_and_service() -> None:
    avail = availability([session(modes=frozenset(MODES), end=time(9, 30))], hub_rooms={HUB: 1})
    every = expand(avail)
    assert [(s.mode, s.site_id) for s in every] == [
        ("in_person", SITE),
        ("video_home", None),
        ("video_site", HUB),
    ]
    home_only = expand(avail, service(modes=frozenset({"video_home", "telephone"})))
    assert [s.mode for s in home_only] == ["video_home"]
    assert [s.mode for s in expand(avail, mode="in_person")] == ["in_person"]
    assert expand(avail, service(modes=frozenset({"video_home"})), mode="in_person") == []


def test_in_person_needs_a_site() -> None:
    avail = availability([session(modes=frozenset({"in_person"}), site_id=None)])
    assert expand(avail) == []


def test_video_site_needs_a_free_room() -> None:
    first = Interval(utc(MONDAY, 9), utc(MONDAY, 9, 30))
    video_site = session(modes=frozenset({"video_site"}))

    def offered(rooms: int, busy_rooms: int) -> list[datetime]:
        avail = availability(
            [video_site], hub_rooms={HUB: rooms}, room_busy={HUB: [first] * busy_rooms}
        )
        return starts(expand(avail))

    assert offered(2, 2) == [utc(MONDAY, 9, 30), utc(MONDAY, 10)]
    assert offered(2, 1) == [utc(MONDAY, 9), utc(MONDAY, 9, 30), utc(MONDAY, 10)]
    assert offered(0, 0) == []


def test_room_use_has_no_buffer_and_counts_only_overlaps() -> None:
    video_site = session(modes=frozenset({"video_site"}))
    touching = [
        Interval(utc(MONDAY, 8), utc(MONDAY, 9)),
        Interval(utc(MONDAY, 9, 30), utc(MONDAY, 10)),
    ]
    avail = availability([video_site], hub_rooms={HUB: 1}, room_busy={HUB: touching})
    assert starts(expand(avail, service(buffer=timedelta(minutes=15)))) == [
        utc(MONDAY, 9),
        utc(MONDAY, 10),
    ]


def test_video_site_hubs() -> None:
    every_hub = session(modes=frozenset({"video_site"}), end=time(9, 30))
    listed = dataclasses.replace(every_hub, clinician_id=2, hub_ids=frozenset({OTHER_HUB, 99}))
    avail = availability([every_hub, listed], hub_rooms={HUB: 1, OTHER_HUB: 1})
    assert [(s.clinician_id, s.site_id) for s in expand(avail)] == [
        (1, HUB),
        (1, OTHER_HUB),
        (2, OTHER_HUB),  # hub 99 has no rooms
    ]


def test_site_filter() -> None:
    avail = availability(
        [session(modes=frozenset(MODES), end=time(9, 30))], hub_rooms={HUB: 1, OTHER_HUB: 1}
    )
    assert [(s.mode, s.site_id) for s in expand(avail, site_id=HUB)] == [("video_site", HUB)]
    assert [(s.mode, s.site_id) for s in expand(avail, site_id=SITE)] == [("in_person", SITE)]
    assert expand(avail, site_id=12345) == []


def test_clinician_filter() -> None:
    avail = availability([session(), session(clinician_id=2)])
    assert {s.clinician_id for s in expand(avail)} == {1, 2}
    assert {s.clinician_id for s in expand(avail, clinician_id=2)} == {2}
    assert expand(avail, clinician_id=3) == []


def test_busy_time_is_per_clinician() -> None:
    busy = {2: [Interval(utc(MONDAY, 9), utc(MONDAY, 11))]}
    avail = availability([session(), session(clinician_id=2)], busy=busy)
    assert {s.clinician_id for s in expand(avail)} == {1}


# --- dedupe and order ---------------------------------------------------------------------


def test_overlapping_sessions_do_not_duplicate_slots() -> None:
    morning = session(start=time(9), end=time(11))
    late_morning = session(
        start=time(10), end=time(12), modes=frozenset({"video_home", "in_person"})
    )
    slots = expand(availability([morning, late_morning]), mode="video_home")
    assert starts(slots) == [utc(MONDAY, 9) + k * timedelta(minutes=30) for k in range(6)]


def test_output_is_sorted_by_start_clinician_mode_site() -> None:
    avail = availability(
        [
            session(clinician_id=2, modes=frozenset(MODES)),
            session(clinician_id=1, modes=frozenset({"video_site", "video_home"})),
        ],
        hub_rooms={OTHER_HUB: 1, HUB: 1},
    )
    slots = expand(avail)
    keys = [
        (s.start, s.clinician_id, s.mode, -1 if s.site_id is None else s.site_id) for s in slots
    ]
    assert keys == sorted(keys)
    assert [(s.clinician_id, s.mode, s.site_id) for s in slots[:6]] == [
        (1, "video_home", None),
        (1, "video_site", HUB),
        (1, "video_site", OTHER_HUB),
        (2, "in_person", SITE),
        (2, "video_home", None),
        (2, "video_site", HUB),
    ]


def test_overlaps() -> None:
    a = Interval(utc(MONDAY, 9), utc(MONDAY, 10))
    assert overlaps(a, Interval(utc(MONDAY, 9, 59), utc(MONDAY, 11)))
    assert not overlaps(a, Interval(utc(MONDAY, 10), utc(MONDAY, 11)))
    assert not overlaps(a, Interval(utc(MONDAY, 9, 30), utc(MONDAY, 9, 30)))


# --- properties ---------------------------------------------------------------------------

BASE_DAYS = [date(2026, 3, 23), date(2026, 10, 19), date(2026, 12, 21), MONDAY]
LENGTHS = [10, 15, 20, 30, 40, 45, 60]


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    start = draw(st.integers(0, 23 * 6)) * 10
    end = min(start + draw(st.integers(1, 24)) * 10, 24 * 60 - 1)
    valid_from = draw(st.sampled_from(BASE_DAYS)) + timedelta(days=draw(st.integers(-7, 14)))
    until = draw(st.none() | st.integers(0, 21))
    return Session(
        clinician_id=draw(st.integers(1, 3)),
        weekday=draw(st.integers(0, 6)),
        start=time(start // 60, start % 60),
        end=time(end // 60, end % 60),
        valid_from=valid_from,
        valid_until=None if until is None else valid_from + timedelta(days=until),
        modes=frozenset(draw(st.sets(st.sampled_from(MODES), min_size=1))),
        service_ids=draw(st.sampled_from([frozenset({1}), frozenset({1, 2}), frozenset({2})])),
        site_id=draw(st.sampled_from([SITE, None])),
        hub_ids=draw(st.sampled_from([None, frozenset({HUB}), frozenset({HUB, OTHER_HUB})])),
        bank_holidays=draw(st.booleans()),
    )


def intervals_near(day: date) -> st.SearchStrategy[list[Interval]]:
    start = utc(day, 0) - timedelta(days=1)
    return st.lists(
        st.builds(
            lambda offset, length: Interval(
                start + offset * 5 * MINUTE, start + (offset + length) * 5 * MINUTE
            ),
            st.integers(0, 12 * 24 * 14),
            st.integers(0, 60),
        ),
        max_size=12,
    )


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[Availability, ServiceRules, date, date, datetime, dict[str, Any]]:
    first = draw(st.sampled_from(BASE_DAYS)) + timedelta(days=draw(st.integers(0, 6)))
    last = first + timedelta(days=draw(st.integers(0, 9)))
    people = range(1, 4)
    avail = Availability(
        sessions=draw(st.lists(sessions(), max_size=6)),
        leave={c: draw(intervals_near(first)) for c in people},
        busy={c: draw(intervals_near(first)) for c in people},
        hub_rooms={HUB: draw(st.integers(0, 2)), OTHER_HUB: draw(st.integers(0, 2))},
        room_busy={HUB: draw(intervals_near(first)), OTHER_HUB: draw(intervals_near(first))},
        bank_holidays=bank_holidays_between(date(2026, 1, 1), date(2027, 1, 31)),
    )
    rules = service(
        length=draw(st.sampled_from(LENGTHS)) * MINUTE,
        buffer=draw(st.sampled_from([0, 5, 10, 15])) * MINUTE,
        min_notice=draw(st.integers(0, 48)) * timedelta(hours=1),
        horizon=draw(st.integers(1, 20)) * timedelta(days=1),
        modes=frozenset(draw(st.sets(st.sampled_from(MODES), min_size=1))),
    )
    now = utc(first, 0) + draw(st.integers(-3 * 24, 3 * 24)) * timedelta(hours=1)
    filters = {
        "mode": draw(st.sampled_from([None, *MODES])),
        "site_id": draw(st.sampled_from([None, None, SITE, HUB])),
        "clinician_id": draw(st.sampled_from([None, None, 1])),
    }
    return avail, rules, first, last, now, filters


def reference(
    avail: Availability,
    rules: ServiceRules,
    first: date,
    last: date,
    now: datetime,
    f: dict[str, Any],
) -> set[Slot]:
    """A slow, literal reading of the rules: every wall-clock grid slot, checked one by one."""
    found: set[Slot] = set()
    day = first
    while day <= last:
        for s in avail.sessions:
            within = session_intervals(s, day, avail.bank_holidays)
            if rules.id not in s.service_ids or within is None:
                continue
            wall = datetime.combine(day, s.start)
            while wall + rules.length <= datetime.combine(day, s.end):
                found |= reference_slot(avail, rules, s, wall, within, now, f)
                wall += rules.length
        day += timedelta(days=1)
    return found


def reference_slot(
    avail: Availability,
    rules: ServiceRules,
    s: Session,
    wall: datetime,
    within: Interval,
    now: datetime,
    f: dict[str, Any],
) -> set[Slot]:
    def real(w: datetime) -> bool:  # not in the spring-forward gap
        return w.replace(tzinfo=LONDON).astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) == w

    start = wall.replace(tzinfo=LONDON).astimezone(UTC)
    end = (wall + rules.length).replace(tzinfo=LONDON).astimezone(UTC)
    slot = Interval(start, end)
    buffered = Interval(start, end + rules.buffer)
    if not (real(wall) and real(wall + rules.length - timedelta(microseconds=1))):
        return set()
    if end - start != rules.length or start < within.start or end > within.end:
        return set()
    if start < now + rules.min_notice or start > now + rules.horizon:
        return set()
    if any(overlaps(slot, i) for i in avail.leave.get(s.clinician_id, [])):
        return set()
    if any(overlaps(buffered, i) for i in avail.busy.get(s.clinician_id, [])):
        return set()
    places: list[tuple[str, int | None]] = [("video_home", None)]
    if s.site_id is not None:
        places.append(("in_person", s.site_id))
    for hub in s.hub_ids if s.hub_ids is not None else avail.hub_rooms:
        taken = sum(overlaps(slot, i) for i in avail.room_busy.get(hub, []))
        if taken < avail.hub_rooms.get(hub, 0):
            places.append(("video_site", hub))
    return {
        Slot(start, end, s.clinician_id, mode, site)
        for mode, site in places
        if mode in s.modes and mode in rules.modes and f["mode"] in (None, mode)
        if f["site_id"] is None or f["site_id"] == site
        if f["clinician_id"] in (None, s.clinician_id)
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_expansion_matches_a_literal_reading_of_the_rules(
    scenario: tuple[Availability, ServiceRules, date, date, datetime, dict[str, Any]],
) -> None:
    avail, rules, first, last, now, filters = scenario
    slots = expand_slots(avail, rules, start_date=first, end_date=last, now=now, **filters)

    keys = [
        (s.start, s.clinician_id, s.mode, -1 if s.site_id is None else s.site_id) for s in slots
    ]
    assert keys == sorted(set(keys)), "sorted and unique"
    for slot in slots:
        assert slot.end - slot.start == rules.length
        assert slot.start.tzinfo == UTC
        assert now + rules.min_notice <= slot.start <= now + rules.horizon
        interval = Interval(slot.start, slot.end)
        assert not any(overlaps(interval, i) for i in avail.leave[slot.clinician_id])
        buffered = Interval(slot.start, slot.end + rules.buffer)
        assert not any(overlaps(buffered, i) for i in avail.busy[slot.clinician_id])
        assert any(
            (
                within := session_intervals(
                    s, slot.start.astimezone(LONDON).date(), avail.bank_holidays
                )
            )
            and within.start <= slot.start
            and slot.end <= within.end
            for s in avail.sessions
            if s.clinician_id == slot.clinician_id and slot.mode in s.modes
        ), "inside a session"
    assert set(slots) == reference(avail, rules, first, last, now, filters)


@settings(max_examples=200, deadline=None)
@given(sessions(), st.sampled_from(LENGTHS), st.sampled_from([SPRING_FORWARD, FALL_BACK, MONDAY]))
def test_one_sessions_slots_never_overlap(one: Session, minutes: int, day: date) -> None:
    one = dataclasses.replace(one, weekday=day.weekday(), valid_from=day, valid_until=day)
    avail = availability([one], hub_rooms={HUB: 1, OTHER_HUB: 1})
    slots = expand(avail, service(length=minutes * MINUTE), start=day, mode="video_home")
    assert all(a.end <= b.start for a, b in itertools.pairwise(slots))


def _slot_at(hour: int, minute: int, length: int = 20) -> Slot:
    start = utc(MONDAY, hour, minute)
    return Slot(start, start + length * MINUTE, 1, "video_home", None)


def test_clear_of_leaves_out_slots_a_patients_appointment_overlaps() -> None:
    grid = [_slot_at(9, m) for m in (0, 20, 40)] + [_slot_at(10, m) for m in (0, 20, 40)]
    # 10:00-10:30 on another service's 30-minute grid: it overlaps 10:00 and 10:20, and
    # touches neither 9:40 (ending at 10:00) nor 10:40 (half-open intervals).
    busy = [Interval(utc(MONDAY, 10), utc(MONDAY, 10, 30))]
    kept = [s.start for s in clear_of(grid, busy)]
    assert kept == [utc(MONDAY, 9), utc(MONDAY, 9, 20), utc(MONDAY, 9, 40), utc(MONDAY, 10, 40)]
    assert clear_of(grid, []) == grid
    # An empty interval (a zero-length row) is in nobody's way, as `overlaps` says.
    assert clear_of(grid, [Interval(utc(MONDAY, 9, 5), utc(MONDAY, 9, 5))]) == grid


@given(
    starts=st.lists(st.integers(0, 60), max_size=12),
    busy=st.lists(st.tuples(st.integers(0, 70), st.integers(0, 30)), max_size=4),
)
def test_clear_of_keeps_exactly_the_slots_overlapping_nothing(
    starts: list[int], busy: list[tuple[int, int]]
) -> None:
    base = utc(MONDAY, 9)
    found = [
        Slot(base + n * 5 * MINUTE, base + (n * 5 + 20) * MINUTE, 1, "video_home", None)
        for n in sorted(starts)
    ]
    taken = [Interval(base + a * 5 * MINUTE, base + (a * 5 + b) * MINUTE) for a, b in busy]
    expected = [s for s in found if not any(overlaps(Interval(s.start, s.end), b) for b in taken)]
    assert clear_of(found, taken) == expected
