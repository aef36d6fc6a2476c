"""Changing an appointment from its manage link: the booking journey's questions, shorter.

    /manage/{token}/change         "What would you like to change?" (the time, or how too)
    .../how, hub, day, time        the questions shared with booking (`journey_steps`)
    .../check                      "Check your answers"; its POST moves the appointment
    .../done                       "Appointment changed"

The service's rules apply (`scheduling.self_service.may_change_online`): an appointment that
is no longer booked, or is inside the service's notice period, cannot be changed online, and
the page says whom to phone (the service, else the site). The move is booking's own
(`scheduling.booking.reschedule` to a placement from `place`), so the database refuses a time
taken meanwhile and the patient goes back to "Which time?" with a message, answers kept. The
answers are in the journey's signed cookie, scoped to `/manage/{token}/change`. Every read and
the move go through `scheduling.access` as the link's holder (that appointment only).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scheduling import booking, wording
from scheduling.access import MANAGE_LINK, through_link
from scheduling.models import Appointment, Mode, Service, Site
from scheduling.placement import place
from scheduling.referral_models import Referral
from scheduling.self_service import may_change_online
from telehealth.kernel import timefmt
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import InvalidInput, PatientUnavailable, SlotUnavailable
from telehealth.kernel.inputs import read_form
from telehealth.kernel.transactions import run_in_transaction
from telehealth.messaging import content, patient_links
from telehealth.patients import journey, journey_options
from telehealth.patients.booking_link import problem
from telehealth.patients.journey_flow import (
    Journey,
    Loader,
    Show,
    choice_of,
    choice_rows,
    go_on,
    next_step,
    previous,
    render,
    transactional_page,
    unanswered,
)
from telehealth.patients.journey_steps import step_routes

PREFIX = "/manage/{token}/change"
WHAT = "What would you like to change?"
CHANGES = {
    "time": "The day or time only",
    "how": "How I am seen, and the day and time",
}


def _manage_does_not_work(request: Request) -> Response:
    return problem(
        request,
        title="This link does not work",
        lines=[
            "The link may have been copied wrongly, or only part of it was opened.",
            "Open the link from your confirmation or reminder again, or copy all of it into "
            "your browser.",
        ],
        status_code=404,
    )


async def phone_for(session: AsyncSession, appointment: Appointment, service: Service) -> str:
    """Whom to phone: the service, else the appointment's site, else the service's usual site."""
    for site_id in (appointment.site_id, service.usual_site_id):
        site = await session.get(Site, site_id) if site_id else None
        if service.phone or (site and site.phone):
            return service.phone or (site.phone if site else None) or ""
    return ""


async def _load(
    request: Request, session: AsyncSession, *, changing: bool, lock: bool = False
) -> Journey | Response:
    settings: Settings = request.app.state.settings
    token = str(request.path_params["token"])
    claim = patient_links.read_manage_token(settings, token)
    access = (
        await through_link(session, kind=MANAGE_LINK, appointment_id=claim.id) if claim else None
    )
    if claim is None or access is None:
        return _manage_does_not_work(request)
    # Audited by each page for what it does (a view, the move), not by every step.
    appointment = await access.appointment(claim.id, action=None, lock=lock)
    patient = await access.patient(appointment.patient_id, action=None)
    service = await session.get(Service, appointment.service_id)
    assert service is not None
    if claim.expired(journey_options.today()):
        return problem(
            request,
            title="This link has expired",
            lines=["To change your appointment, phone the service."],
            phone=await phone_for(session, appointment, service),
            status_code=410,
        )
    if changing and not may_change_online(
        status=appointment.status,
        starts_at=appointment.starts_at,
        notice_minutes=service.change_notice_minutes,
        now=utcnow(),
    ):
        return _phone_page(
            request, appointment, service, await phone_for(session, appointment, service)
        )
    referral = await session.scalar(
        select(Referral).where(Referral.appointment_id == appointment.id)
    )
    base = f"/manage/{token}/change"
    key = f"appointment:{appointment.id}"
    return Journey(
        base=base,
        key=key,
        service=service,
        patient=patient,
        video_suitable=referral.video_suitable if referral else True,
        answers=journey.read(request, key=key),
        start_href=base,
        access=access,
        extra={"appointment": appointment, "manage": f"/manage/{token}"},
    )


def notice_text(minutes: int) -> str:
    """48 hours, 2 days, 30 minutes: a notice period as people say it."""
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return f"{minutes} minutes"


def _phone_page(
    request: Request, appointment: Appointment, service: Service, phone: str
) -> Response:
    if appointment.status != "booked":
        lines = ["This appointment can no longer be changed."]
    else:
        notice = notice_text(service.change_notice_minutes)
        lines = [
            f"Your appointment is on {timefmt.moment(appointment.starts_at)}. It can only be "
            f"changed online up to {notice} before it starts.",
            "To change it now, phone the service.",
        ]
    return problem(
        request,
        title="You cannot change this appointment online",
        lines=lines,
        phone=phone or None,
        status_code=409,
    )


async def load(request: Request, session: AsyncSession) -> Journey | Response:
    return await _load(request, session, changing=True)


async def load_done(request: Request, session: AsyncSession) -> Journey | Response:
    return await _load(request, session, changing=False)


async def what(
    request: Request, session: AsyncSession, j: Journey, errors: dict[str, str] | None = None
) -> Response:
    appointment: Appointment = j.extra["appointment"]
    await j.access.audit("patient.self.view", "appointment", appointment.id)
    modes = journey_options.modes_for(j.service, video_suitable=j.video_suitable)
    return render(
        request, j, "patients/change/what.html", title=WHAT, errors=errors,
        back=j.extra["manage"], changes=CHANGES if len(modes) > 1 else {"time": CHANGES["time"]},
        when=timefmt.moment(appointment.starts_at),
        how=wording.how(appointment.mode),
    )  # fmt: skip


async def what_post(request: Request, session: AsyncSession, j: Journey) -> Response:
    form = await read_form(request)
    chosen = str(form.get("change", ""))
    if chosen not in CHANGES:
        return await what(request, session, j, {"change": "Select what you would like to change"})
    appointment: Appointment = j.extra["appointment"]
    answers: journey.Answers = {}
    if chosen == "time":
        answers = {"mode": appointment.mode}
        if appointment.mode == Mode.VIDEO_SITE:
            answers["site_id"] = appointment.site_id
    return go_on(request, j, answers)


CHECK = "Check your answers before changing your appointment"


async def check(request: Request, session: AsyncSession, j: Journey) -> Response:
    if unanswered(j):
        return RedirectResponse(next_step(j), status_code=303)
    appointment: Appointment = j.extra["appointment"]
    site = await session.get(Site, appointment.site_id) if appointment.site_id else None
    was = wording.how(appointment.mode, place=site.name if site else None)
    return render(
        request, j, "patients/change/check.html", title=CHECK, back=previous(j, "check"),
        was=f"{timefmt.moment(appointment.starts_at)}, {wording.lower_first(was)}",
        choice=await choice_rows(session, j),
    )  # fmt: skip


async def confirm(request: Request) -> Response:
    token = str(request.path_params["token"])
    base = f"/manage/{token}/change"

    async def move(session: AsyncSession) -> Response:
        found = await _load(request, session, changing=True, lock=True)
        if isinstance(found, Response):
            return found
        j = found
        choice = choice_of(j)
        if choice is None or unanswered(j):
            return RedirectResponse(next_step(j), status_code=303)
        appointment: Appointment = j.extra["appointment"]
        if choice.mode != Mode.IN_PERSON and not j.video_suitable:
            raise InvalidInput.field("mode", "this appointment is in person")
        placement = await place(
            session,
            service_id=appointment.service_id,
            clinician_id=choice.clinician_id,
            mode=choice.mode,
            site_id=choice.site_id,
            start=choice.start,
        )
        await booking.reschedule(session, appointment=appointment, placement=placement)
        await j.access.audit("patient.self.reschedule", "appointment", appointment.id)
        response = RedirectResponse(f"{base}/done", status_code=303)
        journey.forget(response, path=base)
        return response

    try:
        return await run_in_transaction(request, move)
    except (SlotUnavailable, PatientUnavailable, InvalidInput) as exc:
        settings: Settings = request.app.state.settings
        claim = patient_links.read_manage_token(settings, token)
        assert claim is not None
        key = f"appointment:{claim.id}"
        answers = journey.read(request, key=key)
        answers.pop("slot", None)
        answers["taken"] = "patient" if isinstance(exc, PatientUnavailable) else "slot"
        response = RedirectResponse(f"{base}/time", status_code=303)
        journey.save(response, request, key=key, path=base, answers=answers)
        return response


async def done(request: Request, session: AsyncSession, j: Journey) -> Response:
    settings: Settings = request.app.state.settings
    appointment: Appointment = j.extra["appointment"]
    snapshot = await content.snapshot_of(session, appointment, settings)
    await j.access.audit("patient.self.view", "appointment", appointment.id)
    return render(
        request, j, "patients/change/done.html", title="Appointment changed",
        s=snapshot, a=appointment, when=timefmt.moment(appointment.starts_at),
        manage=j.extra["manage"],
    )  # fmt: skip


def routes() -> list[BaseRoute]:
    def get(path: str, show: Show, loader: Loader = load) -> Route:
        return Route(PREFIX + path, transactional_page(loader, show), methods=["GET"])

    return [
        get("", what),
        Route(PREFIX, transactional_page(load, what_post), methods=["POST"]),
        *step_routes(PREFIX, load),
        get("/check", check),
        Route(f"{PREFIX}/check", confirm, methods=["POST"]),
        get("/done", done, load_done),
    ]
