"""The delivery loop's bookkeeping: each outcome recorded as it is known, one message's
trouble never the others', and what is retried against what is given up on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from notifications import outbox, worker
from notifications.delivery import SmtpSender, SmtpSettings
from notifications.models import OutboxMessage
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.smtp_server import SmtpServer

# The tests' sessions share one connection, and on PostgreSQL each message in hand holds a
# transaction of its own: one message at a time.
deliver = partial(worker.run_once, concurrency=1)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def fresh_engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database)
    yield engine
    await engine.dispose()


def smtp_senders(server: SmtpServer) -> dict[str, SmtpSender]:
    settings = SmtpSettings(host="127.0.0.1", port=server.port, tls="none", timeout=5)
    return {"email": SmtpSender(settings)}


def message(n: int, *, to: str | None = None, rendered: bool = True) -> outbox.NewMessage:
    return outbox.NewMessage(
        dedupe_key=f"worker-test:{n}",
        kind="confirmation",
        channel="email",
        recipient=to or f"p{n}@example.com",
        message_id=f"<worker-test.{n}@bay-telehealth.invalid>",
        subject=f"Test {n}",
        body_text="Hello" if rendered else None,
        facts=None if rendered else {"kind": "confirmation"},
    )


async def statuses(maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with maker() as session:
        rows = await session.execute(select(OutboxMessage.recipient, OutboxMessage.status))
        return {recipient.split("@")[0]: status for recipient, status in rows}


async def test_each_outcome_is_committed_before_the_next_message_goes(
    fresh_engine: AsyncEngine, smtp: SmtpServer
) -> None:
    """Seen from another connection: by the time a message goes, every message before it has
    its outcome committed, whether sent, to be retried or given up on."""
    maker = make_sessionmaker(fresh_engine)
    smtp.inbox.refusals = {
        "busy": ("rcpt", "450 4.2.1 Mailbox busy"),
        "gone": ("rcpt", "550 5.1.1 No such user"),
    }
    names = ["first", "busy", "gone", "last"]
    async with maker() as session, session.begin():
        for n, name in enumerate(names):
            await outbox.enqueue(session, [message(n, to=f"{name}@example.com")])
    seen: list[dict[str, str]] = []
    inner = smtp_senders(smtp)["email"]

    class Watching:
        async def send(self, m: OutboxMessage) -> None:
            seen.append(await statuses(maker))
            await inner.send(m)

    tally = await worker.run_once(maker, {"email": Watching()}, concurrency=1)
    assert (tally.sent, tally.retrying, tally.failed) == (2, 1, 1)
    outcomes = {"first": "sent", "busy": "pending", "gone": "failed", "last": "sent"}
    for before, snapshot in enumerate(seen):
        assert {k: snapshot[k] for k in names[:before]} == {k: outcomes[k] for k in names[:before]}
    assert await statuses(maker) == outcomes


class _Refused(Exception):
    """A driver error, as the database reports one."""

    def __init__(self, sqlstate: str = "08006") -> None:
        super().__init__("terminating connection due to administrator command")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("fault", ["database", "bug"])
async def test_one_outcome_that_cannot_be_recorded_stops_no_other(
    fresh_engine: AsyncEngine,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    """Recording message 3's outcome fails. The other four are recorded all the same, and the
    batch returns rather than raising. A database fault leaves message 3 due (its send was in
    flight, so it goes again); a bug in the worker sets it aside as failed, saying why."""
    maker = make_sessionmaker(fresh_engine)
    async with maker() as session, session.begin():
        await outbox.enqueue(session, [message(n) for n in range(5)])
        doomed = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.recipient == "p3@example.com")
        )
    mark_sent = outbox.mark_sent

    async def failing_for_3(session: AsyncSession, message_id: int, **kwargs: Any) -> None:
        if message_id == doomed:
            if fault == "database":
                raise sa_exc.OperationalError("UPDATE outbox_messages", {}, _Refused())
            raise RuntimeError("a bug in the bookkeeping")
        await mark_sent(session, message_id, **kwargs)

    monkeypatch.setattr(outbox, "mark_sent", failing_for_3)
    tally = await worker.run_once(maker, smtp_senders(smtp))
    assert (tally.sent, tally.unrecorded) == (4, 1)
    assert len(smtp.inbox.messages) == 5
    found = await statuses(maker)
    assert {k: v for k, v in found.items() if k != "p3"} == dict.fromkeys(
        ["p0", "p1", "p2", "p4"], "sent"
    )
    async with maker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == doomed))
    assert row is not None
    if fault == "bug":
        assert row.status == "failed" and "RuntimeError" in (row.last_error or "")
        return
    if fresh_engine.dialect.name == "postgresql":
        # The claim was the transaction: rolled back, the message is due again at once.
        assert (row.status, row.attempts) == ("pending", 0)
        monkeypatch.setattr(outbox, "mark_sent", mark_sent)
        again = await worker.run_once(maker, smtp_senders(smtp))
        assert again.sent == 1
        assert smtp.inbox.message_ids().count("<worker-test.3@bay-telehealth.invalid>") == 2
    else:
        assert row.status == "sending"  # SQLite's lease runs out, then it goes again


def _deadlock() -> Exception:
    return sa_exc.DBAPIError("SELECT", {}, _Refused("40P01"))


@pytest.mark.parametrize(
    ("refusal", "recipient", "outcome"),
    [
        (("rcpt", "450 4.2.1 Mailbox busy, try later"), "patient@example.com", "pending"),
        (("rcpt", "550 5.1.1 No such user here"), "patient@example.com", "failed"),
        (("data", "451 4.3.0 Local error, try later"), "patient@example.com", "pending"),
        (("data", "554 5.7.1 Message refused"), "patient@example.com", "failed"),
        (None, "not an address", "failed"),
        (None, "patient@example.com\nBcc: someone@example.com", "failed"),
    ],
)
async def test_smtp_refusals_retry_or_fail_by_what_they_say(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    refusal: tuple[str, str] | None,
    recipient: str,
    outcome: str,
) -> None:
    if refusal:
        smtp.inbox.refusals = {"patient": refusal}
    await outbox.enqueue(session, [message(1, to=recipient)])
    tally = await deliver(sessionmaker, smtp_senders(smtp))
    row = await session.scalar(select(OutboxMessage))
    assert row is not None
    assert row.status == outcome, row.last_error
    assert row.attempts == 1
    assert (tally.retrying, tally.failed) == ((1, 0) if outcome == "pending" else (0, 1))
    if outcome == "pending":
        assert row.next_attempt_at > datetime.now(UTC)
    assert smtp.inbox.messages == []


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (sa_exc.OperationalError("SELECT", {}, _Refused()), "pending"),  # connection lost
        (_deadlock(), "pending"),
        (sa_exc.TimeoutError("QueuePool limit reached"), "pending"),
        (ConnectionResetError("reset by peer"), "pending"),
        (KeyError("site_id"), "failed"),  # a template that cannot render this message
        (LookupError("appointment 7 no longer exists"), "failed"),
    ],
)
async def test_render_errors_retry_unless_the_message_can_never_render(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    error: Exception,
    outcome: str,
) -> None:
    await outbox.enqueue(session, [message(1, rendered=False)])

    async def render(session: AsyncSession, message: OutboxMessage) -> outbox.Rendering:
        raise error

    await deliver(sessionmaker, smtp_senders(smtp), render=render)
    row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == outcome
    assert type(error).__name__ in (row.last_error or "")
    assert smtp.inbox.messages == []


async def test_a_connection_lost_while_rendering_is_taken_again(
    fresh_engine: AsyncEngine, smtp: SmtpServer
) -> None:
    """The render's connection really goes (its backend terminated, as a restart would): the
    message is neither failed nor charged an attempt, and the next batch sends it."""
    if fresh_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    maker = make_sessionmaker(fresh_engine)
    async with maker() as session, session.begin():
        await outbox.enqueue(session, [message(1, rendered=False)])
    calls = 0

    async def render(session: AsyncSession, message: OutboxMessage) -> outbox.Rendering:
        nonlocal calls
        calls += 1
        if calls == 1:
            await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return outbox.Rendering(subject="Booked", body_text="Your appointment is booked.")

    lost = await worker.run_once(maker, smtp_senders(smtp), render=render)
    assert (lost.handled, lost.unrecorded) == (0, 1)
    async with maker() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and (row.status, row.attempts) == ("pending", 0)
    taken = await worker.run_once(maker, smtp_senders(smtp), render=render)
    assert taken.sent == 1 and len(smtp.inbox.messages) == 1


async def test_a_dead_workers_claim_goes_with_its_connection(
    fresh_engine: AsyncEngine, smtp: SmtpServer
) -> None:
    """A worker that took a message and sent it, then died before committing: while it lives
    others pass its message by; the moment its connection ends, the message is due again to
    anyone, and goes a second time with the same Message-ID (it was in flight)."""
    if fresh_engine.dialect.name != "postgresql":
        pytest.skip("SQLite leases its claims: see test_a_worker_killed_mid_batch_loses_nothing")
    maker = make_sessionmaker(fresh_engine)
    async with maker() as session, session.begin():
        await outbox.enqueue(session, [message(n) for n in range(3)])
    async with fresh_engine.connect() as dying:
        in_flight = await outbox.take(AsyncSession(bind=dying))
        assert in_flight is not None
        await smtp_senders(smtp)["email"].send(in_flight)
        alive = await worker.run_once(maker, smtp_senders(smtp))
        assert alive.sent == 2
        pid = await dying.scalar(text("SELECT pg_backend_pid()"))
        async with maker() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(sa_exc.DBAPIError):
            await dying.scalar(text("SELECT 1"))
        recovered = await worker.run_once(maker, smtp_senders(smtp))
    assert recovered.sent == 1
    assert smtp.inbox.message_ids().count(in_flight.message_id) == 2
    assert len(smtp.inbox.messages) == 4
    assert set((await statuses(maker)).values()) == {"sent"}
