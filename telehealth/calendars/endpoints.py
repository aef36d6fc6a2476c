"""Routes for calendar files: a patient's invite, a clinician's feed, and resetting the feed."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling import directory
from scheduling.models import Appointment, Status
from telehealth import messaging
from telehealth.calendars import files as calendars
from telehealth.kernel import audit
from telehealth.kernel.api import ApiRouter, Context
from telehealth.kernel.auth.models import Role
from telehealth.kernel.config import Settings
from telehealth.kernel.errors import Forbidden
from telehealth.kernel.transactions import run_in_transaction
from telehealth.messaging import invite_links
from telehealth.video.pages import not_found

router = ApiRouter()
ICS = "text/calendar; charset=utf-8"


class FeedOut(BaseModel):
    webcal_url: str
    https_url: str


@router.operation(
    "POST",
    "/clinicians/{clinician_id}/calendar-feed",
    summary="Create or reset a clinician's private calendar feed",
    roles=(Role.ADMIN, Role.CLINICIAN),
    tag="calendars",
    response=FeedOut,
    status=201,
    errors=(404,),
)
async def reset_feed(ctx: Context) -> FeedOut:
    """Returns the feed's URL once; any earlier URL stops working."""
    clinician = await directory.get_clinician(ctx.session, ctx.path_int("clinician_id"))
    if ctx.user.role != Role.ADMIN and clinician.user_id != ctx.user.id:
        raise Forbidden("clinicians manage only their own calendar feed")
    token = await calendars.reset_feed(ctx.session, clinician.id)
    https = f"{ctx.settings.public_base_url}/calendar/{token}.ics"
    return FeedOut(webcal_url="webcal://" + https.split("://", 1)[1], https_url=https)


async def invite_file(request: Request) -> Response:
    """The patient's invite in its current state: moved or cancelled appointments give the
    current REQUEST or the CANCEL, so re-importing it always puts the calendar right."""
    settings: Settings = request.app.state.settings
    appointment_id = invite_links.read_invite_token(settings, request.path_params["token"])
    if appointment_id is None:
        return not_found(request)

    async def read(session: AsyncSession) -> tuple[Appointment, messaging.Snapshot] | None:
        appointment = await session.get(Appointment, appointment_id)
        if appointment is None:
            return None
        return appointment, await messaging.snapshot(session, appointment_id, settings)

    found = await run_in_transaction(request, read)
    if found is None:
        return not_found(request)
    appointment, s = found
    method = "CANCEL" if appointment.status == Status.CANCELLED else "REQUEST"
    return Response(
        messaging.invite(s, method=method, for_clinician=False),
        media_type=ICS,
        headers={
            "Content-Disposition": f'attachment; filename="appointment-{appointment.reference}.ics"'
        },
    )


async def feed_file(request: Request) -> Response:
    settings: Settings = request.app.state.settings

    async def read(session: AsyncSession) -> bytes | None:
        clinician_id = await calendars.feed_owner(session, request.path_params["token"])
        if clinician_id is None:
            return None
        clinician = await directory.get_clinician(session, clinician_id)
        body = await calendars.clinician_feed(
            session, clinician_id, name=f"{clinician.name}: Bay Telehealth", settings=settings
        )
        await audit.record(
            session,
            actor_user_id=clinician.user_id,
            action="calendar_feed.read",
            entity_type="clinician",
            entity_id=clinician_id,
        )
        return body

    body = await run_in_transaction(request, read)
    if body is None:
        return not_found(request)
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=300"})


def _file(summary: str, description: str) -> dict[str, object]:
    return {
        "get": {
            "summary": summary,
            "description": description,
            "security": [],
            "tags": ["calendars"],
            "parameters": [
                {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {"description": "An iCalendar file", "content": {"text/calendar": {}}},
                "404": {"description": "Unknown, altered or reset link"},
            },
        }
    }


OPENAPI_PATHS = {
    "/invite/{token}.ics": _file(
        "A patient's invite", "The signed link from the confirmation; always the current state."
    ),
    "/calendar/{token}.ics": _file(
        "A clinician's calendar feed", "Subscribe as webcal://; reset it to revoke the old URL."
    ),
}


def routes() -> list[Route]:
    return [
        Route("/invite/{token}.ics", invite_file, methods=["GET"]),
        Route("/calendar/{token}.ics", feed_file, methods=["GET"]),
    ]
