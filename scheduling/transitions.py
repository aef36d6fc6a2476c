"""Appointment status changes: which are allowed, and when. Pure: no I/O.

Statuses are FHIR R4's. The live clinic state the screens show (not arrived, waiting since
HH:MM, in call, by telephone, finished) is derived from the status plus the call timestamps
and the medium, so reports and FHIR see only standard statuses.

`refusal` is the one description of what may happen now: `next_status` applies it and the
screens offer exactly the actions it allows (`allowed_actions`), so a button is never shown
for a change that would be refused. Its reasons are written for the people using the screens.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduling.models import INACTIVE_STATUSES, OPEN_STATUSES, Status
from scheduling.slots import to_london


class Action(enum.StrEnum):
    CHECK_IN = "check_in"  # the patient is ready: in the virtual waiting room, or at reception
    ARRIVE = "arrive"  # reception: the patient is in the building
    START_CALL = "start_call"  # the clinician opens (or reopens) the video call
    FINISH = "finish"  # the consultation happened
    NO_SHOW = "no_show"  # did not attend
    SWITCH_TO_PHONE = "switch_to_phone"  # seen by telephone instead of video
    CANCEL = "cancel"
    ENTERED_IN_ERROR = "entered_in_error"


class Live(enum.StrEnum):
    NOT_ARRIVED = "not_arrived"
    WAITING = "waiting"
    IN_CALL = "in_call"
    BY_PHONE = "by_phone"
    FINISHED = "finished"
    DID_NOT_ATTEND = "did_not_attend"
    CANCELLED = "cancelled"


# Action -> (statuses it may start from, status it leaves, or None to keep the status).
RULES: dict[Action, tuple[frozenset[str], str | None]] = {
    Action.CHECK_IN: (frozenset({Status.BOOKED, Status.ARRIVED}), Status.CHECKED_IN),
    Action.ARRIVE: (frozenset({Status.BOOKED}), Status.ARRIVED),
    Action.START_CALL: (OPEN_STATUSES, None),
    Action.FINISH: (OPEN_STATUSES, Status.FULFILLED),
    Action.SWITCH_TO_PHONE: (OPEN_STATUSES, None),
    Action.NO_SHOW: (OPEN_STATUSES, Status.NOSHOW),
    Action.CANCEL: (OPEN_STATUSES, Status.CANCELLED),
    Action.ENTERED_IN_ERROR: (
        OPEN_STATUSES | {Status.FULFILLED, Status.NOSHOW, Status.CANCELLED},
        Status.ENTERED_IN_ERROR,
    ),
}

# The same local day, from this long before the start, until this long after the end.
CHECK_IN_EARLY = timedelta(hours=2)
CHECK_IN_LATE = timedelta(minutes=30)
# A consultation, by video or by telephone, may begin as early as the patient may check in:
# that covers the patient's join window, so a clinician running early is never refused.
EARLIEST_CALL = CHECK_IN_EARLY

# Why an action cannot start from a status, in the words the screens show.
_FROM_STATUS: dict[str, str] = {
    Status.CHECKED_IN: "This appointment has already been checked in",
    Status.ARRIVED: "This patient has already been marked as arrived",
    Status.FULFILLED: "This appointment has already finished",
    Status.NOSHOW: "This appointment has already been marked as did not attend",
    Status.CANCELLED: "This appointment has been cancelled",
    Status.ENTERED_IN_ERROR: "This appointment was entered in error",
}
IN_CALL = "The patient is already in the call"
BY_PHONE = "This appointment has been switched to telephone"
NOT_STARTED = "This appointment has not started yet"


class TransitionRefused(ValueError):
    """Carries a plain-English reason; the caller maps it to 409 invalid_status."""


@dataclass(frozen=True, slots=True)
class AppointmentState:
    status: str
    start: datetime
    end: datetime
    call_started_at: datetime | None = None
    checked_in_at: datetime | None = None
    medium: str | None = None

    @property
    def by_phone(self) -> bool:
        return self.medium == "telephone"

    @property
    def in_call(self) -> bool:
        return self.call_started_at is not None and not self.by_phone


def refusal(state: AppointmentState, action: Action, *, now: datetime) -> str | None:
    """Why `action` cannot be done now, or None when it can."""
    allowed_from, _ = RULES[action]
    if state.status not in OPEN_STATUSES:
        return None if state.status in allowed_from else _FROM_STATUS[state.status]
    if action in (Action.CHECK_IN, Action.ARRIVE, Action.NO_SHOW) and state.in_call:
        return IN_CALL
    if action in (Action.CHECK_IN, Action.ARRIVE, Action.START_CALL) and state.by_phone:
        return BY_PHONE
    if state.status not in allowed_from:
        return _FROM_STATUS[state.status]
    if action in (Action.CHECK_IN, Action.ARRIVE):
        return _check_in_refusal(state, now)
    if action == Action.SWITCH_TO_PHONE and state.by_phone:
        return "This appointment is already by telephone"
    if action in (Action.START_CALL, Action.SWITCH_TO_PHONE) and now < state.start - EARLIEST_CALL:
        return "It is too early to start this appointment"
    # A consultation begun early (by video or telephone) may end before its booked start.
    begun = state.call_started_at is not None or state.by_phone
    if action == Action.FINISH and now < state.start and not begun:
        return NOT_STARTED
    if action == Action.NO_SHOW and now < state.start:
        return NOT_STARTED
    return None


def _check_in_refusal(state: AppointmentState, now: datetime) -> str | None:
    if to_london(now).date() != to_london(state.start).date():
        return "Patients can check in only on the day of their appointment"
    if now < state.start - CHECK_IN_EARLY:
        return "It is too early to check in for this appointment"
    if now > state.end + CHECK_IN_LATE:
        return "This appointment has already ended"
    return None


def next_status(state: AppointmentState, action: Action, *, now: datetime) -> str:
    """The status after `action`, or TransitionRefused saying why not."""
    reason = refusal(state, action, now=now)
    if reason is not None:
        raise TransitionRefused(reason)
    return RULES[action][1] or state.status


def allowed_actions(state: AppointmentState, *, now: datetime) -> frozenset[Action]:
    return frozenset(a for a in Action if refusal(state, a, now=now) is None)


def live_state(state: AppointmentState) -> Live:
    if state.status == Status.FULFILLED:
        return Live.FINISHED
    if state.status == Status.NOSHOW:
        return Live.DID_NOT_ATTEND
    if state.status in INACTIVE_STATUSES:
        return Live.CANCELLED
    if state.by_phone:
        return Live.BY_PHONE
    if state.call_started_at is not None:
        return Live.IN_CALL
    if state.status == Status.CHECKED_IN:
        return Live.WAITING
    return Live.NOT_ARRIVED
