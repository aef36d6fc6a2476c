"""Running a clinic: transitions recorded with who and when, messages, day lists, live news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import clinic
from scheduling.transitions import Action, Live
from tests.builders import make_appointment, make_clinic, make_user


def _today_at(hour: int) -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=hour, minute=0, second=0, microsecond=0)


async def test_each_transition_is_recorded_with_who_and_when(session: AsyncSession) -> None:
    c = await make_clinic(session)
    user, _ = await make_user(session, role="clinician")
    start = datetime(2030, 6, 4, 9, tzinfo=UTC)
    a = await make_appointment(session, c, start=start)
    await clinic.apply(
        session,
        a,
        Action.CHECK_IN,
        actor="patient",
        actor_user_id=None,
        now=start - timedelta(minutes=10),
    )
    await clinic.apply(
        session, a, Action.START_CALL, actor="staff", actor_user_id=user.id, now=start
    )
    await clinic.apply(
        session,
        a,
        Action.FINISH,
        actor="staff",
        actor_user_id=user.id,
        now=start + timedelta(minutes=18),
    )
    events = await clinic.history(session, a.id)
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in events] == [
        ("check_in", "booked", "checked-in", "patient"),
        ("start_call", "checked-in", "checked-in", "staff"),
        ("finish", "checked-in", "fulfilled", "staff"),
    ]
    assert events[1].actor_user_id == user.id
    assert a.medium == "video" and a.checked_in_at == start - timedelta(minutes=10)
    with pytest.raises(clinic.InvalidTransition):
        await clinic.apply(
            session, a, Action.CANCEL, actor="staff", actor_user_id=user.id, reason="late"
        )


async def test_switch_to_phone_is_recorded_for_reports(session: AsyncSession) -> None:
    c = await make_clinic(session)
    start = datetime(2030, 6, 4, 9, tzinfo=UTC)
    a = await make_appointment(session, c, start=start)
    await clinic.apply(
        session, a, Action.SWITCH_TO_PHONE, actor="staff", actor_user_id=None, now=start
    )
    await clinic.apply(session, a, Action.FINISH, actor="staff", actor_user_id=None, now=start)
    assert (a.status, a.medium) == ("fulfilled", "telephone")


async def test_day_list_shows_live_state_and_last_message(session: AsyncSession) -> None:
    c = await make_clinic(session)
    user, _ = await make_user(session, role="clinician")
    start = datetime(2030, 6, 4, 9, tzinfo=UTC)
    waiting = await make_appointment(session, c, start=start)
    later = await make_appointment(session, c, start=start + timedelta(hours=1))
    await clinic.apply(
        session, waiting, Action.CHECK_IN, actor="patient", actor_user_id=None, now=start
    )
    await clinic.send_message(session, waiting, "Running  10 minutes late", actor_user_id=user.id)
    entries = await clinic.day_list(session, day=start.date(), clinician_id=c.clinician.id)
    assert [(e.appointment.id, e.live, e.last_message) for e in entries] == [
        (waiting.id, Live.WAITING, "Running 10 minutes late"),
        (later.id, Live.NOT_ARRIVED, None),
    ]


async def test_telephone_instead_inside_the_join_window_stops_the_video(
    session: AsyncSession,
) -> None:
    c = await make_clinic(session)
    start = datetime(2030, 6, 4, 9, tzinfo=UTC)
    a = await make_appointment(session, c, start=start)
    early = start - timedelta(minutes=25)
    await clinic.apply(session, a, Action.CHECK_IN, actor="patient", actor_user_id=None, now=early)
    await clinic.apply(
        session, a, Action.SWITCH_TO_PHONE, actor="staff", actor_user_id=None, now=early
    )
    assert clinic.live_payload(a, kind="status")["live"] == Live.BY_PHONE
    with pytest.raises(clinic.InvalidTransition, match="switched to telephone"):
        await clinic.apply(session, a, Action.START_CALL, actor="staff", actor_user_id=None)
    entries = await clinic.day_list(session, day=start.date(), clinician_id=c.clinician.id)
    assert [e.live for e in entries] == [Live.BY_PHONE]
    # The telephone consultation, begun early, ends before the booked start.
    finish = start - timedelta(minutes=5)
    await clinic.apply(session, a, Action.FINISH, actor="staff", actor_user_id=None, now=finish)
    assert (a.status, a.medium, a.finished_at) == ("fulfilled", "telephone", finish)
