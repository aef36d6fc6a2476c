"""Reading a staff screen's query: every problem is a message for its field, nothing raises."""

from __future__ import annotations

from datetime import date

import pytest

from scheduling.transitions import Live
from telehealth.video.screen_query import (
    BAD_DATE,
    BAD_STATUS,
    DATE_OUT_OF_RANGE,
    LARGEST_ID,
    read_id,
    read_query,
)

TODAY = date(2026, 11, 24)


def test_nothing_asked_is_today_everything() -> None:
    query = read_query({}, today=TODAY)
    assert (query.day, query.status, query.errors) == (TODAY, None, {})


def test_a_day_and_a_state() -> None:
    query = read_query({"date": "2027-03-30", "status": "by_phone"}, today=TODAY)
    assert (query.day, query.status, query.valid) == (date(2027, 3, 30), Live.BY_PHONE, True)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("30/03/2027", BAD_DATE),
        ("2027-02-30", BAD_DATE),
        ("9999-12-31", DATE_OUT_OF_RANGE),
        ("0001-01-01", DATE_OUT_OF_RANGE),
    ],
)
def test_a_bad_day_is_a_message_and_today_is_kept(raw: str, message: str) -> None:
    query = read_query({"date": raw}, today=TODAY)
    assert query.errors == {"date": message}
    assert query.day == TODAY and query.date_text == raw


def test_an_unknown_state_is_a_message() -> None:
    assert read_query({"status": "in call"}, today=TODAY).errors == {"status": BAD_STATUS}


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "1.5", " 7", "+7", "٣", str(LARGEST_ID + 1)])
def test_ids_that_name_no_row(raw: str) -> None:
    with pytest.raises(ValueError):
        read_id(raw)


def test_ids() -> None:
    assert read_id(None) is None and read_id("") is None
    assert read_id("7") == 7 and read_id(str(LARGEST_ID)) == LARGEST_ID
