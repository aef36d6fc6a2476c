"""The delivery loop behind `telehealth worker`: claim a batch, send it, record each result.

Each step is its own short transaction, so a send never holds a database lock and a crash at
any point leaves every message either sent and recorded, or still claimable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import outbox
from notifications.delivery import DeliveryError, Sender
from notifications.models import OutboxMessage

log = logging.getLogger("telehealth.worker")

BATCH = 20
CONCURRENCY = 8


@dataclass
class Tally:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0  # superseded before it went

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled


Renderer = Callable[[AsyncSession, OutboxMessage], Awaitable[outbox.Rendering]]


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: Mapping[str, Sender],
    *,
    batch: int = BATCH,
    render: Renderer | None = None,
) -> Tally:
    async with sessionmaker() as session, session.begin():
        claimed = await outbox.claim(session, limit=batch)
    tally = Tally()
    gate = asyncio.Semaphore(CONCURRENCY)
    # Sends overlap; recording is one short transaction at a time, right after each send.
    recording = asyncio.Lock()

    async def deliver(message: OutboxMessage) -> None:
        error = None
        if message.body_text is None:
            try:
                error = await _render(sessionmaker, recording, message, render)
            except outbox.Superseded as exc:
                async with recording, sessionmaker() as session, session.begin():
                    await outbox.mark_cancelled(session, message.id, f"superseded: {exc}")
                tally.cancelled += 1
                return
        if error is None:
            async with gate:
                error = await _send(senders, message)
        async with recording, sessionmaker() as session, session.begin():
            if error is None:
                await outbox.mark_sent(session, message.id)
                tally.sent += 1
                return
            status = await outbox.mark_failed(
                session, message, str(error), permanent=error.permanent
            )
        if status == "failed":
            tally.failed += 1
            log.error("gave up on message %s (%s): %s", message.id, message.kind, error)
        else:
            tally.retrying += 1
            log.warning("message %s will be retried: %s", message.id, error)

    await asyncio.gather(*(deliver(m) for m in claimed))
    return tally


async def _render(
    sessionmaker: async_sessionmaker[AsyncSession],
    recording: asyncio.Lock,
    message: OutboxMessage,
    render: Renderer | None,
) -> DeliveryError | None:
    if render is None:
        return DeliveryError("no renderer configured for queued facts", permanent=True)
    try:
        async with recording, sessionmaker() as session, session.begin():
            await outbox.store_rendering(session, message, await render(session, message))
    except outbox.Superseded:
        raise
    except Exception as exc:  # a message that cannot be rendered will not render next time
        log.exception("could not render message %s", message.id)
        return DeliveryError(f"could not render: {type(exc).__name__}: {exc}", permanent=True)
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


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    senders: Mapping[str, Sender],
    *,
    stop: asyncio.Event,
    poll_seconds: float = 2.0,
    render: Renderer | None = None,
) -> None:
    """Deliver until `stop` is set; an empty batch sleeps for `poll_seconds`."""
    while not stop.is_set():
        try:
            tally = await run_once(sessionmaker, senders, render=render)
        except Exception:  # the database may be restarting: wait and try again
            log.exception("outbox batch failed; retrying shortly")
            tally = Tally()
        if tally.handled == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
