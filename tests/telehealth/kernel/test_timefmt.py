"""Times and dates in the NHS style, without a database."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from telehealth.kernel import timefmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (time(9, 30), "9:30am"),
        (time(9, 5), "9:05am"),
        (time(14), "2pm"),
        (time(12), "midday"),
        (time(0), "midnight"),
        (time(12, 30), "12:30pm"),
        (time(0, 15), "12:15am"),
        (time(23, 59), "11:59pm"),
        (time(10), "10am"),
        (time(9, 30, 59), "9:30am"),
    ],
)
def test_clock(value: time, expected: str) -> None:
    assert timefmt.clock(value) == expected


def test_every_minute_of_the_day_reads_back_as_itself() -> None:
    pattern = re.compile(r"(?P<h>1[0-2]|[1-9])(?::(?P<m>[0-5]\d))?(?P<half>am|pm)")
    start = datetime(2026, 1, 1)
    for n in range(24 * 60):
        t = (start + timedelta(minutes=n)).time()
        text = timefmt.clock(t)
        if text in ("midday", "midnight"):
            assert t in (time(12), time(0))
            continue
        found = pattern.fullmatch(text)
        assert found, text
        hour = int(found["h"]) % 12 + (12 if found["half"] == "pm" else 0)
        assert time(hour, int(found["m"] or 0)) == t
        assert not text.endswith(":00am") and not text.endswith(":00pm")


def test_instants_are_shown_on_the_london_clock() -> None:
    # 08:30 UTC is 9:30am in British Summer Time, 8:30am in winter.
    assert timefmt.clock(datetime(2026, 6, 2, 8, 30, tzinfo=UTC)) == "9:30am"
    assert timefmt.clock(datetime(2026, 1, 6, 8, 30, tzinfo=UTC)) == "8:30am"
    # 23:00 UTC on 30 June is midnight in London, on 1 July.
    late = datetime(2026, 6, 30, 23, tzinfo=UTC)
    assert timefmt.moment(late) == "Wednesday 1 July 2026 at midnight"


def test_day_and_moment() -> None:
    assert timefmt.day(date(2026, 3, 3)) == "Tuesday 3 March 2026"
    assert timefmt.day("2026-03-03") == "Tuesday 3 March 2026"
    assert timefmt.day(datetime(2026, 3, 3, 23, 30, tzinfo=UTC)) == "Tuesday 3 March 2026"
    assert timefmt.moment(datetime(2026, 3, 3, 9, 30, tzinfo=UTC)) == (
        "Tuesday 3 March 2026 at 9:30am"
    )
    assert timefmt.moment(datetime(2026, 3, 3, 12, tzinfo=UTC)) == "Tuesday 3 March 2026 at midday"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        timefmt.clock(datetime(2026, 3, 3, 9, 30))
