"""Queueing and claiming messages. Delivery is at-least-once with a stable Message-ID: a
message whose outcome was not recorded (its worker died, or the database went away, mid-send)
goes again as the same message, which mail systems recognise, never as a second different one;
a message recorded as sent never goes again.

Two ways to claim, chosen by the worker per dialect. On PostgreSQL, `take` locks one due row
(`FOR UPDATE SKIP LOCKED`) for the rest of a transaction that sends it and records the outcome:
the claim is the lock, so it ends with the worker's connection, and a worker killed mid-send or
a database restart leaves the message due again at once. On SQLite, which has one writer at a
time and cannot hold a write transaction across a send without stalling every booking,
`claim` leases a batch (status `sending` until `locked_until`) in a short transaction; a worker
killed mid-batch leaves its leased messages for LEASE.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import OutboxMessage, OutboxStatus
from telehealth.kernel.db import table_of, utcnow

# SQLite's claims only: longer than a batch can take to send, even against a slow server.
LEASE = timedelta(minutes=5)
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
MAX_ATTEMPTS = 8
_jitter = random.Random()


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: spread retries so a recovering SMTP server is not
    hit by every worker at once."""
    ceiling = min(BASE_DELAY * (1 << min(max(attempts - 1, 0), 20)), MAX_DELAY)
    factor = (rng or _jitter).uniform(0.5, 1.0)
    return ceiling * factor


@dataclass(frozen=True, slots=True)
class NewMessage:
    dedupe_key: str
    kind: str
    channel: str
    recipient: str
    message_id: str
    body_text: str | None = None  # None: rendered by the worker from `facts`
    facts: dict[str, Any] | None = None
    appointment_id: int | None = None
    recipient_name: str = ""
    subject: str = ""
    body_html: str | None = None
    calendar: bytes | None = None
    calendar_method: str | None = None
    not_before: datetime | None = None


# Built once per dialect, on the table (see `table_of`): the worker runs this for every
# appointment change it turns into messages.
_ENQUEUE = {
    name: insert(table_of(OutboxMessage))
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(table_of(OutboxMessage).c.id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


async def enqueue(session: AsyncSession, messages: Sequence[NewMessage]) -> int:
    """Add messages; any whose dedupe key is already queued are skipped. Returns how many
    were added."""
    if not messages:
        return 0
    now = utcnow()
    rows = [
        {
            "dedupe_key": m.dedupe_key,
            "kind": m.kind,
            "channel": m.channel,
            "recipient": m.recipient,
            "recipient_name": m.recipient_name,
            "message_id": m.message_id,
            "subject": m.subject,
            "body_text": m.body_text,
            "facts": m.facts,
            "body_html": m.body_html,
            "calendar": m.calendar,
            "calendar_method": m.calendar_method,
            "appointment_id": m.appointment_id,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": m.not_before or now,
            "created_at": now,
        }
        for m in messages
    ]
    result = await session.execute(_ENQUEUE[session.get_bind().dialect.name], rows)
    return len(result.all())


async def cancel_pending(
    session: AsyncSession, *, appointment_id: int, kinds: Sequence[str]
) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.kind.in_(kinds),
            OutboxMessage.status == OutboxStatus.PENDING.value,
        )
        .values(status=OutboxStatus.CANCELLED.value)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _due(now: datetime) -> ColumnElement[bool]:
    pending = OutboxMessage.status == OutboxStatus.PENDING.value
    leased = OutboxMessage.status == OutboxStatus.SENDING.value
    return (pending & (OutboxMessage.next_attempt_at <= now)) | (
        leased & (OutboxMessage.locked_until < now)
    )


def _oldest_due(now: datetime, limit: int) -> Select[int]:
    return (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )


async def take(
    session: AsyncSession, *, now: datetime | None = None, skip: Collection[int] = ()
) -> OutboxMessage | None:
    """PostgreSQL: the oldest due message (other than those in `skip`), locked until the
    caller's transaction ends. The caller sends it and records the outcome in that same
    transaction. The attempt is counted in it too, so a worker that dies mid-send costs the
    message no attempt. The message comes detached: the worker changes the row by statements,
    and what it read must outlive a transaction rolled back by a lost connection."""
    next_one = _oldest_due(now or utcnow(), 1).with_for_update(skip_locked=True)
    if skip:
        next_one = next_one.where(OutboxMessage.id.not_in(skip))
    result = await session.scalars(
        update(OutboxMessage)
        # `=` rather than IN: a scalar subquery runs once, so it locks exactly one row.
        .where(OutboxMessage.id == next_one.scalar_subquery())
        .values(attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    found = result.first()
    if found is not None:
        session.expunge(found)
    return found


async def claim(
    session: AsyncSession, *, limit: int, now: datetime | None = None
) -> list[OutboxMessage]:
    """SQLite: lease up to `limit` due messages to this worker; the caller commits at once."""
    now = now or utcnow()
    due = _oldest_due(now, limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = await session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING.value,
            locked_until=now + LEASE,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.all(), key=lambda m: (m.next_attempt_at, m.id))


@dataclass(frozen=True, slots=True)
class Rendering:
    subject: str
    body_text: str
    body_html: str | None = None
    calendar: bytes | None = None
    calendar_method: str | None = None


async def store_rendering(
    session: AsyncSession, message: OutboxMessage, rendering: Rendering
) -> None:
    """Keep what was rendered: a resend after a crash is then byte for byte the same."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(
            subject=rendering.subject,
            body_text=rendering.body_text,
            body_html=rendering.body_html,
            calendar=rendering.calendar,
            calendar_method=rendering.calendar_method,
        )
    )
    message.subject = rendering.subject
    message.body_text = rendering.body_text
    message.body_html = rendering.body_html
    message.calendar = rendering.calendar
    message.calendar_method = rendering.calendar_method


async def mark_sent(session: AsyncSession, message_id: int, *, now: datetime | None = None) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status=OutboxStatus.SENT.value,
            sent_at=now or utcnow(),
            locked_until=None,
            last_error=None,
        )
    )


class Superseded(Exception):
    """Raised by a renderer for a message that no longer holds, such as a reminder for a time
    the appointment has since left: the worker cancels it instead of sending it."""


async def mark_cancelled(session: AsyncSession, message_id: int, reason: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.CANCELLED.value, locked_until=None, last_error=reason)
    )


async def mark_failed(
    session: AsyncSession,
    message: OutboxMessage,
    error: str,
    *,
    now: datetime | None = None,
    permanent: bool = False,
) -> str:
    """Schedule a retry, or give up after MAX_ATTEMPTS (or at once for a permanent error)."""
    now = now or utcnow()
    give_up = permanent or message.attempts >= MAX_ATTEMPTS
    status = OutboxStatus.FAILED if give_up else OutboxStatus.PENDING
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(
            status=status.value,
            last_error=error[:2000],
            locked_until=None,
            next_attempt_at=now if give_up else now + retry_delay(message.attempts),
        )
    )
    return status.value
