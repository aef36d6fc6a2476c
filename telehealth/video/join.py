"""Patients' join links: signed, bound to one appointment and its current version.

The token carries the appointment id and its iCalendar SEQUENCE. A reschedule or cancellation
bumps the sequence, so an old link still verifies but is recognised as out of date and says
why, instead of opening a call at the wrong time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

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


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def make_token(secret: str, *, appointment_id: int, sequence: int) -> str:
    return _serializer(secret).dumps([appointment_id, sequence])


def read_token(secret: str, token: str) -> JoinClaim | None:
    """The claim, or None for anything tampered, truncated or foreign."""
    try:
        value = _serializer(secret).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return None
    return JoinClaim(appointment_id=value[0], sequence=value[1])


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
    if status in ("cancelled", "entered-in-error"):
        return Verdict.CANCELLED
    if claim.sequence != sequence:
        return Verdict.MOVED
    if status in ("fulfilled", "noshow") or now >= end:
        return Verdict.ENDED
    if now < start - window:
        return Verdict.TOO_EARLY
    return Verdict.OPEN
