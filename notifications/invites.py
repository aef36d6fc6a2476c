"""Calendar invites for appointments: RFC 5545 objects and RFC 5546 (iTIP) messages.

Pure: plain values in, bytes out; nothing here sends mail or touches the database.

- `build_calendar` makes one iTIP message: `METHOD:REQUEST` when booking or rescheduling,
  `METHOD:CANCEL` when cancelling. Keep the UID for the life of the appointment and raise
  SEQUENCE on every reschedule and on the cancel, or clients keep the old copy. Send it as a
  `text/calendar; method=REQUEST` (or `CANCEL`) MIME part from the ORGANIZER's mailbox.
- `build_feed` makes a subscription feed (no METHOD, so no ORGANIZER or ATTENDEE either: a
  feed is not an invitation and should not carry e-mail addresses); cancelled appointments
  stay in it with `STATUS:CANCELLED` so subscribed clients drop them.

Times are written as `TZID=Europe/London` local times (UTC only in the repeated hour when the
clocks go back) with a VTIMEZONE that icalendar builds from the time-zone database
(`Timezone.from_tzid`). It spans only the calendar years of the events: a single year needs no
RDATE, which Outlook has been reported to ignore inside VTIMEZONEs.

Errors: `ValueError` for an invite that must not be sent (naive or reversed times, no
attendees, an unknown ROLE, or text that looks like an NHS number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from icalendar import Alarm, Calendar, Event, vCalAddress, vDuration, vUri
from icalendar.enums import CLASS, STATUS, TRANSP

from telehealth.kernel.timefmt import LONDON

__all__ = ["Attendee", "Invite", "build_calendar", "build_feed"]

PRODID = "-//Bay Telehealth//Appointment invites//EN"
ROLES = frozenset({"CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"})
CONFERENCE_LABEL = "Join the video call"
FEED_REFRESH = timedelta(hours=1)

# Ten digits, bare or grouped 3-3-4 by spaces or hyphens, not inside a longer run of digits,
# letters or hyphens (so 11-digit phone numbers, UUIDs and tokens in join links pass).
_NHS_NUMBER = re.compile(r"(?<![\w-])\d{3}[ \u00a0-]?\d{3}[ \u00a0-]?\d{4}(?![\w-])")


@dataclass(frozen=True, slots=True)
class Attendee:
    """One invited person. Give the clinician `role="CHAIR"` if clients should show them as
    leading the consultation; the patient and any carer stay `REQ-PARTICIPANT`."""

    email: str
    name: str
    role: str = "REQ-PARTICIPANT"
    rsvp: bool = True


@dataclass(frozen=True, slots=True)
class Invite:
    """Everything an invite says. `summary`, `location` and `description` are shown to anyone
    who can see the calendar: service name, place and instructions only, never clinical or
    identifying details."""

    uid: str
    sequence: int
    method: Literal["REQUEST", "CANCEL"]
    start: datetime
    end: datetime
    summary: str
    location: str
    organizer_email: str
    organizer_name: str
    attendees: tuple[Attendee, ...]
    join_url: str | None
    description: str
    reminder: timedelta | None = timedelta(hours=1)
    dtstamp: datetime | None = None


def build_calendar(invite: Invite) -> bytes:
    """One iTIP message (METHOD:REQUEST or METHOD:CANCEL) holding one VEVENT, CRLF lines."""
    if not invite.attendees:
        raise ValueError("an invite needs at least one attendee")
    calendar = _calendar()
    calendar.add("METHOD", invite.method)
    calendar.add_component(_event(invite, itip=True))
    return _finish(calendar, [invite])


def build_feed(events: Sequence[Invite], *, name: str) -> bytes:
    """A subscription feed of appointments, cancelled ones kept with STATUS:CANCELLED."""
    _refuse_nhs_number("feed name", name)
    calendar = _calendar()
    calendar.calendar_name = name  # NAME (RFC 7986) and X-WR-CALNAME
    calendar.add("REFRESH-INTERVAL", vDuration(FEED_REFRESH, params={"VALUE": "DURATION"}))
    calendar.add("X-PUBLISHED-TTL", vDuration(FEED_REFRESH))
    for invite in events:
        calendar.add_component(_event(invite, itip=False))
    return _finish(calendar, events)


def _calendar() -> Calendar:
    # Not Calendar.new(): it adds a random calendar-level UID, which some clients mistake for
    # the event's and which makes the output differ on every call.
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    return calendar


def _event(invite: Invite, *, itip: bool) -> Event:
    _check(invite)
    cancelled = invite.method == "CANCEL"
    event = Event.new(
        uid=invite.uid,
        sequence=invite.sequence,
        stamp=datetime.now(UTC) if invite.dtstamp is None else _utc("dtstamp", invite.dtstamp),
        start=_as_written(_utc("start", invite.start)),
        end=_as_written(_utc("end", invite.end)),
        summary=invite.summary,
        location=invite.location,
        description=invite.description,
        url=invite.join_url,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.OPAQUE,
        classification=CLASS.PRIVATE,
    )
    if itip:
        event.organizer = vCalAddress.new(invite.organizer_email, cn=invite.organizer_name)
        event.attendees = [_attendee(attendee) for attendee in invite.attendees]
    if invite.join_url:
        # Not icalendar's Conference: it writes FEATURE="AUDIO,VIDEO", one quoted value.
        params = {"VALUE": "URI", "FEATURE": ["AUDIO", "VIDEO"], "LABEL": CONFERENCE_LABEL}
        event.add("CONFERENCE", vUri(invite.join_url, params=params))
    # RFC 5546 forbids VALARM in CANCEL, and a cancelled appointment must not ring.
    if invite.reminder is not None and not cancelled:
        event.add_component(_alarm(invite.summary, invite.reminder))
    return event


def _attendee(attendee: Attendee) -> vCalAddress:
    if attendee.role not in ROLES:
        raise ValueError(f"unknown attendee ROLE {attendee.role!r}")
    return vCalAddress.new(
        attendee.email,
        cn=attendee.name,
        role=attendee.role,
        partstat="NEEDS-ACTION",
        rsvp=attendee.rsvp,
    )


def _alarm(summary: str, before: timedelta) -> Alarm:
    alarm = Alarm.new(description=f"Reminder: {summary}")
    alarm.add("ACTION", "DISPLAY")
    alarm.add("TRIGGER", -before)
    return alarm


def _finish(calendar: Calendar, invites: Iterable[Invite]) -> bytes:
    """Add the Europe/London VTIMEZONE for whole years around the events and serialise."""
    days = [d for invite in invites for d in (_local_day(invite.start), _local_day(invite.end))]
    if days:
        calendar.add_missing_timezones(
            first_date=date(min(days).year, 1, 1), last_date=date(max(days).year + 1, 1, 1)
        )
    return bytes(calendar.to_ical())  # to_ical() is untyped


def _as_written(moment: datetime) -> datetime:
    """London local time, or UTC for the second 01:xx on the last Sunday of October: a
    TZID local time there means the first one (RFC 5545), an hour early."""
    local = moment.astimezone(LONDON)
    return local if local.replace(fold=0).astimezone(UTC) == moment else moment


def _local_day(moment: datetime) -> date:
    return _utc("time", moment).astimezone(LONDON).date()


def _check(invite: Invite) -> None:
    if invite.sequence < 0:
        raise ValueError("SEQUENCE cannot be negative")
    if _utc("end", invite.end) <= _utc("start", invite.start):
        raise ValueError("an appointment must end after it starts")
    if invite.reminder is not None and invite.reminder < timedelta(0):
        raise ValueError("the reminder must come before the start")
    for field in ("summary", "location", "description"):
        _refuse_nhs_number(field, getattr(invite, field))


def _utc(field: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field} must be timezone-aware (UTC)")
    return moment.astimezone(UTC)


def _refuse_nhs_number(field: str, text: str) -> None:
    """Last line of defence: an invite is seen by anyone who can see the calendar."""
    if _NHS_NUMBER.search(text):
        raise ValueError(f"{field} looks like it holds an NHS number; invites must not")
