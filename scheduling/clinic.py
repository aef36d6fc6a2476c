"""Running a clinic: status changes with their history, messages to the waiting patient, and
the day lists the clinic and reception screens show. Every change is announced live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.access import Access
from scheduling.models import Appointment, AppointmentEvent, Mode, Status
from scheduling.slot_inputs import local_window
from scheduling.slots import to_london
from scheduling.transitions import (
    Action,
    AppointmentState,
    Live,
    TransitionRefused,
    live_state,
    next_status,
)
from telehealth.kernel import live
from telehealth.kernel.auth.models import Role
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import Conflict, Forbidden, InvalidInput

MAX_MESSAGE = 280


class InvalidTransition(Conflict):
    code = "invalid_status"


# Who may do what in a clinic: reception checks people in, clinicians run the consultation.
ACTION_ROLES: dict[Action, frozenset[str]] = {
    Action.CHECK_IN: frozenset({Role.ADMIN, Role.RECEPTION, Role.CLINICIAN, Role.NAVIGATOR}),
    Action.ARRIVE: frozenset({Role.ADMIN, Role.RECEPTION, Role.CLINICIAN}),
    Action.START_CALL: frozenset({Role.ADMIN, Role.CLINICIAN}),
    Action.FINISH: frozenset({Role.ADMIN, Role.CLINICIAN}),
    Action.NO_SHOW: frozenset({Role.ADMIN, Role.CLINICIAN, Role.RECEPTION}),
    Action.SWITCH_TO_PHONE: frozenset({Role.ADMIN, Role.CLINICIAN}),
    Action.CANCEL: frozenset({Role.ADMIN, Role.CLINICIAN, Role.NAVIGATOR, Role.RECEPTION}),
    Action.ENTERED_IN_ERROR: frozenset({Role.ADMIN}),
}


# What each action is, for telling someone their role may not do it.
ACTION_WORDS: dict[Action, str] = {
    Action.CHECK_IN: "check patients in",
    Action.ARRIVE: "mark patients as arrived",
    Action.START_CALL: "start video calls",
    Action.FINISH: "mark appointments as finished",
    Action.NO_SHOW: "mark patients as did not attend",
    Action.SWITCH_TO_PHONE: "switch appointments to telephone",
    Action.CANCEL: "cancel appointments",
    Action.ENTERED_IN_ERROR: "mark appointments as entered in error",
}


def require_role_for(action: Action, role: str) -> None:
    if role not in ACTION_ROLES[action]:
        raise Forbidden(f"Your role ({role}) cannot {ACTION_WORDS[action]}")


def state_of(a: Appointment) -> AppointmentState:
    return AppointmentState(
        status=a.status,
        start=a.starts_at,
        end=a.ends_at,
        call_started_at=a.call_started_at,
        checked_in_at=a.checked_in_at,
        medium=a.medium,
    )


def topics_for(a: Appointment) -> list[str]:
    topics = [f"appointment:{a.id}", f"clinician:{a.clinician_id}"]
    if a.site_id is not None:
        topics.append(f"site:{a.site_id}")
    return topics


def live_payload(a: Appointment, *, kind: str, message: str | None = None) -> dict[str, object]:
    return {
        "kind": kind,
        "appointment_id": a.id,
        "status": a.status,
        "live": live_state(state_of(a)).value,
        "checked_in_at": to_london(a.checked_in_at).isoformat() if a.checked_in_at else None,
        "call_started_at": to_london(a.call_started_at).isoformat() if a.call_started_at else None,
        "message": message,
    }


async def staff_action(
    access: Access,
    *,
    appointment_id: int,
    action: Action,
    reason: str | None,
) -> Appointment:
    """A status change asked for by a member of staff, from the API or a screen: the role
    check, the check that it is theirs to change, the row lock, the validated change and its
    audit row."""
    require_role_for(action, access.viewer.role)
    if action == Action.CANCEL and not reason:
        raise InvalidInput.field("reason", "is required to cancel")
    appointment = await access.appointment(
        appointment_id, action=f"appointment.{action.value}", lock=True
    )
    await apply(
        access.session,
        appointment,
        action,
        actor="staff",
        actor_user_id=access.actor_user_id,
        reason=reason,
    )
    return appointment


async def apply(
    session: AsyncSession,
    appointment: Appointment,
    action: Action,
    *,
    actor: str,
    actor_user_id: int | None,
    now: datetime | None = None,
    reason: str | None = None,
) -> AppointmentEvent:
    """Validate and apply one action; the caller holds the appointment's row lock."""
    now = now or utcnow()
    before = appointment.status
    try:
        after = next_status(state_of(appointment), action, now=now)
    except TransitionRefused as exc:
        raise InvalidTransition(str(exc)) from None
    appointment.status = after
    _stamp(appointment, action, now, reason)
    event = AppointmentEvent(
        appointment_id=appointment.id,
        at=now,
        action=action.value,
        from_status=before,
        to_status=after,
        actor=actor,
        actor_user_id=actor_user_id,
        message=reason,
    )
    session.add(event)
    await session.flush()
    await live.announce(session, topics_for(appointment), live_payload(appointment, kind="status"))
    return event


