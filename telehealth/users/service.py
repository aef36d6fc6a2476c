"""What the staff user administration reads beyond the accounts themselves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Clinician


async def clinician_links(session: AsyncSession, user_ids: list[int]) -> dict[int, int]:
    """The clinician record each of these logins is linked to, by user id (unlinked: absent)."""
    rows = await session.execute(
        select(Clinician.user_id, Clinician.id).where(Clinician.user_id.in_(user_ids))
    )
    return {user_id: clinician_id for user_id, clinician_id in rows if user_id is not None}
