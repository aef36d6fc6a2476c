"""What the clinic and reception screens read to choose what they show: a clinician's own
record, the clinicians to pick from, and the hubs a member of staff works at."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.access import scope_of
from scheduling.models import Clinician, Site, SiteKind
from telehealth.kernel.auth.models import StaffUser


async def clinician_of(session: AsyncSession, user: StaffUser) -> Clinician | None:
    """The clinician record linked to this login, if an admin has linked one."""
    return await session.scalar(select(Clinician).where(Clinician.user_id == user.id))


async def clinician(session: AsyncSession, clinician_id: int) -> Clinician | None:
    return await session.get(Clinician, clinician_id)


async def clinicians(session: AsyncSession) -> list[Clinician]:
    return list(await session.scalars(select(Clinician).order_by(Clinician.name)))


async def hubs_for(session: AsyncSession, user: StaffUser) -> list[Site]:
    """The hubs this member of staff works at (every hub for an admin)."""
    scope = await scope_of(session, user)
    statement = select(Site).where(Site.kind == SiteKind.COMMUNITY_HUB.value).order_by(Site.name)
    if not scope.everyone:
        statement = statement.where(Site.id.in_(scope.hub_ids))
    return list(await session.scalars(statement))
