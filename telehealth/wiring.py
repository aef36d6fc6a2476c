"""Connects the features to the domains' events. Every entry point calls `install` (the app,
the CLI, the worker, the tests): a process that books appointments must also queue their
messages."""

from __future__ import annotations

from functools import partial

from telehealth import events, messaging
from telehealth.config import Settings

_installed: dict[str, events.Handler] = {}


def install(settings: Settings) -> None:
    """Idempotent; the latest settings win (tests build apps with their own settings)."""
    previous = _installed.pop("messaging", None)
    if previous is not None:
        events.unsubscribe("appointment", previous)
    handler = partial(messaging.on_appointment_changed, settings=settings)
    events.subscribe("appointment", handler)
    _installed["messaging"] = handler
