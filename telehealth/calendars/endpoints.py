"""Routes for a clinician's calendar feed: the file, and resetting its secret link.

The patient's invite is served by `telehealth.messaging.invite_links`, beside what builds it.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling import directory
from telehealth.calendars import files as calendars
from telehealth.kernel import audit
from telehealth.kernel.api import ApiRouter, Context
from telehealth.kernel.auth.models import Role
from telehealth.kernel.config import Settings
from telehealth.kernel.errors import Forbidden
from telehealth.kernel.openapi import ICALENDAR, file_path
from telehealth.kernel.transactions import run_in_transaction
from telehealth.video.pages import not_found

router = ApiRouter()


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
    return Response(body, media_type=ICALENDAR, headers={"Cache-Control": "private, max-age=300"})


OPENAPI_PATHS = {
    "/calendar/{token}.ics": file_path(
        "A clinician's calendar feed", "Subscribe as webcal://; reset it to revoke the old URL."
    ),
}


def routes() -> list[Route]:
    return [
        Route("/calendar/{token}.ics", feed_file, methods=["GET"]),
    ]
