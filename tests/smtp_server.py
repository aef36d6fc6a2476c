"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import socket
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """Accepts everything, unless told to refuse: `refusals` maps a recipient's local part to
    the stage ("rcpt" or "data") and the reply to refuse it with, e.g. ("rcpt", "450 busy").
    With a `delay`, each DATA is answered that many seconds after it arrives, as a slow relay
    would: a sender killed meanwhile has delivered a message it never heard was accepted."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.refusals: dict[str, tuple[str, str]] = {}
        self.messages: list[Message] = []

    def _refusal(self, address: str, stage: str) -> str | None:
        found = self.refusals.get(address.split("@")[0])
        return found[1] if found and found[0] == stage else None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        refused = self._refusal(address, "rcpt")
        if refused:
            return refused
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for address in envelope.rcpt_tos:
            refused = self._refusal(address, "data")
            if refused:
                return refused
        self.messages.append(email.message_from_bytes(envelope.original_content))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in list(self.messages)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    """Start, stop and start again on the same port, like a mail relay that goes away."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.inbox = Inbox(delay=delay)
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
