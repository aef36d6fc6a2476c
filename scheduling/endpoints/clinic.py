from __future__ import annotations

from scheduling import clinic, rooms
from scheduling.access import Access
from scheduling.endpoints import router
from scheduling.schemas import (
    AppointmentOut,
    ClosureIn,
    ClosureOut,
    EventOut,
    MessageIn,
    RoomOut,
    StatusChangeIn,
)
from scheduling.slots import to_london
from scheduling.transitions import Action
from telehealth.kernel.api import ALL_STAFF, PATIENT_FACING, Context
from telehealth.kernel.auth.models import Role


def event_out(e: object) -> EventOut:
    return EventOut.model_validate(e, from_attributes=True)


@router.operation(
    "POST",
    "/appointments/{appointment_id}/status",
    summary="Change an appointment's status",
    roles=PATIENT_FACING,
    tag="clinic",
    body=StatusChangeIn,
    response=AppointmentOut,
    errors=(404, 409),
)
async def change_status(ctx: Context, body: StatusChangeIn) -> AppointmentOut:
    """Check in, arrive, start the call, finish, did not attend, switch to telephone, cancel."""
    appointment = await clinic.staff_action(
        Access(ctx.session, ctx.user),
        appointment_id=ctx.path_int("appointment_id"),
        action=Action(body.action),
        reason=body.reason,
    )
    return AppointmentOut.model_validate(appointment)


@router.operation(
    "POST",
    "/appointments/{appointment_id}/messages",
    summary="Send a short message to the waiting patient",
    roles=(Role.ADMIN, Role.CLINICIAN),
    tag="clinic",
    body=MessageIn,
    response=EventOut,
    status=201,
    errors=(404, 409),
)
async def send_message(ctx: Context, body: MessageIn) -> EventOut:
    appointment = await Access(ctx.session, ctx.user).appointment(
        ctx.path_int("appointment_id"), action="appointment.message"
    )
    event = await clinic.send_message(
        ctx.session, appointment, body.message, actor_user_id=ctx.user.id
    )
    return event_out(event)


@router.operation(
    "GET",
    "/appointments/{appointment_id}/history",
    summary="An appointment's history",
    roles=PATIENT_FACING,
    tag="clinic",
    response=list[EventOut],
    errors=(404,),
)
async def history(ctx: Context) -> list[EventOut]:
    appointment = await Access(ctx.session, ctx.user).appointment(
        ctx.path_int("appointment_id"), action="appointment.history"
    )
    return [event_out(e) for e in await clinic.history(ctx.session, appointment.id)]


@router.operation(
    "GET",
    "/sites/{site_id}/rooms",
    summary="A hub's video rooms",
    roles=ALL_STAFF,
    tag="rooms",
    response=list[RoomOut],
    errors=(404,),
)
async def list_rooms(ctx: Context) -> list[RoomOut]:
    return [
        RoomOut.model_validate(r, from_attributes=True)
        for r in await rooms.list_rooms(ctx.session, ctx.path_int("site_id"))
    ]


@router.operation(
    "POST",
    "/sites/{site_id}/rooms/{room_id}/closures",
    summary="Take a video room out of service for a period",
    roles=(Role.ADMIN, Role.RECEPTION),
    tag="rooms",
    body=ClosureIn,
    response=ClosureOut,
    status=201,
    errors=(404,),
)
async def close_room(ctx: Context, body: ClosureIn) -> ClosureOut:
    site_id = ctx.path_int("site_id")
    await Access(ctx.session, ctx.user).may_use_hub(site_id)
    room = await rooms.require_room(ctx.session, site_id, ctx.path_int("room_id"))
    closure, affected = await rooms.close_room(
        ctx.session,
        room,
        start=body.start,
        end=body.end,
        reason=body.reason,
        user_id=ctx.user.id,
    )
    return ClosureOut(
        id=closure.id,
        room_id=room.id,
        start=to_london(closure.starts_at),
        end=to_london(closure.ends_at),
        reason=closure.reason,
        to_rebook=[a.id for a in affected],
    )
