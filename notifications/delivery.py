"""Turning outbox rows into email and SMS, and the senders that deliver them.

Senders sit behind one small interface: SMTP (aiosmtplib) and GOV.UK Notify for real, a
folder of .eml files for development, and memory for tests.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib

from notifications.models import Channel, OutboxMessage


class DeliveryError(Exception):
    """`permanent` means retrying cannot help (a refused address); otherwise retry later."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, message: OutboxMessage) -> None: ...


def recipient_of(message: OutboxMessage) -> Address:
    """The one address an email goes to; one that cannot be an address is never retried."""
    try:
        return Address(display_name=message.recipient_name, addr_spec=message.recipient)
    except (ValueError, IndexError, MessageError) as exc:  # what the parser raises, by case
        raise DeliveryError(
            f"invalid recipient {message.recipient!r}: {exc}", permanent=True
        ) from exc


def build_email(message: OutboxMessage, *, sender: str, sender_name: str) -> EmailMessage:
    if message.body_text is None:
        raise DeliveryError("the message was never rendered", permanent=True)
    mail = EmailMessage()
    mail["Message-ID"] = message.message_id
    mail["Date"] = format_datetime(message.created_at)
    mail["From"] = formataddr((sender_name, sender))
    mail["To"] = recipient_of(message)
    mail["Subject"] = message.subject
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    if message.calendar is not None and message.calendar_method:
        # The calendar as an alternative with its iTIP method is what Outlook, Gmail and
        # Apple Mail act on; the attachment is for clients that only offer to open a file.
        mail.add_alternative(
            message.calendar.decode(),
            subtype="calendar",
            params={"method": message.calendar_method},
        )
        mail.make_mixed()
        mail.add_attachment(
            message.calendar, maintype="application", subtype="ics", filename="invite.ics"
        )
    return mail


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    tls: str = "starttls"  # starttls | tls | none
    username: str = ""
    password: str = ""
    sender: str = "appointments@bay-telehealth.invalid"
    sender_name: str = "Bay Telehealth"
    timeout: float = 30.0


@dataclass
class SmtpSender:
    settings: SmtpSettings

    async def send(self, message: OutboxMessage) -> None:
        s = self.settings
        mail = build_email(message, sender=s.sender, sender_name=s.sender_name)
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.host,
                port=s.port,
                use_tls=s.tls == "tls",
                start_tls=s.tls == "starttls",
                username=s.username or None,
                password=s.password or None,
                timeout=s.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(
                f"recipient refused: {'; '.join(f'{r.code} {r.message}' for r in exc.recipients)}",
                permanent=all(code >= 500 for code in codes),
            ) from exc
        except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError) as exc:
            # A 5xx to this message's MAIL or DATA refuses the message itself (its size, its
            # content); a 4xx asks to try again later.
            raise DeliveryError(
                f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # Refused before any message (greeting, HELO, AUTH): the relay or its settings,
            # which someone can fix, not this message.
            raise DeliveryError(f"SMTP {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP server unreachable: {exc}") from exc


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class FolderSender:
    """Development delivery: each message becomes a file. Named by Message-ID, so sending the
    same message twice rewrites one file instead of making two."""

    directory: Path
    sender: str = "appointments@bay-telehealth.invalid"
    sender_name: str = "Bay Telehealth"

    async def send(self, message: OutboxMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = _UNSAFE.sub("_", message.message_id.strip("<>"))
        if message.channel == Channel.SMS:
            path = self.directory / f"{stem}.sms.txt"
            content = f"To: {message.recipient}\n\n{message.body_text or ''}\n".encode()
        else:
            path = self.directory / f"{stem}.eml"
            content = bytes(build_email(message, sender=self.sender, sender_name=self.sender_name))
        await asyncio.to_thread(path.write_bytes, content)


@dataclass
class NotifySmsSender:
    """GOV.UK Notify. Its client is synchronous and not thread-safe: one client, one call at a
    time, in a worker thread. The reference carries no personal data, only the outbox id."""

    api_key: str
    template_id: str
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _client: Any = None

    async def send(self, message: OutboxMessage) -> None:
        from notifications_python_client.errors import HTTPError
        from notifications_python_client.notifications import NotificationsAPIClient

        if self._client is None:
            self._client = NotificationsAPIClient(self.api_key)  # type: ignore[no-untyped-call]
        async with self._lock:
            try:
                await asyncio.to_thread(
                    self._client.send_sms_notification,
                    phone_number=message.recipient,
                    template_id=self.template_id,
                    personalisation={"body": message.body_text or ""},
                    reference=f"outbox-{message.id}",
                )
            except HTTPError as exc:
                status = getattr(exc, "status_code", 0) or 0
                raise DeliveryError(
                    f"Notify {status}: {exc}", permanent=400 <= status < 500 and status != 429
                ) from exc
            except OSError as exc:
                raise DeliveryError(f"Notify unreachable: {exc}") from exc
