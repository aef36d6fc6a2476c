"""What patients and clinicians are told when an appointment is booked, moved or cancelled,
and the reminders before it.

Two halves, both in the worker: `queue` turns the change feed the database keeps (every
booking, move and cancellation, recorded by a trigger in the change's own transaction, so a
change exists if and only if it commits) into one small outbox row per message holding the
facts of that change; `render` turns those facts into text, HTML and calendar invites. A
booking request writes neither.

Privacy: messages and invites name the service, never a condition, and carry no NHS number,
date of birth, address or phone number of the patient.
"""

from telehealth.messaging.content import Snapshot, invite, snapshot
from telehealth.messaging.queue import messages_from_changes, queue_messages
from telehealth.messaging.render import render

__all__ = [
    "Snapshot",
    "invite",
    "messages_from_changes",
    "queue_messages",
    "render",
    "snapshot",
]
