"""The route serving a patient's calendar invite from its signed link (`invite_links`), built
by `content.invite` from the appointment as it is now."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling.models import Appointment, Status
from telehealth.kernel.config import Settings
from telehealth.kernel.openapi import ICALENDAR, file_path
from telehealth.kernel.transactions import run_in_transaction
from telehealth.messaging.content import Snapshot, invite, snapshot
from telehealth.messaging.invite_links import read_invite_token
from telehealth.video.pages import not_found


async def invite_file(request: Request) -> Response:
    """The patient's invite in its current state: moved or cancelled appointments give the
    current REQUEST or the CANCEL, so re-importing it always puts the calendar right."""
    settings: Settings = request.app.state.settings
    appointment_id = read_invite_token(settings, request.path_params["token"])
    if appointment_id is None:
        return not_found(request)

    async def read(session: AsyncSession) -> tuple[Appointment, Snapshot] | None:
        appointment = await session.get(Appointment, appointment_id)
        if appointment is None:
            return None
        return appointment, await snapshot(session, appointment_id, settings)

    found = await run_in_transaction(request, read)
    if found is None:
        return not_found(request)
    appointment, s = found
    method = "CANCEL" if appointment.status == Status.CANCELLED else "REQUEST"
    return Response(
        invite(s, method=method, for_clinician=False),
        media_type=ICALENDAR,
        headers={
            "Content-Disposition": f'attachment; filename="appointment-{appointment.reference}.ics"'
        },
    )


OPENAPI_PATHS = {
    "/invite/{token}.ics": file_path(
        "A patient's invite", "The signed link from the confirmation; always the current state."
    ),
}


def routes() -> list[Route]:
    return [Route("/invite/{token}.ics", invite_file, methods=["GET"])]
