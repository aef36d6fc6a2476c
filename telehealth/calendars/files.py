"""Each clinician's private calendar feed (secret token they can reset; stored hashed). A
patient's invite link is `telehealth.messaging.invite_links`, with the messages that carry it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from notifications.invites import Invite, build_feed
from scheduling import wording
from scheduling.models import Appointment, Service, Site, Status, VideoRoom
from telehealth.kernel.config import Settings
from telehealth.kernel.db import Base, UTCDateTime, utcnow

FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=400)


class CalendarFeed(Base):
    __tablename__ = "calendar_feeds"

    clinician_id: Mapped[int] = mapped_column(
        ForeignKey("clinicians.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def reset_feed(session: AsyncSession, clinician_id: int) -> str:
    """A new secret for the clinician's feed; the old URL stops working at once."""
    token = secrets.token_urlsafe(32)
    feed = await session.get(CalendarFeed, clinician_id)
    if feed is None:
        session.add(CalendarFeed(clinician_id=clinician_id, token_hash=_hash(token)))
    else:
        feed.token_hash = _hash(token)
        feed.created_at = utcnow()
    await session.flush()
    return token


async def feed_owner(session: AsyncSession, token: str) -> int | None:
    return await session.scalar(
        select(CalendarFeed.clinician_id).where(CalendarFeed.token_hash == _hash(token))
    )


async def clinician_feed(
    session: AsyncSession, clinician_id: int, *, name: str, settings: Settings
) -> bytes:
    """The clinician's appointments, cancelled ones kept as STATUS:CANCELLED. Events name the
    service and the booking reference only: a feed URL can end up in places an invite does not."""
    now = utcnow()
    rows = await session.execute(
        select(Appointment, Service, Site, VideoRoom.name)
        .join(Service, Service.id == Appointment.service_id)
        .outerjoin(Site, Site.id == Appointment.site_id)
        .outerjoin(VideoRoom, VideoRoom.id == Appointment.room_id)
        .where(
            Appointment.clinician_id == clinician_id,
            Appointment.starts_at >= now - FEED_PAST,
            Appointment.starts_at < now + FEED_FUTURE,
            Appointment.status != Status.ENTERED_IN_ERROR,
        )
        .order_by(Appointment.starts_at)
    )
    events = [_feed_event(a, service, site, room, settings) for a, service, site, room in rows]
    return build_feed(events, name=name)


def _feed_event(
    a: Appointment, service: Service, site: Site | None, room: str | None, settings: Settings
) -> Invite:
    """One appointment in a clinician's feed, in people's words ("Video call from home")."""
    how = wording.how(a.mode, place=site.name if site else None, medium=a.medium)
    cancelled = a.status == Status.CANCELLED
    video = a.mode != "in_person" and a.medium != wording.TELEPHONE
    if cancelled:
        note = "Cancelled."
    elif a.medium == wording.TELEPHONE:
        note = "By telephone: phone the patient."
    elif video:
        note = "Start the call from your clinic screen."
    else:
        note = "In person."
    if site is None or a.medium == wording.TELEPHONE:
        where = how
    else:
        where = ", ".join(p for p in (site.name, room, site.postcode) if p)
    return Invite(
        uid=a.uid,
        sequence=a.sequence,
        method="CANCEL" if cancelled else "REQUEST",
        start=a.starts_at,
        end=a.ends_at,
        summary=f"{service.name}, {wording.lower_first(how)}, ref {a.reference}",
        location=where,
        organizer_email=settings.mail_from,
        organizer_name=settings.mail_from_name,
        attendees=(),
        join_url=f"{settings.public_base_url}/staff/clinic" if video and not cancelled else None,
        description=f"Booking reference {a.reference}. {note}",
        reminder=None,
    )
