"""The video API: the patient's join link for staff to send, and the clinician's way in."""

from __future__ import annotations

from pydantic import BaseModel

from scheduling.access import Access
from telehealth.kernel.api import PATIENT_FACING, ApiRouter, Context
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import Conflict
from telehealth.video.pages import join_path
from telehealth.video.providers import Participant, provider_from

router = ApiRouter()


class VideoLinks(BaseModel):
    patient_join_url: str
    clinician_join_url: str | None
    provider: str
    demo_only: bool


@router.operation(
    "GET",
    "/appointments/{appointment_id}/video",
    summary="Read an appointment's video links",
    roles=PATIENT_FACING,
    tag="video",
    response=VideoLinks,
    errors=(404, 409),
)
async def video_links(ctx: Context) -> VideoLinks:
    """The patient's signed join link; for clinicians and admins also their own (moderator)
    link into the room. Links change when the appointment is moved."""
    access = Access(ctx.session, ctx.user)
    appointment = await access.appointment(
        ctx.path_int("appointment_id"), action="appointment.video_links"
    )
    if appointment.mode == "in_person" or appointment.video_room is None:
        raise Conflict("this appointment is in person: it has no video room", code="not_video")
    provider = provider_from(ctx.settings)
    clinician_url = None
    # Only whoever runs the consultation gets the moderator's way in.
    if await access.may_run(appointment):
        who = Participant(
            id=f"staff-{ctx.user.id}",
            display_name=ctx.user.name,
            moderator=True,
            email=ctx.user.email,
        )
        clinician_url = provider.join_url(appointment.video_room, who, now=utcnow())
    return VideoLinks(
        patient_join_url=ctx.settings.public_base_url + join_path(ctx.settings, appointment),
        clinician_join_url=clinician_url,
        provider=provider.name,
        demo_only=ctx.settings.video_is_demo,
    )
