"""Community hubs' video rooms: listing, and taking a room out of service for a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, RoomClosure, VideoRoom, is_active
from telehealth.kernel.errors import InvalidInput, NotFound


async def list_rooms(session: AsyncSession, site_id: int) -> list[VideoRoom]:
    return list(
        await session.scalars(
            select(VideoRoom).where(VideoRoom.site_id == site_id).order_by(VideoRoom.id)
        )
    )


async def require_room(session: AsyncSession, site_id: int, room_id: int) -> VideoRoom:
    room = await session.get(VideoRoom, room_id)
    if room is None or room.site_id != site_id:
        raise NotFound(f"site {site_id} has no video room {room_id}")
    return room


async def close_room(
    session: AsyncSession,
    room: VideoRoom,
    *,
    start: datetime,
    end: datetime,
    reason: str,
    user_id: int | None,
) -> tuple[RoomClosure, list[Appointment]]:
    """Close the room and return the bookings it holds in that period. They are not moved or
    cancelled here: staff rebook each with the patient, so nobody is dropped silently."""
    if end <= start:
        raise InvalidInput.field("end", "must be after start")
    closure = RoomClosure(
        room_id=room.id, starts_at=start, ends_at=end, reason=reason, created_by_user_id=user_id
    )
    session.add(closure)
    await session.flush()
    return closure, await affected_by(session, closure)


async def affected_by(session: AsyncSession, closure: RoomClosure) -> list[Appointment]:
    return list(
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.room_id == closure.room_id,
                Appointment.starts_at < closure.ends_at,
                Appointment.ends_at > closure.starts_at,
                is_active(Appointment.status),
            )
            .order_by(Appointment.starts_at)
        )
    )


async def add_room(session: AsyncSession, site_id: int) -> VideoRoom:
    """One more video room at a hub, named after how many it has had ("Video room 3")."""
    count = len(await list_rooms(session, site_id))
    room = VideoRoom(site_id=site_id, name=f"Video room {count + 1}")
    session.add(room)
    await session.flush()
    return room


async def closures_from(
    session: AsyncSession, site_id: int, since: datetime
) -> list[tuple[RoomClosure, str]]:
    """The hub's room closures still to end, with their room's name, soonest first."""
    rows = await session.execute(
        select(RoomClosure, VideoRoom.name)
        .join(VideoRoom, VideoRoom.id == RoomClosure.room_id)
        .where(VideoRoom.site_id == site_id, RoomClosure.ends_at > since)
        .order_by(RoomClosure.starts_at)
    )
    return [(row[0], row[1]) for row in rows]
