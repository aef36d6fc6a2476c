"""The lost-link message: a patient who found their appointment on /find-appointment is sent
a fresh "Manage your appointment" link, to the email address or mobile number on record (as
they prefer to be contacted), never to an address typed on the page.

Queued as facts like every message about an appointment (`queue.facts_of`, the appointment as
it is now); the worker renders it (`render`), issuing the link on the day it writes it.
"""

from __future__ import annotations

import secrets

from notifications import outbox
from notifications.models import Channel
from notifications.outbox import Rendering
from scheduling.models import Appointment, Patient
from telehealth.kernel.config import Settings
from telehealth.messaging import queue
from telehealth.messaging.content import Snapshot, html_template, text_template
from telehealth.messaging.queue import facts_of

KIND = "lost_link"
SUBJECT = "Your link to manage your appointment"


def messages(a: Appointment, p: Patient, settings: Settings) -> list[outbox.NewMessage]:
    """One message per channel the patient is contacted by. Each request is its own message
    (a patient may ask twice); the lookup page's rate limits bound how many."""
    return queue.to_patient(
        p,
        settings,
        key=f"appt{a.id}:{KIND}:{secrets.token_hex(8)}",
        kind=KIND,
        facts=facts_of(a, kind=KIND, audience="patient"),
        appointment_id=a.id,
    )


def rendering(s: Snapshot, channel: str) -> Rendering:
    if channel == Channel.SMS:
        return Rendering(
            subject="", body_text=text_template("lost_link_sms.txt").render(s=s).strip()
        )
    return Rendering(
        subject=SUBJECT,
        body_text=text_template("lost_link.txt").render(s=s),
        body_html=html_template("lost_link.html").render(s=s),
    )
