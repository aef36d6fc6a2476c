"""Appointment status changes: which are allowed, and when. Pure: no I/O.

Statuses are FHIR R4's. The live clinic state the screens show (not arrived, waiting since
HH:MM, in call, finished) is derived from the status plus the call timestamps, so reports and
FHIR see only standard statuses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduling.slots import to_london


class Action(enum.StrEnum):
    CHECK_IN = "check_in"  # the patient is ready: in the virtual waiting room, or at reception
    ARRIVE = "arrive"  # reception: the patient is in the building
    START_CALL = "start_call"  # the clinician opens the video call
    FINISH = "finish"  # the consultation happened
    NO_SHOW = "no_show"  # did not attend
    SWITCH_TO_PHONE = "switch_to_phone"  # seen by telephone instead of video
    CANCEL = "cancel"
    ENTERED_IN_ERROR = "entered_in_error"


class Live(enum.StrEnum):
    NOT_ARRIVED = "not_arrived"
    WAITING = "waiting"
    IN_CALL = "in_call"
    FINISHED = "finished"
    DID_NOT_ATTEND = "did_not_attend"
    CANCELLED = "cancelled"


# Action -> (statuses it may start from, status it leaves, or None to keep the status).
RULES: dict[Action, tuple[frozenset[str], str | None]] = {
    Action.CHECK_IN: (frozenset({"booked", "arrived"}), "checked-in"),
    Action.ARRIVE: (frozenset({"booked"}), "arrived"),
    Action.START_CALL: (frozenset({"booked", "arrived", "checked-in"}), None),
    Action.FINISH: (frozenset({"booked", "arrived", "checked-in"}), "fulfilled"),
    Action.SWITCH_TO_PHONE: (frozenset({"booked", "arrived", "checked-in"}), None),
    Action.NO_SHOW: (frozenset({"booked", "arrived", "checked-in"}), "noshow"),
    Action.CANCEL: (frozenset({"booked", "arrived", "checked-in"}), "cancelled"),
    Action.ENTERED_IN_ERROR: (
        frozenset({"booked", "arrived", "checked-in", "fulfilled", "noshow", "cancelled"}),
        "entered-in-error",
    ),
}

# The same local day, from this long before the start, until this long after the end.
CHECK_IN_EARLY = timedelta(hours=2)
CHECK_IN_LATE = timedelta(minutes=30)


class TransitionRefused(ValueError):
    """Carries a plain-English reason; the caller maps it to 409 invalid_status."""


@dataclass(frozen=True, slots=True)
class AppointmentState:
    status: str
    start: datetime
    end: datetime
    call_started_at: datetime | None = None
    checked_in_at: datetime | None = None


def next_status(state: AppointmentState, action: Action, *, now: datetime) -> str:
    """The status after `action`, or TransitionRefused saying why not."""
    allowed_from, to = RULES[action]
    if state.status not in allowed_from:
        raise TransitionRefused(
            f"cannot {action.value.replace('_', ' ')} an appointment that is {state.status}"
        )
    if action in (Action.CHECK_IN, Action.ARRIVE):
        if to_london(now).date() != to_london(state.start).date():
            raise TransitionRefused("patients can check in only on the day of the appointment")
        if now < state.start - CHECK_IN_EARLY:
            raise TransitionRefused("it is too early to check in for this appointment")
        if now > state.end + CHECK_IN_LATE:
            raise TransitionRefused("this appointment has already ended")
    if action in (Action.FINISH, Action.NO_SHOW, Action.SWITCH_TO_PHONE) and now < state.start:
        raise TransitionRefused(f"cannot {action.value.replace('_', ' ')} before the start time")
    if action == Action.START_CALL and now < state.start - CHECK_IN_EARLY:
        raise TransitionRefused("it is too early to start this call")
    return to or state.status


def live_state(state: AppointmentState) -> Live:
    if state.status == "fulfilled":
        return Live.FINISHED
    if state.status == "noshow":
        return Live.DID_NOT_ATTEND
    if state.status in ("cancelled", "entered-in-error"):
        return Live.CANCELLED
    if state.call_started_at is not None:
        return Live.IN_CALL
    if state.status == "checked-in":
        return Live.WAITING
    return Live.NOT_ARRIVED
