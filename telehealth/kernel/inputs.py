"""What any input must be before it reaches a query or date arithmetic, written once.

- Ids fit the INTEGER columns: PostgreSQL refuses a parameter past 2**31 - 1 ("value out of
  int32 range") and SQLite one past 2**63 - 1 (OverflowError), both as 500s.
- Dates (and the local date of an instant) lie in the years 1900 to 2999: far enough from
  Python's year 1 and year 9999 that a day, a week or a time-zone offset either side still
  exists, and wider than anything a booking, a birth or a report can mean.
- Times of day are Europe/London wall-clock times, without an offset.
- No text holds NUL (U+0000): PostgreSQL refuses it in text and SQLite stores it, so the two
  databases would disagree about the same request.

Pydantic models take `Id`, `Date`, `Instant` and `LocalTime`; whatever parses raw input (the
API's query and body, a page's query) calls `refuse_nul` on it first; a route's id in the path
goes through `path_id`. Each refusal is an `InvalidInput` naming the field. Every page reads
its form with `read_form` (staff pages through `check_csrf`, which calls it), whose `Posted`
either refuses the same way or gives the page plain messages to show on the same form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, WithJsonSchema
from starlette.requests import HTTPConnection, Request

from telehealth.kernel.errors import InvalidInput

MAX_ID = 2**31 - 1
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
NUL = "\x00"

ID_RULE = f"must be a whole number from 1 to {MAX_ID}"
DATE_RULE = f"must be between {EARLIEST.day} {EARLIEST:%B %Y} and {LATEST.day} {LATEST:%B %Y}"
NUL_RULE = "must not contain a NUL character (U+0000)"
TIME_RULE = "must be a time of day such as 09:30 (Europe/London, no offset)"
# What the document promises for a wall-clock time: JSON Schema's "time" format demands an
# offset, which a clinic's hours in Europe/London must not have.
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def check_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise ValueError(ID_RULE)
    return value


def _not_a_bool(value: Any) -> Any:
    # JSON `true` is not an id, though pydantic's lax mode would read it as 1.
    if isinstance(value, bool):
        raise ValueError(ID_RULE)
    return value


def check_date(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(DATE_RULE)
    return value


def _written_date(value: Any) -> Any:
    # As the document says, YYYY-MM-DD: pydantic's lax mode would also read a number, or a
    # string of digits, as seconds since 1970.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _written_instant(value: Any) -> Any:
    # An ISO 8601 date and time, never a number of seconds (which lax mode would accept).
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}[T ]", value):
        return value
    raise ValueError("must be a date and time with a UTC offset, as 2027-03-02T09:30:00+00:00")


def _check_instant(value: datetime) -> datetime:
    # The instant's own calendar date, not its UTC one: converting a datetime at the edge of
    # Python's range is itself what overflows.
    check_date(value.date())
    return value


Id = Annotated[
    int,
    BeforeValidator(_not_a_bool),
    AfterValidator(check_id),
    Field(json_schema_extra={"minimum": 1, "maximum": MAX_ID}),
]
Date = Annotated[
    date,
    BeforeValidator(_written_date),
    AfterValidator(check_date),
    Field(json_schema_extra={"description": f"A date from {EARLIEST} to {LATEST}"}),
]
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_written_instant),
    AfterValidator(_check_instant),
    Field(
        json_schema_extra={
            "description": f"An instant with a UTC offset, from {EARLIEST} to {LATEST}"
        }
    ),
]


def _local_time(value: Any) -> Any:
    # Only what the pattern allows: pydantic would also take a number of seconds, or an
    # offset that a naive session time cannot be compared with.
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and re.fullmatch(TIME_PATTERN, value):
        return value
    raise ValueError(TIME_RULE)


LocalTime = Annotated[
    time,
    BeforeValidator(_local_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": TIME_PATTERN,
            "description": "A Europe/London wall-clock time, HH:MM or HH:MM:SS",
        }
    ),
]


def path_id(connection: HTTPConnection, name: str) -> int:
    """The id a route takes in its path: a 422 naming the parameter unless it is one."""
    raw = connection.path_params[name]
    try:
        return check_id(int(raw))
    except ValueError:
        raise InvalidInput.field(name, ID_RULE) from None


def _nul_in(data: object, name: str) -> str | None:
    """The dotted name of the first key or string in `data` holding a NUL, if any."""
    if isinstance(data, str):
        return name if NUL in data else None
    if isinstance(data, Mapping):
        for key, value in data.items():
            inner = f"{name}.{key}" if name else str(key)
            if NUL in str(key):
                return inner
            found = _nul_in(value, inner)
            if found is not None:
                return found
    if isinstance(data, list | tuple):
        for index, item in enumerate(data):
            found = _nul_in(item, f"{name}.{index}" if name else str(index))
            if found is not None:
                return found
    return None


def holds_nul(data: object) -> bool:
    """Whether any key or string in `data` holds a NUL."""
    return _nul_in(data, "") is not None


def refuse_nul(data: object, *, name: str = "") -> None:
    """Raise `InvalidInput` naming the first field of `data` (parsed JSON, query parameters,
    a form) that holds a NUL character."""
    found = _nul_in(data, name)
    if found is not None:
        field = found.replace(NUL, "\\u0000")
        raise InvalidInput.field(field or "body", NUL_RULE)


def refused_in_words(label: str) -> str:
    """What a page says of a field holding a NUL, in the words of the page's own label."""
    return f"{label} contains a hidden character (NUL) that cannot be saved: type it again"


class Posted(dict[str, str]):
    """A submitted form: each field's value as typed (the last one sent under its name), and
    `refused`, the fields (in the order sent) with a NUL in any of their values.

    A page that re-shows its form merges `errors(labels)` into its own, so the patient or
    clinician sees the same form with the other answers kept; a page that does not calls
    `refuse()` for the API's 422 naming the field. Nothing holding a NUL may pass on to a
    query, a journey cookie or a message."""

    def __init__(self, items: Iterable[tuple[str, object]]) -> None:
        pairs = [(str(name), str(value)) for name, value in items]
        super().__init__(pairs)
        refused = (name for name, value in pairs if NUL in name or NUL in value)
        self.refused: tuple[str, ...] = tuple(dict.fromkeys(refused))

    def errors(self, labels: Mapping[str, str]) -> dict[str, str]:
        """A plain message for each refused field, named as the page labels it."""
        return {name: refused_in_words(labels.get(name, "This answer")) for name in self.refused}

    def refuse(self) -> None:
        """Raise `InvalidInput` naming the first field holding a NUL, if any."""
        if self.refused:
            raise InvalidInput.field(self.refused[0].replace(NUL, "\\u0000"), NUL_RULE)

    def kept(self) -> dict[str, str]:
        """The values to show again on the form: a refused value without its NUL, so the
        rest of what was typed is not lost."""
        return {name: value.replace(NUL, "") for name, value in self.items()}


async def read_form(request: Request) -> Posted:
    """The request's form, read once (Starlette caches it) as a `Posted`."""
    form = await request.form()
    return Posted(form.multi_items())
