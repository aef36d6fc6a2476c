from __future__ import annotations

from starlette.responses import Response

from scheduling import availability, directory
from scheduling.directory_schemas import ExceptionIn, ExceptionList, LeaveOut, SessionIn, SessionOut
from scheduling.endpoints import router
from scheduling.models import Clinician
from telehealth.api import ALL_STAFF, Context
from telehealth.auth.models import Role
from telehealth.errors import Forbidden

MANAGERS = (Role.ADMIN, Role.CLINICIAN)


async def _managed_clinician(ctx: Context) -> Clinician:
    """Admins manage anyone's availability; a clinician only their own."""
    clinician = await directory.get_clinician(ctx.session, ctx.path_int("clinician_id"))
    if ctx.user.role != Role.ADMIN and clinician.user_id != ctx.user.id:
        raise Forbidden("clinicians manage only their own availability")
    return clinician


@router.operation(
    "GET",
    "/clinicians/{clinician_id}/sessions",
    summary="List a clinician's sessions",
    roles=ALL_STAFF,
    tag="availability",
    response=list[SessionOut],
    errors=(404,),
)
async def list_sessions(ctx: Context) -> list[SessionOut]:
    clinician = await directory.get_clinician(ctx.session, ctx.path_int("clinician_id"))
    return await availability.list_sessions(ctx.session, clinician_id=clinician.id)


@router.operation(
    "POST",
    "/clinicians/{clinician_id}/sessions",
    summary="Add a session",
    roles=MANAGERS,
    tag="availability",
    body=SessionIn,
    response=SessionOut,
    status=201,
    errors=(404,),
)
async def create_session(ctx: Context, body: SessionIn) -> SessionOut:
    clinician = await _managed_clinician(ctx)
    return await availability.create_session(ctx.session, clinician_id=clinician.id, data=body)


@router.operation(
    "DELETE",
    "/clinicians/{clinician_id}/sessions/{session_id}",
    summary="Remove a session",
    roles=MANAGERS,
    tag="availability",
    status=204,
    errors=(404,),
)
async def delete_session(ctx: Context) -> Response:
    clinician = await _managed_clinician(ctx)
    await availability.delete_session(
        ctx.session, clinician_id=clinician.id, session_id=ctx.path_int("session_id")
    )
    return Response(status_code=204)


@router.operation(
    "GET",
    "/clinicians/{clinician_id}/exceptions",
    summary="List a clinician's leave and extra sessions",
    roles=ALL_STAFF,
    tag="availability",
    response=ExceptionList,
    errors=(404,),
)
async def list_exceptions(ctx: Context) -> ExceptionList:
    clinician = await directory.get_clinician(ctx.session, ctx.path_int("clinician_id"))
    return await availability.list_exceptions(ctx.session, clinician_id=clinician.id)


@router.operation(
    "POST",
    "/clinicians/{clinician_id}/exceptions",
    summary="Add leave or a one-off extra session",
    roles=MANAGERS,
    tag="availability",
    body=ExceptionIn,
    response=LeaveOut | SessionOut,
    status=201,
    errors=(404,),
)
async def create_exception(ctx: Context, body: ExceptionIn) -> LeaveOut | SessionOut:
    clinician = await _managed_clinician(ctx)
    return await availability.create_exception(ctx.session, clinician_id=clinician.id, data=body)


@router.operation(
    "DELETE",
    "/clinicians/{clinician_id}/exceptions/{leave_id}",
    summary="Remove leave",
    roles=MANAGERS,
    tag="availability",
    status=204,
    errors=(404,),
)
async def delete_exception(ctx: Context) -> Response:
    clinician = await _managed_clinician(ctx)
    await availability.delete_leave(
        ctx.session, clinician_id=clinician.id, leave_id=ctx.path_int("leave_id")
    )
    return Response(status_code=204)
