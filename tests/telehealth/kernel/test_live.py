"""Live updates reach subscribers once a change commits, in this process and (on PostgreSQL)
in other processes; a rolled-back change announces nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from scheduling import clinic
from scheduling.models import Appointment
from telehealth.kernel import live
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import make_appointment, make_clinic

PUBLISHER = """
import asyncio, sys
from scheduling import clinic
from scheduling.models import Appointment
from telehealth.kernel.db import create_engine, make_sessionmaker

async def main(url, appointment_id):
    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        appointment = await session.get(Appointment, appointment_id)
        await clinic.send_message(session, appointment, "from another process", actor_user_id=None)
    await engine.dispose()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


@pytest.fixture
async def relay(fresh_database: str) -> AsyncIterator[str]:
    relay = None
    if fresh_database.startswith("postgresql"):
        dsn = make_url(fresh_database).set(drivername="postgresql").render_as_string(False)
        relay = live.PostgresRelay(dsn)
        await relay.start()
    yield fresh_database
    if relay is not None:
        await relay.stop()


async def _appointment(url: str) -> tuple[Appointment, int]:
    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        c = await make_clinic(session)
        a = await make_appointment(session, c, start=datetime(2030, 6, 4, 9, tzinfo=UTC))
    await engine.dispose()
    return a, c.clinician.id


async def _message(url: str, appointment_id: int, text: str, *, commit: bool) -> None:
    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        await clinic.send_message(session, appointment, text, actor_user_id=None)
        if not commit:
            await session.rollback()
    await engine.dispose()


async def test_committed_news_arrives_and_rolled_back_news_does_not(relay: str) -> None:
    appointment, clinician_id = await _appointment(relay)
    async with live.broker.subscribe([f"clinician:{clinician_id}"]) as queue:
        await _message(relay, appointment.id, "never sent", commit=False)
        await _message(relay, appointment.id, "Running 10 minutes late", commit=True)
        got = await asyncio.wait_for(queue.get(), timeout=5)
        await asyncio.sleep(0.2)
        assert queue.empty()
    assert got["kind"] == "message"
    assert got["message"] == "Running 10 minutes late"
    assert got["appointment_id"] == appointment.id


async def test_news_from_another_process(relay: str, project_root: Path) -> None:
    if not relay.startswith("postgresql"):
        return  # SQLite runs as one process: there is no other process to hear from.
    appointment, _ = await _appointment(relay)
    async with live.broker.subscribe([f"appointment:{appointment.id}"]) as queue:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", PUBLISHER, relay, str(appointment.id)],
            cwd=project_root,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        got = await asyncio.wait_for(queue.get(), timeout=5)
    assert got["message"] == "from another process"


async def test_the_relay_listens_again_after_losing_its_connection(fresh_database: str) -> None:
    # Not the `relay` fixture: this relay must be the only one listening.
    relay = fresh_database
    if not relay.startswith("postgresql"):
        return  # SQLite has no listening connection to lose.
    dsn = make_url(relay).set(drivername="postgresql").render_as_string(False)
    gaps: list[int] = []
    listener = live.PostgresRelay(dsn, on_gap=lambda: gaps.append(1))
    await listener.start()
    try:
        lost = listener.server_pid
        engine = create_engine(relay)
        async with engine.connect() as connection:
            await connection.exec_driver_sql(f"SELECT pg_terminate_backend({lost})")
        await engine.dispose()
        for _ in range(100):  # reconnecting takes a moment: allow up to 10 seconds
            if listener.listening and listener.server_pid != lost:
                break
            await asyncio.sleep(0.1)
        assert listener.listening and listener.server_pid != lost
        assert len(gaps) == 2  # told when the connection went, and again when it was back
        appointment, clinician_id = await _appointment(relay)
        async with live.broker.subscribe([f"clinician:{clinician_id}"]) as queue:
            await _message(relay, appointment.id, "after the reconnect", commit=True)
            got = await asyncio.wait_for(queue.get(), timeout=5)
        assert got["message"] == "after the reconnect"
    finally:
        await listener.stop()
    assert not listener.listening


async def test_a_server_that_stops_answering_counts_as_lost(fresh_database: str) -> None:
    """A connection can die without closing (a failover, a dropped NAT mapping): here its
    server process is frozen. The heartbeat notices, and until a new connection listens the
    relay says it is not listening, so the token cache stops trusting what it holds."""
    if not fresh_database.startswith("postgresql"):
        return  # SQLite has no listening connection.
    dsn = make_url(fresh_database).set(drivername="postgresql").render_as_string(False)
    # Whether the relay said it was listening at each gap: not when the loss is reported, and
    # again once the new connection is in. Polling `listening` instead can miss a loss that a
    # quick reconnect ends within one poll.
    gaps: list[bool] = []
    heard: list[int] = []
    listener: live.PostgresRelay

    def on_gap() -> None:
        gaps.append(listener.listening)

    listener = live.PostgresRelay(
        dsn, also={"telehealth_test": lambda: heard.append(1)}, on_gap=on_gap
    )
    listener.HEARTBEAT_SECONDS = 0.2
    await listener.start()
    frozen = listener.server_pid
    assert frozen is not None
    os.kill(frozen, signal.SIGSTOP)
    try:
        for _ in range(200):
            if gaps:
                break
            await asyncio.sleep(0.05)
        assert gaps[:1] == [False]  # lost: not listening until a new connection is
        for _ in range(200):
            if listener.listening and listener.server_pid != frozen:
                break
            await asyncio.sleep(0.05)
        assert listener.listening and listener.server_pid != frozen and gaps == [False, True]
        engine = create_engine(fresh_database)
        async with engine.connect() as connection:
            await connection.exec_driver_sql("NOTIFY telehealth_test")
            await connection.commit()
        await engine.dispose()
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.05)
        assert heard == [1]  # the extra channel is listened to on the new connection too
    finally:
        os.kill(frozen, signal.SIGCONT)
        await listener.stop()
