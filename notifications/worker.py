"""The delivery loop behind `telehealth worker`: take due messages, send each, and record each
outcome (sent, retry later, failed, superseded) the moment it is known.

On PostgreSQL each message is one transaction: `outbox.take` locks its row, the worker renders
and sends it, records the outcome and commits. The claim is the lock, so it lasts exactly as
long as the worker's connection: a worker killed mid-send, or a database restart, leaves the
message due again at once for any worker, and only a message in flight at that moment can go
twice (with the same Message-ID). `concurrency` such transactions run at once, each on its
own connection (WORKER_CONCURRENCY, default 1): each one more is faster delivery, and one more
message that can go twice when a worker is killed.

On SQLite (one writer at a time, and a write transaction held across a send would stall every
booking) a batch is leased in one short transaction and each outcome recorded in another.

What is retried, with backoff up to `outbox.MAX_ATTEMPTS`: anything that may pass (the database
or network going away, a deadlock, an SMTP 4xx, a sender's unexpected error). What fails at
once: a message that can never go (a 5xx refusal of it, an invalid recipient, a render error
that is not the database's).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import outbox
from notifications.delivery import DeliveryError, Sender
from notifications.models import OutboxMessage, OutboxStatus
from telehealth.kernel.db import is_retryable

log = logging.getLogger("telehealth.worker")

BATCH = 20
CONCURRENCY = 1

Renderer = Callable[[AsyncSession, OutboxMessage], Awaitable[outbox.Rendering]]


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    CANCELLED = "cancelled"  # superseded before it went


@dataclass
class Tally:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    # Messages whose outcome could not be recorded (the database went away): they stay due.
    unrecorded: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


# SQLSTATE classes that describe the server's state rather than the statement: connection
# exception, transaction rollback (deadlock, serialisation), insufficient resources, operator
# intervention (shutdown, restart, cancel) and system error.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_TRANSIENT = (
    sa_exc.OperationalError,  # PEP 249: the database's operation, not the program
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no pooled connection free in time
    OSError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """The database or the network, not the message or this program, is at fault: it may
    pass. A constraint, type or syntax error will not, and retrying it only repeats it."""
    if is_retryable(error):
        return True
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    if sqlstate:
        return str(sqlstate)[:2] in _TRANSIENT_SQLSTATE_CLASSES
    return isinstance(error, _TRANSIENT)


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: Mapping[str, Sender],
    *,
    batch: int = BATCH,
    render: Renderer | None = None,
    concurrency: int = CONCURRENCY,
) -> Tally:
    """Deliver up to `batch` due messages, `concurrency` at a time. Sessions bound to one
    connection (the tests' rolled-back transaction) need `concurrency=1` on PostgreSQL, where
    each message holds a transaction of its own."""
    async with sessionmaker() as session:
        dialect = session.get_bind().dialect.name
    deliver = _deliver_locked if dialect == "postgresql" else _deliver_leased
    return await deliver(sessionmaker, senders, render, batch=batch, concurrency=concurrency)


async def _deliver_locked(
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: Mapping[str, Sender],
    render: Renderer | None,
    *,
    batch: int,
    concurrency: int,
) -> Tally:
    tally = Tally()
    budget = batch
    # Each message once per batch: one whose outcome was lost is not taken again (and sent
    # once more) by another lane the moment its lock goes, only by a later batch. One take at
    # a time, so each sees every id taken before it.
    taken: set[int] = set()
    taking = asyncio.Lock()

    async def lane() -> None:
        nonlocal budget
        while budget > 0:
            budget -= 1
            message = None
            try:
                async with sessionmaker() as session, session.begin():
                    async with taking:
                        message = await outbox.take(session, skip=taken)
                        if message is None:
                            return
                        taken.add(message.id)
                    outcome = await _attempt(session, message, senders, render)
            except Exception as exc:
                await _unrecorded(sessionmaker, message, exc, tally)
                if message is None:
                    return  # taking failed: the database is down, and `run` pauses
                continue  # one message's lost outcome holds up none of the others
            tally.count(outcome)

    await asyncio.gather(*(lane() for _ in range(max(1, min(concurrency, batch)))))
    return tally


async def _attempt(
    session: AsyncSession,
    message: OutboxMessage,
    senders: Mapping[str, Sender],
    render: Renderer | None,
) -> Outcome:
    """Render, send and record one message, all in `session` (which holds its row lock)."""
    error = None
    if message.body_text is None:
        try:
            error = await _render(session, message, render)
        except outbox.Superseded as exc:
            await outbox.mark_cancelled(session, message.id, f"superseded: {exc}")
            return Outcome.CANCELLED
    if error is None:
        error = await _send(senders, message)
    return await _record(session, message, error)


async def _deliver_leased(
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: Mapping[str, Sender],
    render: Renderer | None,
    *,
    batch: int,
    concurrency: int,
) -> Tally:
    async with sessionmaker() as session, session.begin():
        claimed = await outbox.claim(session, limit=batch)
    tally = Tally()
    gate = asyncio.Semaphore(concurrency)
    # SQLite takes one writer at a time anyway: this process's short transactions queue here
    # rather than on the database's busy timeout (and sessions joined to one connection work).
    writing = asyncio.Lock()

    async def attempt(message: OutboxMessage) -> Outcome:
        error = None
        if message.body_text is None:
            async with writing, sessionmaker() as session, session.begin():
                try:
                    error = await _render(session, message, render)
                except outbox.Superseded as exc:
                    await outbox.mark_cancelled(session, message.id, f"superseded: {exc}")
                    return Outcome.CANCELLED
        async with gate:  # a send and its record, as a lane on PostgreSQL does
            if error is None:
                error = await _send(senders, message)
            async with writing, sessionmaker() as session, session.begin():
                return await _record(session, message, error)

    async def deliver(message: OutboxMessage) -> None:
        try:
            outcome = await attempt(message)
        except Exception as exc:
            await _unrecorded(sessionmaker, message, exc, tally)
            return
        tally.count(outcome)

    await asyncio.gather(*(deliver(m) for m in claimed))
    return tally


async def _render(
    session: AsyncSession, message: OutboxMessage, render: Renderer | None
) -> DeliveryError | None:
    """Render a message queued as facts and keep the text (a resend is then byte for byte the
    same). Raises `outbox.Superseded` for a message that no longer holds."""
    if render is None:
        return DeliveryError("no renderer configured for queued facts", permanent=True)
    try:
        async with session.begin_nested():
            await outbox.store_rendering(session, message, await render(session, message))
    except outbox.Superseded:
        raise
    except Exception as exc:
        if getattr(exc, "connection_invalidated", False):
            raise  # the transaction went with its connection: there is nowhere to record
        # A render only reads, so whatever the database said may change; a template that
        # cannot render a message will not render it next time either.
        transient = is_transient(exc) or isinstance(exc, sa_exc.DBAPIError)
        log.log(
            logging.WARNING if transient else logging.ERROR,
            "could not render message %s",
            message.id,
            exc_info=True,
        )
        return DeliveryError(
            f"could not render: {type(exc).__name__}: {exc}", permanent=not transient
        )
    return None


async def _send(senders: Mapping[str, Sender], message: OutboxMessage) -> DeliveryError | None:
    sender = senders.get(message.channel)
    if sender is None:
        return DeliveryError(f"no sender configured for {message.channel}", permanent=True)
    try:
        await sender.send(message)
    except DeliveryError as exc:
        return exc
    except Exception as exc:  # a sender bug must not kill the worker or lose the message
        log.exception("sender failed unexpectedly for message %s", message.id)
        return DeliveryError(f"{type(exc).__name__}: {exc}")
    return None


async def _record(
    session: AsyncSession, message: OutboxMessage, error: DeliveryError | None
) -> Outcome:
    if error is None:
        await outbox.mark_sent(session, message.id)
        return Outcome.SENT
    status = await outbox.mark_failed(session, message, str(error), permanent=error.permanent)
    if status == OutboxStatus.FAILED:
        log.error("gave up on message %s (%s): %s", message.id, message.kind, error)
        return Outcome.FAILED
    log.warning("message %s will be retried: %s", message.id, error)
    return Outcome.RETRYING


async def _unrecorded(
    sessionmaker: async_sessionmaker[AsyncSession],
    message: OutboxMessage | None,
    error: Exception,
    tally: Tally,
) -> None:
    """Called while handling `error`, which stopped a message's outcome being recorded. When
    the database is at fault the message stays due (on SQLite, once its lease runs out), to
    be taken again when the database answers. Any other error is a bug in this worker: the
    message is set aside as failed, with the error, rather than taken (and perhaps sent)
    again and again."""
    if message is not None:
        tally.unrecorded += 1
    if is_transient(error):
        held = "nothing in hand" if message is None else f"message {message.id} stays due"
        log.warning("database unreachable (%s): %s", held, error)
        return
    log.exception("outbox bookkeeping failed (message %s)", getattr(message, "id", None))
    if message is None:
        return
    with contextlib.suppress(Exception):  # already logged; the message stays as it was
        async with sessionmaker() as session, session.begin():
            reason = f"worker error: {type(error).__name__}: {error}"
            await outbox.mark_failed(session, message, reason, permanent=True)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: Mapping[str, Sender],
    *,
    stop: asyncio.Event,
    poll_seconds: float = 2.0,
    render: Renderer | None = None,
    concurrency: int = CONCURRENCY,
) -> None:
    """Deliver until `stop` is set. After a batch that handles nothing (none due, or the
    database unreachable) or loses an outcome, wait `poll_seconds`."""
    while not stop.is_set():
        try:
            tally = await run_once(sessionmaker, senders, render=render, concurrency=concurrency)
        except Exception:  # the database may be restarting: wait and try again
            log.exception("outbox batch failed; retrying shortly")
            tally = Tally()
        if tally.handled == 0 or tally.unrecorded:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
