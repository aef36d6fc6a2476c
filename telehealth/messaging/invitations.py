"""Inviting referred patients to book: the worker takes open referrals not yet invited, queues
each patient's invitation (email and/or SMS, as they prefer) with their personal booking link,
and marks the referral invited, in one transaction: an invitation is queued exactly once, and a
crash before the commit leaves the referral to be invited again, with nothing queued.

The words are rendered here, when the invitation is queued (a referral has no appointment for
the outbox's renderer to read), and stored with the message. Privacy: an invitation names the
service and the see-by date, never the notes, the NHS number or the date of birth.

Closing the referral withdraws an invitation not sent yet (`withdraw`, in the close's
transaction); one already sent leads to a page saying the referral was closed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import outbox
from notifications.models import Channel, OutboxMessage, OutboxStatus
from scheduling import wording
from scheduling.models import Patient, Service, Site
from scheduling.referral_models import Priority, Referral, ReferralStatus
from telehealth.kernel import timefmt
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from telehealth.kernel.timefmt import LONDON
from telehealth.kernel.web.templating import TEMPLATES
from telehealth.messaging.patient_links import booking_expiry, booking_url
from telehealth.messaging.queue import patient_channels

BATCH = 200
KIND = "invitation"
# Said to the navigators' worklist when there is nowhere to send an invitation.
NO_ADDRESS = "no email address or mobile number to send the invitation to"
log = logging.getLogger("telehealth.messaging.invitations")

_text = Environment(loader=FileSystemLoader(TEMPLATES / "messages"), autoescape=False)
_html = Environment(
    loader=FileSystemLoader(TEMPLATES / "messages"), autoescape=select_autoescape(["html"])
)
for _env in (_text, _html):
    _env.filters["local_date"] = timefmt.day


@dataclass(frozen=True, slots=True)
class Invitation:
    """What an invitation says: nothing clinical, nothing that identifies the patient beyond
    their name."""

    patient_name: str
    service_name: str
    phrase: str
    see_by: date
    urgent: bool
    link: str
    valid_until: date
    phone: str | None

    def context(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def invitation_for(
    referral: Referral,
    patient: Patient,
    service: Service,
    site: Site | None,
    settings: Settings,
    *,
    today: date,
) -> Invitation:
    return Invitation(
        patient_name=f"{patient.given_name} {patient.family_name}",
        service_name=service.name,
        phrase=wording.service_phrase(service.name),
        see_by=referral.see_by,
        urgent=referral.priority != Priority.ROUTINE,
        link=booking_url(settings, referral.id, issued_on=today, see_by=referral.see_by),
        valid_until=booking_expiry(today, referral.see_by),
        phone=service.phone or (site.phone if site else None),
    )


def _message_id(settings: Settings, key: str) -> str:
    domain = settings.mail_from.rsplit("@", 1)[-1]
    return f"<{key.replace(':', '.')}.{secrets.token_hex(6)}@{domain}>"


def _dedupe_key(referral_id: int, channel: Channel) -> str:
    return f"referral{referral_id}:{KIND}:{channel.value}"


def messages_for(
    referral: Referral, patient: Patient, invitation: Invitation, settings: Settings
) -> list[outbox.NewMessage]:
    """One message per channel the patient wants; the dedupe key holds each to one."""
    context = invitation.context()
    found = []
    for channel, address in patient_channels(patient):
        key = _dedupe_key(referral.id, channel)
        common: dict[str, Any] = {
            "dedupe_key": key,
            "kind": KIND,
            "channel": channel.value,
            "recipient": address,
            "recipient_name": invitation.patient_name,
            "message_id": _message_id(settings, key),
            "facts": {"kind": KIND, "referral_id": referral.id},
        }
        if channel == Channel.SMS:
            body = _text.get_template("invitation_sms.txt").render(context).strip()
            found.append(outbox.NewMessage(**common, body_text=body))
            continue
        found.append(
            outbox.NewMessage(
                **common,
                subject=_text.get_template("invitation_subject.txt").render(context).strip(),
                body_text=_text.get_template("invitation.txt").render(context),
                body_html=_html.get_template("invitation.html").render(context),
            )
        )
    return found


_CLAIM = (
    select(Referral)
    .where(
        Referral.status == ReferralStatus.OPEN.value,
        Referral.invited_at.is_(None),
        Referral.appointment_id.is_(None),
        # A patient who has asked for help is the navigators' to book, not a message's.
        Referral.help_requested_at.is_(None),
    )
    .order_by(Referral.id)
)


async def invitations_from_referrals(
    session: AsyncSession, settings: Settings, *, limit: int = BATCH
) -> int:
    """Queue the invitations of up to `limit` referrals not yet invited and mark each invited;
    returns how many were done. Workers share them (SKIP LOCKED on PostgreSQL; SQLite
    serialises writers). Each referral in a savepoint: one that fails is logged and left to be
    tried again. The caller commits."""
    claim = _CLAIM.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        claim = claim.with_for_update(skip_locked=True, of=Referral)
    referrals = list(await session.scalars(claim))
    if not referrals:
        return 0
    patients = await _by_id(session, Patient, {r.patient_id for r in referrals})
    services = await _by_id(session, Service, {r.service_id for r in referrals})
    sites = await _by_id(session, Site, {s.usual_site_id for s in services.values()})
    now = utcnow()
    today = now.astimezone(LONDON).date()
    done = 0
    for referral in referrals:
        patient, service = patients[referral.patient_id], services[referral.service_id]
        try:
            async with session.begin_nested():
                invitation = invitation_for(
                    referral,
                    patient,
                    service,
                    sites.get(service.usual_site_id),
                    settings,
                    today=today,
                )
                messages = messages_for(referral, patient, invitation, settings)
                if messages:
                    await outbox.enqueue(session, messages)
                    referral.invited_at = now
                else:
                    # Nowhere to send it: the worklist shows the referral to a navigator.
                    referral.help_requested_at, referral.help_reason = now, NO_ADDRESS
                await session.flush()
        except Exception:
            log.exception("could not queue the invitation of referral %s", referral.id)
            continue
        done += 1
    return done


async def withdraw(session: AsyncSession, referral_id: int) -> int:
    """Cancel the referral's invitations still waiting to be sent; answers how many. One being
    sent right now (PostgreSQL: row locked by a worker, so this waits for it; SQLite: leased) or
    sent already is left as it is: its link then says the referral is closed."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.dedupe_key.in_([_dedupe_key(referral_id, c) for c in Channel]),
            OutboxMessage.status == OutboxStatus.PENDING.value,
        )
        .values(status=OutboxStatus.CANCELLED.value, last_error="the referral was closed")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _by_id(session: AsyncSession, entity: Any, ids: set[int]) -> dict[int, Any]:
    return {row.id: row for row in await session.scalars(select(entity).where(entity.id.in_(ids)))}


async def queue_invitations(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *, limit: int = BATCH
) -> int:
    """One batch of `invitations_from_referrals` in its own transaction."""
    async with sessionmaker() as session, session.begin():
        return await invitations_from_referrals(session, settings, limit=limit)
