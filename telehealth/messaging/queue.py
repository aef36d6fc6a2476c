"""Queueing messages for an appointment change: facts now, words later (see `render`)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import outbox
from notifications.models import Channel
from scheduling.models import Appointment, Clinician, Patient
from telehealth.config import Settings
from telehealth.db import utcnow
from telehealth.events import AppointmentChanged

KIND_FOR_CHANGE = {"booked": "confirmation", "rescheduled": "change", "cancelled": "cancellation"}


def facts_of(a: Appointment, *, kind: str, audience: str) -> dict[str, Any]:
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


def _message_id(settings: Settings, key: str) -> str:
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
    a: Appointment,
    p: Patient,
    kind: str,
    settings: Settings,
    *,
    not_before: datetime | None = None,
    tag: str = "",
) -> list[outbox.NewMessage]:
    messages = []
    for channel, address in patient_channels(p):
        key = f"appt{a.id}:seq{a.sequence}:{kind}{tag}:{channel.value}:patient"
        messages.append(
            outbox.NewMessage(
                dedupe_key=key,
                kind=kind,
                channel=channel.value,
                recipient=address,
                recipient_name=f"{p.given_name} {p.family_name}",
                message_id=_message_id(settings, key),
                facts=facts_of(a, kind=kind, audience="patient"),
                appointment_id=a.id,
                not_before=not_before,
            )
        )
    return messages


def for_clinician(a: Appointment, c: Clinician, kind: str, settings: Settings) -> outbox.NewMessage:
    key = f"appt{a.id}:seq{a.sequence}:{kind}:email:clinician"
    return outbox.NewMessage(
        dedupe_key=key,
        kind="clinician_notice",
        channel=Channel.EMAIL.value,
        recipient=c.email,
        recipient_name=c.name,
        message_id=_message_id(settings, key),
        facts=facts_of(a, kind=kind, audience="clinician"),
        appointment_id=a.id,
    )


def reminders(
    a: Appointment, p: Patient, settings: Settings, *, now: datetime
) -> list[outbox.NewMessage]:
    found = []
    for minutes in settings.reminder_offsets:
        due = a.starts_at - timedelta(minutes=minutes)
        if due <= now:
            continue  # never a reminder for a moment already past
        found += for_patient(a, p, "reminder", settings, not_before=due, tag=f"-{minutes}m")
    return found


async def on_appointment_changed(
    session: AsyncSession, event: AppointmentChanged, *, settings: Settings
) -> None:
    kind = KIND_FOR_CHANGE.get(event.change)
    if kind is None:
        return
    a = await session.get(Appointment, event.appointment_id)
    assert a is not None
    patient = await session.get(Patient, a.patient_id)
    clinician = await session.get(Clinician, a.clinician_id)
    assert patient is not None and clinician is not None
    if kind != "confirmation":
        # A move or a cancellation replaces every reminder of the old time.
        await outbox.cancel_pending(session, appointment_id=a.id, kinds=["reminder"])
    messages = [
        *for_patient(a, patient, kind, settings),
        for_clinician(a, clinician, kind, settings),
    ]
    if kind != "cancellation":
        messages += reminders(a, patient, settings, now=utcnow())
    await outbox.enqueue(session, messages)