def _stamp(a: Appointment, action: Action, now: datetime, reason: str | None) -> None:
    if action == Action.CHECK_IN:
        a.checked_in_at = a.checked_in_at or now
    elif action == Action.ARRIVE:
        a.arrived_at = now
    elif action == Action.START_CALL:
        a.call_started_at = a.call_started_at or now
        a.medium = "video"
    elif action == Action.SWITCH_TO_PHONE:
        a.medium = "telephone"
    elif action == Action.FINISH:
        a.finished_at = now
        a.medium = a.medium or ("in_person" if a.mode == Mode.IN_PERSON else "video")
    elif action in (Action.CANCEL, Action.NO_SHOW, Action.ENTERED_IN_ERROR):
        a.finished_at = a.finished_at or now
        if action == Action.CANCEL:
            a.cancel_reason = reason
            a.sequence += 1


async def record(
    session: AsyncSession,
    appointment: Appointment,
    action: str,
    *,
    actor_user_id: int | None,
    message: str | None = None,
) -> AppointmentEvent:
    """History for a change that is not a status transition (a reschedule, a message)."""
    event = AppointmentEvent(
        appointment_id=appointment.id,
        action=action,
        from_status=appointment.status,
        to_status=appointment.status,
        actor="staff" if actor_user_id else "system",
        actor_user_id=actor_user_id,
        message=message,
    )
    session.add(event)
    await session.flush()
    await live.announce(
        session, topics_for(appointment), live_payload(appointment, kind=action, message=message)
    )
    return event


async def send_message(
    session: AsyncSession, appointment: Appointment, text: str, *, actor_user_id: int | None
) -> AppointmentEvent:
    text = " ".join(text.split())
    if not text:
        raise InvalidInput.field("message", "Enter a message")
    if len(text) > MAX_MESSAGE:
        raise InvalidInput.field("message", f"Message must be {MAX_MESSAGE} characters or fewer")
    if live_state(state_of(appointment)) in (Live.FINISHED, Live.CANCELLED, Live.DID_NOT_ATTEND):
        raise InvalidTransition("This appointment is over: the patient is no longer waiting")
    return await record(session, appointment, "message", actor_user_id=actor_user_id, message=text)


@dataclass(frozen=True, slots=True)
class DayEntry:
    appointment: Appointment
    live: Live
    last_message: str | None


async def day_list(
    session: AsyncSession,
    *,
    day: date,
    clinician_id: int | None = None,
    site_id: int | None = None,
) -> list[DayEntry]:
    window = local_window(day, day)
    statement = (
        select(Appointment)
        .where(Appointment.starts_at >= window.start, Appointment.starts_at < window.end)
        .where(Appointment.status != Status.ENTERED_IN_ERROR)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if clinician_id is not None:
        statement = statement.where(Appointment.clinician_id == clinician_id)
    if site_id is not None:
        statement = statement.where(Appointment.site_id == site_id)
    appointments = list(await session.scalars(statement))
    messages = await _last_messages(session, [a.id for a in appointments])
    return [DayEntry(a, live_state(state_of(a)), messages.get(a.id)) for a in appointments]


async def _last_messages(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(AppointmentEvent.appointment_id, AppointmentEvent.message)
        .where(AppointmentEvent.appointment_id.in_(ids), AppointmentEvent.action == "message")
        .order_by(AppointmentEvent.at, AppointmentEvent.id)
    )
    return {appointment_id: message for appointment_id, message in rows if message}


async def history(session: AsyncSession, appointment_id: int) -> list[AppointmentEvent]:
    return list(
        await session.scalars(
            select(AppointmentEvent)
            .where(AppointmentEvent.appointment_id == appointment_id)
            .order_by(AppointmentEvent.at, AppointmentEvent.id)
        )
    )
