"""The message worker under faults, for real: `telehealth worker` processes, a slow SMTP server
on loopback, and a private PostgreSQL cluster that can be restarted mid-batch.

What must hold: nothing is lost; a message recorded as sent never goes again; only what was in
flight at the fault (sent, but its outcome not yet committed) may go twice; and the rest goes
within seconds of the worker or the database being back, not after a lease runs out.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from notifications import outbox, worker
from notifications.models import OutboxMessage
from telehealth.kernel import migrations
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.postgres_cluster import PrivateCluster, server_binaries
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.slow

MESSAGES = 30
# Each DATA is answered this late, so a batch takes seconds and a fault lands mid-send.
SMTP_DELAY = 0.1
RECOVERY_SECONDS = 10.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    binaries = server_binaries()
    if binaries is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL's server binaries for the fault tests")
        pytest.skip("no PostgreSQL server binaries (initdb) installed")
    found = PrivateCluster(binaries)
    try:
        found.create()
        found.start()
        yield found
    finally:
        found.destroy()


@pytest.fixture
async def database(cluster: PrivateCluster) -> str:
    name = f"faults_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(cluster.url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = cluster.url(name)
    engine = create_engine(url)
    await migrations.upgrade(engine)
    await engine.dispose()
    return url


@pytest.fixture
def slow_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(delay=SMTP_DELAY)
    server.start()
    yield server
    server.stop()


class Workers:
    """`telehealth worker` processes on one database and SMTP server, logging to one file."""

    def __init__(self, url: str, smtp: SmtpServer, tmp: Path) -> None:
        self.log = tmp / "worker.log"
        self.env = os.environ | {
            "DATABASE_URL": url,
            "TELEHEALTH_ENV": "test",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_TLS": "none",
            "OUTBOX_DIR": str(tmp / "outbox"),
        }
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                [str(Path(sys.executable).with_name("telehealth")), "worker"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.running.append(process)
        return process

    def stop_all(self) -> list[int]:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.running:
            try:
                codes.append(process.wait(timeout=15))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes

    def tail(self) -> str:
        return self.log.read_text()[-6000:] if self.log.exists() else ""


@pytest.fixture
def workers(database: str, slow_smtp: SmtpServer, tmp_path: Path) -> Iterator[Workers]:
    found = Workers(database, slow_smtp, tmp_path)
    yield found
    found.stop_all()


async def enqueue(url: str, count: int) -> set[str]:
    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await outbox.enqueue(
            session,
            [
                outbox.NewMessage(
                    dedupe_key=f"fault:{n}",
                    kind="confirmation",
                    channel="email",
                    recipient=f"patient{n}@example.com",
                    message_id=f"<fault.{n}@bay-telehealth.invalid>",
                    subject=f"Appointment {n}",
                    body_text="Your appointment is booked.",
                )
                for n in range(count)
            ],
        )
    await engine.dispose()
    return {f"<fault.{n}@bay-telehealth.invalid>" for n in range(count)}


async def recorded(url: str) -> dict[str, str]:
    """Each message's status as committed, through a connection of its own (the database may
    just have restarted)."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(OutboxMessage.message_id, OutboxMessage.status))
            return {message_id: status for message_id, status in rows}
    finally:
        await engine.dispose()


async def until(done: Callable[[], bool], *, seconds: float, what: str, log: Workers) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"{what} not within {seconds} s\n{log.tail()}"
        await asyncio.sleep(0.05)


async def all_sent(url: str, *, deadline: float, log: Workers) -> None:
    """Wait until every message is recorded sent, by `deadline` (time.monotonic())."""
    while set((await recorded(url)).values()) != {"sent"}:
        assert time.monotonic() < deadline, f"not all recorded sent\n{log.tail()}"
        await asyncio.sleep(0.1)


async def test_a_worker_killed_mid_batch_is_replaced_within_seconds(
    database: str, slow_smtp: SmtpServer, workers: Workers
) -> None:
    expected = await enqueue(database, MESSAGES)
    inbox = slow_smtp.inbox
    doomed = workers.start()
    await until(lambda: len(inbox.messages) >= 5, seconds=30, what="first sends", log=workers)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    await asyncio.sleep(0.2)  # a DATA the server had whole when the worker died still lands
    received_by_then = set(inbox.message_ids())
    sent_by_then = {m for m, status in (await recorded(database)).items() if status == "sent"}
    # Sent but never recorded: what the killed worker had in flight, the one message it sends
    # at a time (none if the kill fell between a commit and the next send).
    in_flight = received_by_then - sent_by_then
    assert len(in_flight) <= worker.CONCURRENCY == 1
    assert len(received_by_then) < MESSAGES, "the worker was not killed mid-batch"

    workers.start()
    deadline = time.monotonic() + RECOVERY_SECONDS
    await until(
        lambda: set(inbox.message_ids()) == expected,
        seconds=RECOVERY_SECONDS,
        what="every message delivered after the restart",
        log=workers,
    )
    await all_sent(database, deadline=deadline, log=workers)
    deliveries = Counter(inbox.message_ids())
    twice = {m for m, n in deliveries.items() if n > 1}
    assert twice <= in_flight, "a message recorded as sent went again"
    assert max(deliveries.values()) <= 2
    assert workers.stop_all() == [-signal.SIGKILL, 0]


async def test_postgresql_restarted_mid_batch_loses_nothing(
    cluster: PrivateCluster, database: str, slow_smtp: SmtpServer, workers: Workers
) -> None:
    expected = await enqueue(database, MESSAGES)
    inbox = slow_smtp.inbox
    survivor = workers.start()
    await until(lambda: len(inbox.messages) >= 5, seconds=30, what="first sends", log=workers)
    sent_before = {m for m, status in (await recorded(database)).items() if status == "sent"}
    cluster.stop()
    await asyncio.sleep(1.0)
    cluster.start()
    deadline = time.monotonic() + RECOVERY_SECONDS
    received_while_down = set(inbox.message_ids())
    await until(
        lambda: set(inbox.message_ids()) == expected,
        seconds=RECOVERY_SECONDS,
        what="every message delivered after PostgreSQL came back",
        log=workers,
    )
    await all_sent(database, deadline=deadline, log=workers)
    assert survivor.poll() is None, f"the worker died with the database\n{workers.tail()}"
    deliveries = Counter(inbox.message_ids())
    twice = {m for m, n in deliveries.items() if n > 1}
    assert not twice & sent_before, "a message recorded as sent went again"
    # Only what was in flight when the connections went: sent before the database came back.
    assert twice <= received_while_down
    assert len(twice) <= worker.CONCURRENCY
    assert max(deliveries.values()) <= 2
    assert workers.stop_all() == [0]
