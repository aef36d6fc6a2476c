"""Rendering a queued message in the worker, from the facts stored when it was queued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import Channel, OutboxMessage
from notifications.outbox import Rendering, Superseded
from scheduling.models import Appointment, Status
from telehealth.kernel.config import Settings
from telehealth.messaging import lost_link
from telehealth.messaging.content import email_bodies, invite, sms_body, snapshot_of, subject


def _as_queued(current: Appointment, facts: dict[str, object]) -> Appointment:
    """A detached copy of the appointment as it was when the message was queued: a
    confirmation rendered after a quick move must still describe the booked time. The change
    feed does not record the video room: it is the current one while the appointment has not
    changed since, and unknown (not named) after."""
    same = current.sequence == facts["sequence"]
    return Appointment(
        id=current.id,
        uid=current.uid,
        reference=current.reference,
        service_id=current.service_id,
        patient_id=current.patient_id,
        video_room=current.video_room,
        room_id=current.room_id if same else None,
        medium=current.medium,
        clinician_id=facts["clinician_id"],
        mode=facts["mode"],
        site_id=facts["site_id"],
        starts_at=datetime.fromisoformat(str(facts["start"])),
        ends_at=datetime.fromisoformat(str(facts["end"])),
        sequence=facts["sequence"],
        status=facts["status"],
        cancel_reason=facts["cancel_reason"],
    )


# Statuses in which a reminder still helps: the patient has yet to be seen.
_REMIND = frozenset({Status.BOOKED, Status.CHECKED_IN, Status.ARRIVED})


def _check_still_due(current: Appointment, facts: dict[str, object]) -> None:
    """A reminder describes one time of the appointment. The worker cancels a moved or
    cancelled appointment's reminders when it takes that change from the feed, but a reminder
    falling due in between must not go: it would send the patient to the old time."""
    if facts.get("kind") != "reminder":
        return  # confirmations, changes and cancellations each tell of their own moment
    if current.sequence != facts.get("sequence"):
        raise Superseded(f"the appointment has changed since (sequence {current.sequence})")
    if current.status not in _REMIND:
        raise Superseded(f"the appointment is {current.status}")


async def _before(
    session: AsyncSession, current: Appointment, facts: dict[str, object]
) -> Appointment | None:
    """The appointment as it was before the change a change message tells of: the facts of its
    latest message from an earlier version (every booking and move queues a notice to the
    clinician, so there always is one unless the outbox was cleared)."""
    sequence = facts["sequence"]
    assert isinstance(sequence, int)
    earlier: list[tuple[int, dict[str, object]]] = [
        (f["sequence"], f)
        for f in await session.scalars(
            select(OutboxMessage.facts).where(OutboxMessage.appointment_id == current.id)
        )
        if f and isinstance(f.get("sequence"), int) and f["sequence"] < sequence
    ]
    if not earlier:
        return None
    return _as_queued(current, max(earlier, key=lambda found: found[0])[1])


async def render(session: AsyncSession, message: OutboxMessage, *, settings: Settings) -> Rendering:
    facts = message.facts or {}
    current = await session.get(Appointment, message.appointment_id)
    if current is None:
        raise LookupError(f"appointment {message.appointment_id} no longer exists")
    _check_still_due(current, facts)
    kind = str(facts["kind"])
    if kind == lost_link.KIND:
        # The appointment as it is now, with a link issued today.
        return lost_link.rendering(await snapshot_of(session, current, settings), message.channel)
    before = await _before(session, current, facts) if kind == "change" else None
    s = await snapshot_of(session, _as_queued(current, facts), settings, before=before)
    clinician = facts.get("audience") == "clinician"
    if message.channel == Channel.SMS:
        return Rendering(subject="", body_text=sms_body(s, kind))
    text, html = email_bodies(s, kind, for_clinician=clinician)
    method = "CANCEL" if kind == "cancellation" else "REQUEST"
    calendar = None if kind == "reminder" else invite(s, method=method, for_clinician=clinician)
    return Rendering(
        subject=subject(s, kind, for_clinician=clinician),
        body_text=text,
        body_html=html,
        calendar=calendar,
        calendar_method=None if calendar is None else method,
    )
