from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduling.models import Status
from scheduling.self_service import change_deadline, may_change_online

START = datetime(2027, 3, 2, 9, 30, tzinfo=UTC)


def test_the_deadline_is_the_notice_period_before_the_start() -> None:
    assert change_deadline(START, 24 * 60) == START - timedelta(days=1)


@pytest.mark.parametrize(
    ("status", "now", "allowed"),
    [
        (Status.BOOKED, START - timedelta(days=2), True),
        (Status.BOOKED, START - timedelta(hours=23), False),  # inside the 24 hours
        (Status.BOOKED, START + timedelta(minutes=1), False),
        (Status.CANCELLED, START - timedelta(days=2), False),
        (Status.ARRIVED, START - timedelta(days=2), False),
    ],
)
def test_a_patient_changes_only_a_booked_appointment_before_the_notice_period(
    status: Status, now: datetime, allowed: bool
) -> None:
    assert (
        may_change_online(status=status, starts_at=START, notice_minutes=24 * 60, now=now)
        is allowed
    )
