"""Patients' join links: signed, bound to one appointment and its current version.

The token carries the appointment id, its iCalendar SEQUENCE and the start it was issued for.
A reschedule or cancellation bumps the sequence, so an old link still verifies but is recognised
as out of date and says why (moved from when to when), instead of opening a call at the wrong
time. Links issued before the start was carried ([id, sequence]) still verify.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from scheduling.models import INACTIVE_STATUSES, Status

SALT = "telehealth.join"


class Verdict(enum.StrEnum):
    TOO_EARLY = "too_early"
    OPEN = "open"
    ENDED = "ended"
    CANCELLED = "cancelled"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class JoinClaim:
    appointment_id: int
    sequence: int
    # The start the link was sent for: what an out-of-date link says the appointment was.
    starts_at: datetime | None = None


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def make_token(
    secret: str, *, appointment_id: int, sequence: int, starts_at: datetime | None = None
) -> str:
    claim = [appointment_id, sequence]
    if starts_at is not None:
        claim.append(int(starts_at.timestamp()))  # whole seconds keep the link short
    return _serializer(secret).dumps(claim)


def read_token(secret: str, token: str) -> JoinClaim | None:
    """The claim, or None for anything tampered, truncated or foreign."""
    try:
        value = _serializer(secret).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) not in (2, 3)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return None
    try:
        starts_at = datetime.fromtimestamp(value[2], UTC) if len(value) == 3 else None
    except (OverflowError, OSError, ValueError):
        return None  # a start no calendar can hold: a dead link, like any other bad claim
    return JoinClaim(appointment_id=value[0], sequence=value[1], starts_at=starts_at)


RUNNING_LATE = timedelta(hours=4)


def verdict(
    *,
    status: str,
    sequence: int,
    claim: JoinClaim,
    start: datetime,
    end: datetime,
    now: datetime,
    window: timedelta,
) -> Verdict:
    if status in INACTIVE_STATUSES:
        return Verdict.CANCELLED
    if claim.sequence != sequence:
        return Verdict.MOVED
    if status in (Status.FULFILLED, Status.NOSHOW):
        return Verdict.ENDED
    # A patient who has checked in (or whose call has started) is the clinic's until staff
    # finish it: a clinic running late must not shut them out at the booked end.
    waiting = status in (Status.CHECKED_IN, Status.ARRIVED)
    if now >= (end + RUNNING_LATE if waiting else end):
        return Verdict.ENDED
    if now < start - window:
        return Verdict.TOO_EARLY
    return Verdict.OPEN
