"""`telehealth worker`: turns appointment changes into messages, invites referred patients to
book, delivers the outbox with the senders the settings call for, and keeps travel records up
to date."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import worker
from notifications.delivery import FolderSender, NotifySmsSender, Sender, SmtpSender, SmtpSettings
from notifications.models import Channel
from telehealth import messaging
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.messaging.invitations import queue_invitations
from telehealth.travel import records
from telehealth.travel.estimators import OsrmEstimator

log = logging.getLogger("telehealth.worker")
TRAVEL_POLL_SECONDS = 5.0
# A confirmation should reach the patient while they are still on the phone to the navigator.
CHANGES_POLL_SECONDS = 1.0
# A referral recorded on the phone: the patient's invitation should arrive before they hang up.
INVITATIONS_POLL_SECONDS = 2.0


def senders_from(settings: Settings) -> dict[str, Sender]:
    """SMTP when configured; otherwise (development) .eml files in the outbox folder. SMS goes
    through GOV.UK Notify when a key and template are set, else to the same folder."""
    folder = FolderSender(
        Path(settings.outbox_dir), sender=settings.mail_from, sender_name=settings.mail_from_name
    )
    if settings.smtp_host:
        email: Sender = SmtpSender(
            SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                tls=settings.smtp_tls,
                username=settings.smtp_username,
                password=settings.smtp_password,
                sender=settings.mail_from,
                sender_name=settings.mail_from_name,
            )
        )
    elif settings.is_development:
        email = folder
    else:
        raise RuntimeError("SMTP_HOST must be set outside development")
    sms: Sender = folder
    if settings.notify_api_key and settings.notify_sms_template_id:
        sms = NotifySmsSender(settings.notify_api_key, settings.notify_sms_template_id)
    elif not settings.is_development:
        raise RuntimeError(
            "NOTIFY_API_KEY and NOTIFY_SMS_TEMPLATE_ID must be set outside development"
        )
    return {Channel.EMAIL.value: email, Channel.SMS.value: sms}


async def _poll(
    what: str, step: Callable[[], Awaitable[int]], *, seconds: float, stop: asyncio.Event
) -> None:
    """Run `step` until `stop`; when it finds nothing to do, wait `seconds` first."""
    while not stop.is_set():
        try:
            done = await step()
        except Exception:  # the database may be restarting: wait and try again
            log.exception("%s failed; retrying shortly", what)
            done = 0
        if done == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _travel_loop(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *, stop: asyncio.Event
) -> None:
    """Keeps every appointment's travel record in step with its latest change."""
    async with httpx.AsyncClient() as client:
        extra = [OsrmEstimator(settings.osrm_url, client)] if settings.osrm_url else []
        step = partial(records.refresh, sessionmaker, extra=extra)
        await _poll("travel refresh", step, seconds=TRAVEL_POLL_SECONDS, stop=stop)


async def run(settings: Settings, *, once: bool = False) -> None:
    engine = create_engine(settings.database_url, **settings.engine_options)
    sessionmaker = make_sessionmaker(engine)
    senders = senders_from(settings)
    try:
        render = partial(messaging.render, settings=settings)
        if once:
            while await messaging.queue_messages(sessionmaker, settings):
                pass
            while await queue_invitations(sessionmaker, settings):
                pass
            tally = await worker.run_once(
                sessionmaker,
                senders,
                batch=1000,
                render=render,
                concurrency=settings.worker_concurrency,
            )
            print(
                f"sent {tally.sent}, retrying {tally.retrying}, failed {tally.failed}, "
                f"superseded {tally.cancelled}, unrecorded {tally.unrecorded}"
            )
            travel = await records.refresh(sessionmaker, limit=100_000)
            print(f"travel records brought up to date: {travel}")
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("worker started")
        queue = partial(messaging.queue_messages, sessionmaker, settings)
        invite = partial(queue_invitations, sessionmaker, settings)
        await asyncio.gather(
            _poll("queueing messages", queue, seconds=CHANGES_POLL_SECONDS, stop=stop),
            _poll("queueing invitations", invite, seconds=INVITATIONS_POLL_SECONDS, stop=stop),
            worker.run(
                sessionmaker,
                senders,
                stop=stop,
                render=render,
                concurrency=settings.worker_concurrency,
            ),
            _travel_loop(sessionmaker, settings, stop=stop),
        )
        log.info("worker stopped")
    finally:
        await engine.dispose()
