"""Outbox throughput: messages per second from the queue to a real SMTP server on loopback,
delivered by two `telehealth worker` processes, rendering included (text, HTML and invite)."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from notifications.models import OutboxMessage
from telehealth.kernel.config import Settings
from telehealth.messaging.queue import messages_from_changes

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2


@dataclass(frozen=True)
class OutboxResult:
    messages: int
    seconds: float
    received: int
    distinct_message_ids: int
    workers: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


class _Inbox:
    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content)
        self.message_ids.append(str(parsed["Message-ID"]).strip())
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _queue(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], appointments: int
) -> int:
    """Queue the confirmation messages of `appointments` booked appointments, as booking does."""
    async with engine.connect() as connection:
        ids = (
            await connection.scalars(
                text(
                    "SELECT id FROM appointments WHERE status = 'booked' "
                    "AND starts_at > now() ORDER BY id LIMIT :n"
                ),
                {"n": appointments},
            )
        ).all()
    settings = Settings(environment="development", secret_key="bench", reminder_offsets=())
    async with sessionmaker() as session, session.begin():
        await session.execute(text("DELETE FROM outbox_messages"))
        await session.execute(text("DELETE FROM appointment_changes"))
        # What the booking trigger records for each (the bench loader bypassed it).
        await session.execute(
            text(
                "INSERT INTO appointment_changes (appointment_id, change, sequence, status, "
                "starts_at, ends_at, mode, site_id, clinician_id, patient_id, cancel_reason, at) "
                "SELECT id, 'booked', sequence, status, starts_at, ends_at, mode, site_id, "
                "clinician_id, patient_id, cancel_reason, now() FROM appointments "
                "WHERE id = ANY(:ids)"
            ),
            {"ids": list(ids)},
        )
        while await messages_from_changes(session, settings):
            pass
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def _start_workers(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "telehealth.cli", "worker"]
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        for _ in range(WORKERS)
    ]


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


async def run(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    url: str,
    *,
    appointments: int,
    max_seconds: float,
) -> OutboxResult:
    queued = await _queue(engine, sessionmaker, appointments)
    inbox = _Inbox()
    port = _free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    env = os.environ | {
        "DATABASE_URL": url,
        "TELEHEALTH_ENV": "development",
        "SECRET_KEY": "bench",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_TLS": "none",
    }
    workers = _start_workers(env)
    started = time.perf_counter()
    try:
        sent = 0
        while time.perf_counter() - started < max_seconds:
            async with engine.connect() as connection:
                sent = int(
                    await connection.scalar(
                        text("SELECT count(*) FROM outbox_messages WHERE status = 'sent'")
                    )
                    or 0
                )
            if sent >= queued:
                break
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
    finally:
        _stop(workers)
        smtp.stop()
    return OutboxResult(
        messages=sent,
        seconds=seconds,
        received=len(inbox.message_ids),
        distinct_message_ids=len(set(inbox.message_ids)),
        workers=WORKERS,
    )
