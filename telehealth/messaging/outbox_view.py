"""What the staff outbox pages read and change: the messages a member of staff may see (about
appointments `scheduling.access` lets them see), a page of them, a failed one sent again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import OutboxMessage, OutboxStatus
from scheduling.access import scope_of
from scheduling.models import Appointment
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.db import utcnow

PAGE = 100


async def _visible(session: AsyncSession, user: StaffUser) -> ColumnElement[bool]:
    scope = await scope_of(session, user)
    if scope.everyone:
        return true()
    return OutboxMessage.appointment_id.in_(select(Appointment.id).where(scope.appointments()))


@dataclass(frozen=True, slots=True)
class Listing:
    messages: list[OutboxMessage]
    counts: dict[str, int]  # every visible message by status, whatever the page shows


async def listing(
    session: AsyncSession, user: StaffUser, *, status: str | None, page: int
) -> Listing:
    """One page of the visible messages (newest first), in `status` if given."""
    theirs = await _visible(session, user)
    statement = (
        select(OutboxMessage)
        .where(theirs)
        .order_by(OutboxMessage.id.desc())
        .limit(PAGE)
        .offset((page - 1) * PAGE)
    )
    if status:
        statement = statement.where(OutboxMessage.status == status)
    messages = list(await session.scalars(statement))
    counts = await session.execute(
        select(OutboxMessage.status, func.count()).where(theirs).group_by(OutboxMessage.status)
    )
    return Listing(messages, {name: count for name, count in counts.all()})


async def visible_message(
    session: AsyncSession, user: StaffUser, message_id: int
) -> OutboxMessage | None:
    return await session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, await _visible(session, user))
    )


async def retry_failed(session: AsyncSession, user: StaffUser, message_id: int) -> bool:
    """Send a failed message again from its first attempt; False if `user` cannot see it. A
    message no longer failed (sent meanwhile) is left as it is."""
    visible = await session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.id == message_id, await _visible(session, user)
        )
    )
    if visible is None:
        return False
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.FAILED.value,
        )
        .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=utcnow())
    )
    return True
