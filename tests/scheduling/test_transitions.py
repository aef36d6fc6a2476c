"""Status rules, without a database: every allowed and refused transition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduling.transitions import (
    RULES,
    Action,
    AppointmentState,
    Live,
    TransitionRefused,
    live_state,
    next_status,
)

START = datetime(2027, 3, 30, 9, tzinfo=UTC)  # a BST Tuesday: 10:00 local
END = START + timedelta(minutes=20)
STATUSES = [
    "booked",
    "checked-in",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
]


def state(status: str, **kw: object) -> AppointmentState:
    return AppointmentState(status=status, start=START, end=END, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", STATUSES)
def test_every_pair_is_allowed_or_refused_by_the_table(action: Action, status: str) -> None:
    allowed_from, to = RULES[action]
    now = START + timedelta(minutes=5)  # inside every time rule
    if status in allowed_from:
        assert next_status(state(status), action, now=now) == (to or status)
    else:
        with pytest.raises(TransitionRefused, match=status):
            next_status(state(status), action, now=now)


def test_no_fulfilling_a_cancelled_appointment() -> None:
    with pytest.raises(TransitionRefused):
        next_status(state("cancelled"), Action.FINISH, now=END)


def test_check_in_only_on_the_day() -> None:
    day_before = START - timedelta(days=1)
    with pytest.raises(TransitionRefused, match="day of the appointment"):
        next_status(state("booked"), Action.CHECK_IN, now=day_before)
    # Local midnight matters, not UTC: 23:30 UTC the night before is 00:30 BST on the day,
    # but more than two hours early.
    with pytest.raises(TransitionRefused, match="too early"):
        next_status(state("booked"), Action.CHECK_IN, now=datetime(2027, 3, 29, 23, 30, tzinfo=UTC))
    assert (
        next_status(state("booked"), Action.CHECK_IN, now=START - timedelta(minutes=25))
        == "checked-in"
    )
    with pytest.raises(TransitionRefused, match="already ended"):
        next_status(state("booked"), Action.CHECK_IN, now=END + timedelta(hours=1))


@pytest.mark.parametrize("action", [Action.FINISH, Action.NO_SHOW, Action.SWITCH_TO_PHONE])
def test_outcomes_wait_for_the_start(action: Action) -> None:
    with pytest.raises(TransitionRefused, match="before the start"):
        next_status(state("booked"), action, now=START - timedelta(minutes=1))
    assert next_status(state("booked"), action, now=START)


def test_starting_the_call_keeps_the_status() -> None:
    assert next_status(state("checked-in"), Action.START_CALL, now=START) == "checked-in"


@pytest.mark.parametrize(
    ("status", "call", "expected"),
    [
        ("booked", None, Live.NOT_ARRIVED),
        ("arrived", None, Live.NOT_ARRIVED),
        ("checked-in", None, Live.WAITING),
        ("checked-in", START, Live.IN_CALL),
        ("fulfilled", START, Live.FINISHED),
        ("noshow", None, Live.DID_NOT_ATTEND),
        ("cancelled", None, Live.CANCELLED),
    ],
)
def test_live_state(status: str, call: datetime | None, expected: Live) -> None:
    assert live_state(state(status, call_started_at=call)) == expected
