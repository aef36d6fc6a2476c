"""One clinician's week as the availability page draws it: per local day, the sessions that
run, the leave that covers it and the appointments booked. Pure: the page loads the rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from scheduling import slots, wording
from scheduling.directory_schemas import LeaveOut, SessionOut
from telehealth.kernel import timefmt


@dataclass(frozen=True, slots=True)
class SessionLine:
    id: int
    hours: str  # "9am to 12:30pm"
    how: str  # "Video call from home, In person at Royal Lancaster Infirmary"
    services: str
    one_off: bool
    until: date | None


@dataclass(frozen=True, slots=True)
class LeaveLine:
    id: int
    hours: str  # "All day", or "9am to 1pm" on a part day
    reason: str


@dataclass(frozen=True, slots=True)
class Booked:
    starts_at: datetime
    ends_at: datetime
    service: str
    status: str


@dataclass
class Day:
    day: date
    bank_holiday: bool
    sessions: list[SessionLine] = field(default_factory=list)
    leave: list[LeaveLine] = field(default_factory=list)
    booked: list[Booked] = field(default_factory=list)

    @property
    def label(self) -> str:
        return timefmt.day(self.day)

    @property
    def weekday(self) -> str:
        """ "Tuesday" (the label's first word)."""
        return self.label.split(" ", 1)[0]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def hours(start: time, end: time) -> str:
    return f"{timefmt.clock(start)} to {timefmt.clock(end)}"


def _how(s: SessionOut, site_names: Mapping[int, str]) -> str:
    place = site_names.get(s.site_id) if s.site_id else None
    hubs = ", ".join(site_names.get(h, "") for h in s.hub_ids) if s.hub_ids else None
    parts = []
    for mode in s.modes:
        if mode == "video_site":
            parts.append(f"Video call at {hubs}" if hubs else "Video call at any community hub")
        else:
            parts.append(wording.how(mode, place=place))
    return ", ".join(parts)


def _runs_on(s: SessionOut, day: date, bank_holidays: frozenset[date]) -> bool:
    if day.weekday() != s.weekday or day < s.valid_from:
        return False
    if s.valid_until is not None and day > s.valid_until:
        return False
    return s.bank_holidays or day not in bank_holidays


def _leave_on(leave: LeaveOut, day: date) -> LeaveLine | None:
    # The local day's own bounds: a clock-change day is 23 or 25 hours long.
    bounds = slots.local_day_bounds(day)
    starts, ends = bounds.start, bounds.end
    if leave.end <= starts or leave.start >= ends:
        return None
    start, end = max(leave.start, starts), min(leave.end, ends)
    whole = start == starts and end == ends
    text = "All day" if whole else f"{timefmt.clock(start)} to {timefmt.clock(end)}"
    return LeaveLine(id=leave.id, hours=text, reason=leave.reason)


def build_week(
    monday: date,
    *,
    sessions: Sequence[SessionOut],
    leave: Sequence[LeaveOut],
    booked: Sequence[Booked],
    site_names: Mapping[int, str],
    service_names: Mapping[int, str],
) -> list[Day]:
    sunday = monday + timedelta(days=6)
    bank_holidays = slots.bank_holidays_between(monday, sunday)
    days = []
    for n in range(7):
        day = monday + timedelta(days=n)
        entry = Day(day=day, bank_holiday=day in bank_holidays)
        for s in sorted(sessions, key=lambda s: s.start_time):
            if _runs_on(s, day, bank_holidays):
                entry.sessions.append(
                    SessionLine(
                        id=s.id,
                        hours=hours(s.start_time, s.end_time),
                        how=_how(s, site_names),
                        services=", ".join(service_names.get(i, "") for i in s.service_ids),
                        one_off=s.one_off,
                        until=s.valid_until,
                    )
                )
        entry.leave = [line for item in leave if (line := _leave_on(item, day)) is not None]
        entry.booked = sorted(
            (b for b in booked if slots.to_london(b.starts_at).date() == day),
            key=lambda b: b.starts_at,
        )
        days.append(entry)
    return days
