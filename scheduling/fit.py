"""Whether a booked appointment still fits its clinic: the reasons it clashes, if any.

Pure logic: plain values in, plain values out. A booked appointment keeps its time whatever
changes around it (leave, a room closure, a session removed, a service made longer); what
changes is whether it still fits, and these are the reasons staff are given to rebook it.
Instants are aware UTC, intervals half-open, as in `scheduling.slots`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduling import slots


class Reason(enum.StrEnum):
    LEAVE = "leave"
    ROOM_CLOSED = "room_closed"
    OUTSIDE_SESSIONS = "outside_sessions"
    SERVICE_LENGTH = "service_length"
    MODE_NOT_OFFERED = "mode_not_offered"
    CLINICIAN_INACTIVE = "clinician_inactive"
    SERVICE_INACTIVE = "service_inactive"
    SITE_INACTIVE = "site_inactive"


@dataclass(frozen=True, slots=True)
class Clash:
    reason: Reason
    message: str


@dataclass(frozen=True, slots=True)
class Booking:
    """A booked appointment, as the checks see it."""

    id: int
    clinician_id: int
    service_id: int
    mode: str
    site_id: int | None
    room_id: int | None
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ServiceNow:
    """A service's terms as they are now (not as they were when the booking was made)."""

    length: timedelta
    buffer: timedelta
    modes: frozenset[str]
    active: bool


@dataclass(frozen=True, slots=True)
class Surroundings:
    """What the bookings are checked against, fetched by the caller."""

    services: Mapping[int, ServiceNow]
    sessions: Mapping[int, Sequence[slots.Session]]  # clinician_id -> their sessions
    leave: Mapping[int, Sequence[slots.Interval]]  # clinician_id -> leave
    closures: Mapping[int, Sequence[slots.Interval]]  # room_id -> closures
    # clinician_id -> (appointment id, [start, end)) of every active appointment nearby
    appointments: Mapping[int, Sequence[tuple[int, slots.Interval]]]
    inactive_clinicians: frozenset[int]
    inactive_sites: frozenset[int]
    bank_holidays: frozenset[date]


def _offers(session: slots.Session, booking: Booking) -> bool:
    """Whether the session offers the booking's service, mode and place."""
    if booking.service_id not in session.service_ids or booking.mode not in session.modes:
        return False
    if booking.mode == "in_person":
        return session.site_id == booking.site_id
    if booking.mode == "video_site":
        return session.hub_ids is None or booking.site_id in session.hub_ids
    return True


def _minutes(length: timedelta) -> int:
    return int(length.total_seconds() // 60)


def _session_clash(booking: Booking, service: ServiceNow, around: Surroundings) -> Clash | None:
    """The booking inside one of its clinician's sessions that day, with room in it for the
    service as it is now: before the session's end and, with its buffer, before the
    clinician's next appointment."""
    day = slots.to_london(booking.start).date()
    holding = [
        interval
        for s in around.sessions.get(booking.clinician_id, ())
        if _offers(s, booking)
        and (interval := slots.session_intervals(s, day, around.bank_holidays)) is not None
        and interval.start <= booking.start
        and booking.end <= interval.end
    ]
    if not holding:
        return Clash(
            Reason.OUTSIDE_SESSIONS,
            "the clinician no longer has a session for this service and mode at that time",
        )
    needed = booking.start + service.length
    if needed > max(i.end for i in holding):
        return Clash(
            Reason.SERVICE_LENGTH,
            f"the service now takes {_minutes(service.length)} minutes, which runs past the "
            "end of the clinician's session",
        )
    busy = slots.Interval(booking.start, needed + service.buffer)
    for other_id, other in around.appointments.get(booking.clinician_id, ()):
        if other_id != booking.id and slots.overlaps(busy, other):
            return Clash(
                Reason.SERVICE_LENGTH,
                f"the service now takes {_minutes(service.length)} minutes"
                + (f" and {_minutes(service.buffer)} minutes after" if service.buffer else "")
                + ", which runs into the clinician's next appointment",
            )
    return None


def clashes(booking: Booking, around: Surroundings) -> list[Clash]:
    """Every reason the booking no longer fits; empty when it does."""
    found: list[Clash] = []
    booked = slots.Interval(booking.start, booking.end)
    service = around.services[booking.service_id]
    if booking.clinician_id in around.inactive_clinicians:
        found.append(Clash(Reason.CLINICIAN_INACTIVE, "the clinician is no longer active"))
    if not service.active:
        found.append(Clash(Reason.SERVICE_INACTIVE, "the service is no longer active"))
    if booking.site_id is not None and booking.site_id in around.inactive_sites:
        found.append(Clash(Reason.SITE_INACTIVE, "the site is no longer active"))
    if booking.mode not in service.modes:
        found.append(Clash(Reason.MODE_NOT_OFFERED, f"the service no longer offers {booking.mode}"))
    if any(slots.overlaps(booked, i) for i in around.leave.get(booking.clinician_id, ())):
        found.append(Clash(Reason.LEAVE, "the clinician is on leave at that time"))
    if booking.room_id is not None and any(
        slots.overlaps(booked, i) for i in around.closures.get(booking.room_id, ())
    ):
        found.append(Clash(Reason.ROOM_CLOSED, "the video room is closed at that time"))
    # Sessions of a clinician or service that is gone say nothing more.
    if booking.clinician_id not in around.inactive_clinicians and service.active:
        clash = _session_clash(booking, service, around)
        if clash is not None:
            found.append(clash)
    return found
