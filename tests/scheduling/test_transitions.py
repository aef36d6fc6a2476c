"""Status rules, without a database: every allowed and refused transition."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.transitions import (
    EARLIEST_CALL,
    RULES,
    Action,
    AppointmentState,
    Live,
    TransitionRefused,
    allowed_actions,
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
        with pytest.raises(TransitionRefused) as refused:
            next_status(state(status), action, now=now)
        assert_plain_english(str(refused.value))


def assert_plain_english(reason: str) -> None:
    """Said to people at a desk: a sentence, with no status codes or action names in it."""
    assert reason[0].isupper(), reason
    assert "_" not in reason and not re.search(r"noshow|checked-in|fulfilled|-in-error", reason)
    assert not reason.startswith("cannot"), reason


def test_refusals_say_what_has_happened() -> None:
    now = START + timedelta(minutes=5)
    with pytest.raises(TransitionRefused, match=r"^This appointment has already been checked in$"):
        next_status(state("checked-in"), Action.ARRIVE, now=now)
    with pytest.raises(TransitionRefused, match=r"^This appointment has already finished$"):
        next_status(state("fulfilled"), Action.NO_SHOW, now=now)


def test_no_fulfilling_a_cancelled_appointment() -> None:
    with pytest.raises(TransitionRefused):
        next_status(state("cancelled"), Action.FINISH, now=END)


def test_check_in_only_on_the_day() -> None:
    day_before = START - timedelta(days=1)
    with pytest.raises(TransitionRefused, match="day of their appointment"):
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


@pytest.mark.parametrize("action", [Action.FINISH, Action.NO_SHOW])
def test_outcomes_wait_for_the_start(action: Action) -> None:
    with pytest.raises(TransitionRefused, match="has not started yet"):
        next_status(state("booked"), action, now=START - timedelta(minutes=1))
    assert next_status(state("booked"), action, now=START)


def test_telephone_instead_from_the_join_window_on() -> None:
    join_window = timedelta(minutes=30)  # the default JOIN_WINDOW_MINUTES
    assert join_window <= EARLIEST_CALL
    switched = next_status(state("checked-in"), Action.SWITCH_TO_PHONE, now=START - join_window)
    assert switched == "checked-in"
    with pytest.raises(TransitionRefused, match="too early"):
        next_status(state("booked"), Action.SWITCH_TO_PHONE, now=START - EARLIEST_CALL * 2)


def test_by_telephone_offers_no_video_and_no_second_switch() -> None:
    phoned = state("checked-in", medium="telephone")
    assert live_state(phoned) == Live.BY_PHONE
    assert allowed_actions(phoned, now=START - timedelta(minutes=10)) == {
        Action.FINISH,  # a telephone consultation begun early may end early
        Action.CANCEL,
        Action.ENTERED_IN_ERROR,
    }
    with pytest.raises(TransitionRefused, match="switched to telephone"):
        next_status(phoned, Action.START_CALL, now=START)
    with pytest.raises(TransitionRefused, match="already by telephone"):
        next_status(phoned, Action.SWITCH_TO_PHONE, now=START)
    # The patient may not answer: did not attend is still possible once it has started.
    assert next_status(phoned, Action.NO_SHOW, now=START) == "noshow"


def test_a_call_started_early_can_be_finished_before_its_start() -> None:
    early = state("checked-in", call_started_at=START - timedelta(minutes=20))
    assert next_status(early, Action.FINISH, now=START - timedelta(minutes=5)) == "fulfilled"
    # Rejoining is starting it again: the call keeps its first start.
    assert next_status(early, Action.START_CALL, now=START - timedelta(minutes=5)) == "checked-in"


@pytest.mark.parametrize("status", ["booked", "arrived", "checked-in"])
def test_once_in_the_call_no_arrival_check_in_or_did_not_attend(status: str) -> None:
    in_call = state(status, call_started_at=START)
    offered = allowed_actions(in_call, now=START + timedelta(minutes=5))
    assert not offered & {Action.ARRIVE, Action.CHECK_IN, Action.NO_SHOW}
    assert {Action.START_CALL, Action.FINISH, Action.SWITCH_TO_PHONE} <= offered
    for action in (Action.ARRIVE, Action.CHECK_IN, Action.NO_SHOW):
        with pytest.raises(TransitionRefused, match=r"^The patient is already in the call$"):
            next_status(in_call, action, now=START + timedelta(minutes=5))


@given(
    status=st.sampled_from(STATUSES),
    call=st.sampled_from([None, START - timedelta(minutes=40), START + timedelta(minutes=2)]),
    medium=st.sampled_from([None, "video", "telephone"]),
    offset=st.integers(min_value=-26 * 60, max_value=26 * 60).map(lambda m: timedelta(minutes=m)),
)
def test_what_is_offered_is_exactly_what_is_accepted(
    status: str, call: datetime | None, medium: str | None, offset: timedelta
) -> None:
    now = START + offset
    current = state(status, call_started_at=call, medium=medium)
    offered = allowed_actions(current, now=now)
    for action in Action:
        try:
            next_status(current, action, now=now)
        except TransitionRefused as refused:
            assert action not in offered
            assert_plain_english(str(refused))
        else:
            assert action in offered


def test_starting_the_call_keeps_the_status() -> None:
    assert next_status(state("checked-in"), Action.START_CALL, now=START) == "checked-in"


@pytest.mark.parametrize(
    ("status", "call", "expected"),
    [
        ("booked", None, Live.NOT_ARRIVED),
        ("arrived", None, Live.NOT_ARRIVED),
        ("checked-in", None, Live.WAITING),
        ("checked-in", START, Live.IN_CALL),
        ("booked", START, Live.IN_CALL),
        ("fulfilled", START, Live.FINISHED),
        ("noshow", None, Live.DID_NOT_ATTEND),
        ("cancelled", None, Live.CANCELLED),
    ],
)
def test_live_state(status: str, call: datetime | None, expected: Live) -> None:
    assert live_state(state(status, call_started_at=call)) == expected
