"""Dates and times as people read them, in the NHS digital service manual's style: 9:30am,
2pm, midday, midnight, "Tuesday 3 March 2026", "Tuesday 3 March 2026 at 9:30am".

Pure: plain values in, text out. Instants (aware datetimes, stored as UTC) are shown on the
Europe/London wall clock; a naive datetime is refused rather than guessed at, since the same
digits mean different moments in GMT and BST.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

__all__ = ["LONDON", "clock", "day", "moment"]

# The service's one time zone: clinics keep Europe/London hours, and every local date, wall-clock
# time and calendar entry is read in it (scheduling, notifications and the features import this).
LONDON = ZoneInfo("Europe/London")


def _local(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("a time to show must be timezone-aware")
    return instant.astimezone(LONDON)


def clock(value: datetime | time) -> str:
    """9:30am, 2pm, 9:05am, 12:30pm; exactly 12:00 is midday and 00:00 midnight. Seconds are
    not shown (appointments start on whole minutes)."""
    t = _local(value).time() if isinstance(value, datetime) else value
    if (t.hour, t.minute) == (0, 0):
        return "midnight"
    if (t.hour, t.minute) == (12, 0):
        return "midday"
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    return f"{hour}{suffix}" if t.minute == 0 else f"{hour}:{t.minute:02d}{suffix}"


def day(value: datetime | date | str) -> str:
    """Tuesday 3 March 2026. A datetime gives its London date; a string must be an ISO date
    (as report queries carry them)."""
    if isinstance(value, datetime):
        value = _local(value).date()
    elif isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value:%A} {value.day} {value:%B %Y}"


def moment(instant: datetime) -> str:
    """Tuesday 3 March 2026 at 9:30am (London)."""
    return f"{day(instant)} at {clock(instant)}"
