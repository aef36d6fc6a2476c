"""Turning the appointment change feed into queued messages: facts now, words later (see
`render`). The database records every booking, move and cancellation in
`appointment_changes` (migration 0007); the worker calls `queue_messages`, which writes one
small outbox row per message holding the facts of the change, and deletes the change, in one
transaction: each change becomes its messages exactly once.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from notifications import outbox
from notifications.models import Channel
from scheduling.models import Appointment, AppointmentChange, Clinician, Patient
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow

BATCH = 200
log = logging.getLogger("telehealth.messaging")
KIND_FOR_CHANGE = {"booked": "confirmation", "rescheduled": "change", "cancelled": "cancellation"}


def facts_of(a: AppointmentChange | Appointment, *, kind: str, audience: str) -> dict[str, Any]:
    """What the renderer needs to describe the appointment as it is at this change (or, for
    an appointment in hand, as it is now)."""
    return {
        "kind": kind,
        "audience": audience,
        "sequence": a.sequence,
        "status": a.status,
        "start": a.starts_at.isoformat(),
        "end": a.ends_at.isoformat(),
        "mode": a.mode,
        "site_id": a.site_id,
        "clinician_id": a.clinician_id,
        "cancel_reason": a.cancel_reason,
    }


def message_id_for(settings: Settings, key: str) -> str:
    domain = settings.mail_from.rsplit("@", 1)[-1]
    return f"<{key.replace(':', '.')}.{secrets.token_hex(6)}@{domain}>"


def patient_channels(p: Patient) -> list[tuple[Channel, str]]:
    wanted = []
    if p.contact_preference in ("email", "both") and p.email:
        wanted.append((Channel.EMAIL, p.email))
    if p.contact_preference in ("sms", "both") and p.mobile:
        wanted.append((Channel.SMS, p.mobile))
    return wanted


def for_patient(
    a: AppointmentChange,
    p: Patient,
    kind: str,
    settings: Settings,
    *,
    not_before: datetime | None = None,
    tag: str = "",
) -> list[outbox.NewMessage]:
    return to_patient(
        p,
        settings,
        key=f"appt{a.appointment_id}:seq{a.sequence}:{kind}{tag}",
        kind=kind,
        facts=facts_of(a, kind=kind, audience="patient"),
        appointment_id=a.appointment_id,
        not_before=not_before,
    )


def to_patient(
    p: Patient,
    settings: Settings,
    *,
    key: str,
    kind: str,
    facts: dict[str, Any],
    appointment_id: int,
    not_before: datetime | None = None,
) -> list[outbox.NewMessage]:
    """One message per channel the patient is contacted by, each deduplicated by `key` and
    its channel."""
    messages = []
    for channel, address in patient_channels(p):
        dedupe_key = f"{key}:{channel.value}:patient"
        messages.append(
            outbox.NewMessage(
                dedupe_key=dedupe_key,
                kind=kind,
                channel=channel.value,
                recipient=address,
                recipient_name=f"{p.given_name} {p.family_name}",
                message_id=message_id_for(settings, dedupe_key),
                facts=facts,
                appointment_id=appointment_id,
                not_before=not_before,
            )
        )
    return messages


def for_clinician(
    a: AppointmentChange, c: Clinician, kind: str, settings: Settings
) -> outbox.NewMessage:
    key = f"appt{a.appointment_id}:seq{a.sequence}:{kind}:email:clinician"
    return outbox.NewMessage(
        dedupe_key=key,
        kind="clinician_notice",
        channel=Channel.EMAIL.value,
        recipient=c.email,
        recipient_name=c.name,
        message_id=message_id_for(settings, key),
        facts=facts_of(a, kind=kind, audience="clinician"),
        appointment_id=a.appointment_id,
    )


def reminders(
    a: AppointmentChange, p: Patient, settings: Settings, *, now: datetime
) -> list[outbox.NewMessage]:
    found = []
    for minutes in settings.reminder_offsets:
        due = a.starts_at - timedelta(minutes=minutes)
        if due <= now:
            continue  # never a reminder for a moment already past
        found += for_patient(a, p, "reminder", settings, not_before=due, tag=f"-{minutes}m")
    return found


def messages_for(
    change: AppointmentChange,
    patient: Patient,
    clinician: Clinician,
    settings: Settings,
    *,
    now: datetime,
) -> list[outbox.NewMessage]:
    if change.ends_at <= now:
        # Over before the change was taken (a past clinic recorded afterwards, as the demo
        # loads its history): there is nothing left to tell the patient or the clinician.
        return []
    kind = KIND_FOR_CHANGE[change.change]
    messages = [
        *for_patient(change, patient, kind, settings),
        for_clinician(change, clinician, kind, settings),
    ]
    if kind != "cancellation":
        messages += reminders(change, patient, settings, now=now)
    return messages


_older = aliased(AppointmentChange)
# Oldest first, and only an appointment's oldest change: a move taken by one worker while
# another still holds the booking would cancel reminders that the booking then writes.
_CLAIM = (
    select(AppointmentChange)
    .where(
        ~select(_older.id)
        .where(
            _older.appointment_id == AppointmentChange.appointment_id,
            _older.id < AppointmentChange.id,
        )
        .exists()
    )
    .order_by(AppointmentChange.id)
)


async def messages_from_changes(
    session: AsyncSession, settings: Settings, *, limit: int = BATCH
) -> int:
    """Queue the messages of up to `limit` changes and delete those changes; returns how many
    were done. Workers share the feed (SKIP LOCKED on PostgreSQL; SQLite serialises
    writers). Each change in a savepoint: one that fails is logged and left in the feed (and
    its appointment's later changes behind it) rather than holding up everyone else's
    messages. The caller commits."""
    claim = _CLAIM.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        claim = claim.with_for_update(skip_locked=True, of=AppointmentChange)
    changes = list(await session.scalars(claim))
    if not changes:
        return 0
    patients, clinicians = await _people(session, changes)
    now = utcnow()
    done = 0
    for change in changes:
        try:
            async with session.begin_nested():
                if change.change != "booked":
                    # A move or a cancellation replaces every reminder of the old time.
                    await outbox.cancel_pending(
                        session, appointment_id=change.appointment_id, kinds=["reminder"]
                    )
                patient, clinician = patients[change.patient_id], clinicians[change.clinician_id]
                await outbox.enqueue(
                    session, messages_for(change, patient, clinician, settings, now=now)
                )
                await session.execute(
                    delete(AppointmentChange).where(AppointmentChange.id == change.id)
                )
        except Exception:
            log.exception(
                "could not queue the messages of appointment change %s; it stays in the feed",
                change.id,
            )
            continue
        done += 1
    return done


async def _people(
    session: AsyncSession, changes: list[AppointmentChange]
) -> tuple[dict[int, Patient], dict[int, Clinician]]:
    """The patients and clinicians of a batch of changes, by id, in a query each."""
    patients = {
        p.id: p
        for p in await session.scalars(
            select(Patient).where(Patient.id.in_({c.patient_id for c in changes}))
        )
    }
    clinicians = {
        c.id: c
        for c in await session.scalars(
            select(Clinician).where(Clinician.id.in_({c.clinician_id for c in changes}))
        )
    }
    return patients, clinicians


async def queue_messages(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *, limit: int = BATCH
) -> int:
    """One batch of `messages_from_changes` in its own transaction."""
    async with sessionmaker() as session, session.begin():
        return await messages_from_changes(session, settings, limit=limit)
