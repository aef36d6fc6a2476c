"""The week as the availability page draws it: sessions on the days they run (not on a bank
holiday unless they say so), leave cut to each day it covers, appointments on their day."""

from __future__ import annotations

from datetime import date, time

from scheduling.directory_schemas import LeaveOut, SessionOut
from scheduling.slots import london_datetime
from telehealth.clinicians.week import Booked, build_week, monday_of

MONDAY = date(2027, 5, 3)  # Monday 3 May 2027 is the early May bank holiday


def _session(**fields: object) -> SessionOut:
    values: dict[str, object] = {
        "id": 1,
        "clinician_id": 1,
        "weekday": 0,
        "start_time": time(9),
        "end_time": time(12, 30),
        "valid_from": date(2027, 1, 4),
        "valid_until": None,
        "modes": ["video_home", "in_person"],
        "service_ids": [5],
        "site_id": 9,
        "hub_ids": None,
        "bank_holidays": False,
        "one_off": False,
    }
    values.update(fields)
    return SessionOut.model_validate(values)


def _week(**kw: object) -> list:  # type: ignore[type-arg]
    params: dict[str, object] = {
        "sessions": [],
        "leave": [],
        "booked": [],
        "site_names": {9: "Royal Lancaster Infirmary", 20: "Ulverston Health Centre"},
        "service_names": {5: "Cardiology follow-up"},
    }
    params.update(kw)
    return build_week(MONDAY, **params)  # type: ignore[arg-type]


def test_monday_of_any_day_of_the_week() -> None:
    assert {monday_of(date(2027, 5, d)) for d in range(3, 10)} == {MONDAY}


def test_a_weekly_session_skips_the_bank_holiday_unless_it_runs_on_them() -> None:
    closed = _week(sessions=[_session(), _session(id=2, weekday=1)])
    assert closed[0].bank_holiday and closed[0].sessions == []
    tuesday = closed[1].sessions[0]
    assert tuesday.hours == "9am to 12:30pm"
    assert tuesday.how == "Video call from home, In person at Royal Lancaster Infirmary"
    assert tuesday.services == "Cardiology follow-up"
    open_anyway = _week(sessions=[_session(bank_holidays=True)])
    assert len(open_anyway[0].sessions) == 1


def test_a_session_outside_its_dates_does_not_show() -> None:
    ended = _week(sessions=[_session(weekday=2, valid_until=date(2027, 5, 4))])
    assert all(day.sessions == [] for day in ended)
    hubs = _week(sessions=[_session(weekday=3, modes=["video_site"], hub_ids=[20])])
    assert hubs[3].sessions[0].how == "Video call at Ulverston Health Centre"


def test_leave_is_cut_to_each_day_it_covers() -> None:
    leave = LeaveOut(
        id=3,
        clinician_id=1,
        start=london_datetime(date(2027, 5, 5), time(13)),
        end=london_datetime(date(2027, 5, 7), time(0)),
        reason="Course",
    )
    days = _week(leave=[leave])
    assert [line.hours for line in days[2].leave] == ["1pm to midnight"]
    assert [line.hours for line in days[3].leave] == ["All day"]
    assert days[4].leave == [] and days[1].leave == []


def test_appointments_are_listed_on_their_local_day_in_time_order() -> None:
    late = Booked(
        london_datetime(date(2027, 5, 4), time(11)),
        london_datetime(date(2027, 5, 4), time(11, 20)),
        "Cardiology follow-up",
        "booked",
    )
    early = Booked(
        london_datetime(date(2027, 5, 4), time(0, 30)),  # 23:30 UTC on the Monday
        london_datetime(date(2027, 5, 4), time(0, 50)),
        "Cardiology follow-up",
        "booked",
    )
    days = _week(booked=[late, early])
    assert days[1].booked == [early, late] and days[0].booked == []
