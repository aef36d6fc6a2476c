"""What a patient may do to their own appointment without phoning: the rules the manage pages
and the change journey apply (staff are not bound by them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduling.models import Status


def change_deadline(starts_at: datetime, notice_minutes: int) -> datetime:
    """The last moment the patient may change or cancel online."""
    return starts_at - timedelta(minutes=notice_minutes)


def may_change_online(
    *, status: str, starts_at: datetime, notice_minutes: int, now: datetime
) -> bool:
    """Only a booked appointment still to come, and not inside the service's notice period."""
    return status == Status.BOOKED and now < change_deadline(starts_at, notice_minutes)
