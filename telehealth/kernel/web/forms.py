"""Reading what people type into the pages' forms: the NHS date input (day, month and year
boxes) and times as people write them ("9:30", "9.30am", "14:00"). Each reader answers the
value, or the message the error summary shows (in the NHS service manual's words)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Read(Generic[T]):
    value: T | None = None
    error: str | None = None


def date_parts(form: Mapping[str, str], name: str) -> dict[str, str]:
    """The three boxes of the date input `name` as typed: NHS.UK frontend's date input names
    them "name[day]", "name[month]" and "name[year]" (their ids are "name-day", ...)."""
    return {part: form.get(f"{name}[{part}]", "").strip() for part in ("day", "month", "year")}


def read_date(form: Mapping[str, str], name: str, label: str) -> Read[date]:
    """The date typed into the date input `name`; `label` names it in errors ("Start date")."""
    parts = date_parts(form, name)
    missing = [part for part, text in parts.items() if not text]
    if len(missing) == 3:
        return Read(error=f"Enter the {label.lower()}")
    if missing:
        return Read(error=f"{label} must include a {' and '.join(missing)}")
    if not all(text.isdigit() for text in parts.values()) or len(parts["year"]) != 4:
        return Read(error=f"{label} must be a real date")
    try:
        return Read(value=date(int(parts["year"]), int(parts["month"]), int(parts["day"])))
    except ValueError:
        return Read(error=f"{label} must be a real date")


_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$")


def read_time(text: str, label: str) -> Read[time]:
    """A time of day: "9:30", "09:30", "9.30am", "2pm", "14:00"; midday is "12pm" or "12:00"."""
    match = _TIME.match(text.strip().lower())
    if not text.strip():
        return Read(error=f"Enter the {label.lower()}")
    if match is None:
        return Read(error=f"Enter the {label.lower()} as a time, like 9:30am or 14:00")
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half:
        if not 1 <= hour <= 12:
            return Read(error=f"Enter the {label.lower()} as a time, like 9:30am or 14:00")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return Read(error=f"{label} must be a real time")
    return Read(value=time(hour, minute))
