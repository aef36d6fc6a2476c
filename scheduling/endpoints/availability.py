from __future__ import annotations

from starlette.responses import Response

from scheduling import availability, directory, rebooking
from scheduling.access import Access
from scheduling.directory_schemas import (
    ExceptionIn,
    ExceptionList,
    LeaveCreatedOut,
    SessionIn,
    SessionOut,
    SessionRemovedOut,
    ToRebookList,
    ToRebookQuery,
)
from scheduling.endpoints import router
from scheduling.endpoints.directory import to_rebook_out
from scheduling.models import Clinician
from scheduling.slot_inputs import local_window
from telehealth.kernel.api import ALL_STAFF, PATIENT_FACING, Context
from telehealth.kernel.auth.models import Role
from telehealth.kernel.errors import Forbidden

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
    response=SessionRemovedOut,
    errors=(404,),
)
async def delete_session(ctx: Context) -> SessionRemovedOut:
    """Booked appointments in the session keep their times: those left outside every session
    are listed, for staff to rebook."""
    clinician = await _managed_clinician(ctx)
    affected = await availability.delete_session(
        ctx.session, clinician_id=clinician.id, session_id=ctx.path_int("session_id")
    )
    return SessionRemovedOut(appointments_affected=to_rebook_out(affected))


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
    response=LeaveCreatedOut | SessionOut,
    status=201,
    errors=(404,),
)
async def create_exception(ctx: Context, body: ExceptionIn) -> LeaveCreatedOut | SessionOut:
    """Leave answers with the booked appointments it falls over: they keep their times (and
    are listed at /appointments/to-rebook) until staff rebook them with the patient."""
    clinician = await _managed_clinician(ctx)
    if body.kind == "extra":
        return await availability.create_session(
            ctx.session, clinician_id=clinician.id, data=body.as_session()
        )
    leave, affected = await availability.create_leave(
        ctx.session, clinician_id=clinician.id, data=body
    )
    return LeaveCreatedOut(**leave.model_dump(), appointments_affected=to_rebook_out(affected))


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


@router.operation(
    "GET",
    "/appointments/to-rebook",
    summary="List appointments to rebook",
    roles=PATIENT_FACING,
    tag="appointments",
    query=ToRebookQuery,
    response=ToRebookList,
)
async def list_to_rebook(ctx: Context, query: ToRebookQuery) -> ToRebookList:
    """Booked appointments from now on (or in the dates given) that no longer fit: their
    clinician's leave or a closed video room falls over them, or their clinician's sessions
    or service changed so they fall outside a session or run into the next appointment, or
    the clinician, service or site was withdrawn. Each comes with every reason."""
    start = local_window(query.start, query.start).start if query.start else None
    end = None
    if query.end is not None:
        try:
            end = local_window(query.end, query.end).end
        except OverflowError:  # the last date there is: no end
            end = None
    access = Access(ctx.session, ctx.user)
    found = await rebooking.to_rebook(
        ctx.session,
        among=await access.appointments_where(),
        start=start,
        end=end,
        clinician_id=query.clinician_id,
        service_id=query.service_id,
        site_id=query.site_id,
    )
    page = found[query.offset : query.offset + query.limit]
    await access.audit(
        "appointment.list",
        "appointment",
        None,
        {"to_rebook": [item.appointment.id for item in page]},
    )
    return ToRebookList(items=to_rebook_out(page), limit=query.limit, offset=query.offset)
