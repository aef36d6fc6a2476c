"""What patients and clinicians are told when an appointment is booked, moved or cancelled,
and the reminders before it.

Two halves: `queue` runs inside the change's own transaction (a domain event handler) and
writes one small outbox row per message holding the facts as they are at that moment, so the
messages exist if and only if the change commits; `render` runs in the worker and turns those
facts into text, HTML and calendar invites, keeping template work out of booking requests.

Privacy: messages and invites name the service, never a condition, and carry no NHS number,
date of birth, address or phone number of the patient.
"""

from telehealth.messaging.content import Snapshot, invite, snapshot
from telehealth.messaging.queue import on_appointment_changed
from telehealth.messaging.render import render

__all__ = ["Snapshot", "invite", "on_appointment_changed", "render", "snapshot"]
