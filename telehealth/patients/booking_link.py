"""Opening a booking link: the referral it names, or the page saying why it cannot be used
(it does not work, has expired, or the referral is closed), or the way to its manage page once
booked. Every booking page loads its journey here (`load`), in the request's transaction,
with the patient's access through the link (`scheduling.access.LinkHolder`: the referral's
patient and their own appointments), through which each page reads and audits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduling import wording
from scheduling.access import BOOKING_LINK, Access, LinkHolder
from scheduling.models import Service, Site
from scheduling.referral_models import Referral, ReferralStatus
from telehealth.kernel.config import Settings
from telehealth.kernel.web.templating import templates
from telehealth.messaging import patient_links
from telehealth.patients import journey, journey_options
from telehealth.patients.journey_flow import Journey


async def service_phone(session: AsyncSession, service: Service) -> str | None:
    """The number patients call about this service: its own, else its usual site's."""
    if service.phone:
        return service.phone
    site = await session.get(Site, service.usual_site_id)
    return site.phone if site else None


def problem(
    request: Request, *, title: str, lines: list[str], status_code: int, phone: str | None = None
) -> Response:
    return templates.TemplateResponse(
        request,
        "patients/book/problem.html",
        {"title": title, "heading": title, "lines": lines, "phone": phone},
        status_code=status_code,
    )


def link_does_not_work(request: Request) -> Response:
    return problem(
        request,
        title="This link does not work",
        lines=[
            "The link may have been copied wrongly, or only part of it was opened.",
            "Open the link from your invitation again, or copy all of it into your browser.",
            "If it still does not work, contact the service that referred you: their phone "
            "number is in your invitation.",
        ],
        status_code=404,
    )


def manage_path(settings: Settings, appointment_id: int) -> str:
    token = patient_links.manage_token(settings, appointment_id, issued_on=journey_options.today())
    return f"/manage/{token}"


async def _load(request: Request, session: AsyncSession, *, booked_ok: bool) -> Journey | Response:
    settings: Settings = request.app.state.settings
    token = str(request.path_params["token"])
    claim = patient_links.read_booking_token(settings, token)
    # The referral the link names, with its service in one round trip (every step reads both).
    found = (
        (
            await session.execute(
                select(Referral, Service)
                .join(Service, Service.id == Referral.service_id)
                .where(Referral.id == claim.id)
            )
        ).first()
        if claim
        else None
    )
    if claim is None or found is None:
        return link_does_not_work(request)
    referral, service = found
    base = f"/book/{token}"
    if referral.appointment_id is not None and not booked_ok:
        return RedirectResponse(manage_path(settings, referral.appointment_id), status_code=303)
    if referral.status == ReferralStatus.CLOSED:
        # Said before "expired": a closed referral is the reason, however old the link.
        phone = await service_phone(session, service)
        return problem(
            request,
            title="This referral has been closed",
            lines=[
                f"The referral for your {wording.service_phrase(service.name)} has been "
                "closed, so it cannot be booked online and you do not need to book it.",
                "If you think this is wrong, or you still need the appointment, "
                + ("phone the service." if phone else "contact the service that referred you."),
            ],
            phone=phone,
            status_code=410,
        )
    if claim.expired(journey_options.today()) and referral.appointment_id is None:
        return problem(
            request,
            title="This link has expired",
            lines=[
                "Booking links work for 4 weeks after they are sent.",
                f"To book your {wording.service_phrase(service.name)}, phone the service.",
            ],
            phone=await service_phone(session, service),
            status_code=410,
        )
    access = Access(session, LinkHolder(referral.patient_id, BOOKING_LINK))
    key = f"referral:{referral.id}"
    return Journey(
        base=base,
        key=key,
        service=service,
        # Audited by the pages that show the record (`audit_view`), not by every step.
        patient=await access.patient(referral.patient_id, action=None),
        access=access,
        video_suitable=referral.video_suitable,
        answers=journey.read(request, key=key),
        start_href=base,
        later=("details",),
        extra={"referral": referral, "token": token},
    )


async def load(request: Request, session: AsyncSession) -> Journey | Response:
    return await _load(request, session, booked_ok=False)


async def load_booked(request: Request, session: AsyncSession) -> Journey | Response:
    return await _load(request, session, booked_ok=True)


async def audit_view(j: Journey) -> None:
    """The patient saw their record (their details, their answers, their booking)."""
    await j.access.audit(
        "patient.self.view", "patient", j.patient.id, {"referral_id": j.extra["referral"].id}
    )
