"""Domain events: how a domain tells the features that something happened, without importing
them. Handlers run inside the publisher's transaction, so what they write (an outbox message,
a travel record) commits or rolls back with the change itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class AppointmentChanged:
    appointment_id: int
    change: str  # booked, rescheduled, cancelled, status
    previous_sequence: int | None = None


Handler = Callable[[AsyncSession, AppointmentChanged], Awaitable[None]]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers[name]:
        _handlers[name].remove(handler)


async def publish(session: AsyncSession, event: AppointmentChanged) -> None:
    for handler in _handlers["appointment"]:
        await handler(session, event)
