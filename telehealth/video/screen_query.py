"""What a clinic or reception screen was asked to show, read from its query string. Pure: no I/O.

Nothing here raises: every problem becomes a message for the screen's error summary, keyed
by the form field to fix, so the screen can still be drawn around it and the user can put it
right there (GOV.UK and NHS.UK error pattern). Messages are for people, not programmers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from scheduling.transitions import Live
from telehealth.kernel.inputs import DATE_RULE, EARLIEST, LATEST, MAX_ID

# The bounds every input takes (`telehealth.kernel.inputs`), so a screen and the API agree.
LARGEST_ID = MAX_ID
EARLIEST_DAY = EARLIEST
LATEST_DAY = LATEST

BAD_DATE = "Date must be a real date, for example 2026-11-24"
DATE_OUT_OF_RANGE = "Date " + DATE_RULE
BAD_STATUS = "Select which appointments to show from the list"
_DIGITS = re.compile(r"[0-9]{1,10}")


@dataclass
class ScreenQuery:
    day: date
    date_text: str  # as it was sent, to show it back when it is wrong
    status: Live | None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def read_id(raw: str | None) -> int | None:
    """A row id from a form, None when the field was left empty; ValueError when it cannot
    name a row (not a whole number, or beyond what the id columns hold)."""
    if not raw:
        return None
    if not _DIGITS.fullmatch(raw) or not 0 < int(raw) <= LARGEST_ID:
        raise ValueError(raw)
    return int(raw)


def read_query(params: Mapping[str, str], *, today: date) -> ScreenQuery:
    raw_day = params.get("date", "")
    query = ScreenQuery(day=today, date_text=raw_day or today.isoformat(), status=None)
    if raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            query.errors["date"] = BAD_DATE
        else:
            if EARLIEST_DAY <= day <= LATEST_DAY:
                query.day = day
            else:
                query.errors["date"] = DATE_OUT_OF_RANGE
    if raw_status := params.get("status", ""):
        try:
            query.status = Live(raw_status)
        except ValueError:
            query.errors["status"] = BAD_STATUS
    return query
