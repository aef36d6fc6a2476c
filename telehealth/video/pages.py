"""The patient's side: the join page, the live waiting room and the way into the call.

No login: the signed link is the key. Anything wrong with the link gets the same plain 404,
so a guessed or altered link learns nothing about which appointments exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import clinic, wording
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    Clinician,
    Mode,
    Patient,
    Service,
    Site,
    VideoRoom,
)
from scheduling.transitions import Action, Live, live_state
from telehealth.kernel import live
from telehealth.kernel.config import Settings
from telehealth.kernel.db import sessionmaker_of, utcnow
from telehealth.kernel.web.templating import templates
from telehealth.video.join import JoinClaim, Verdict, make_token, read_token, verdict
from telehealth.video.providers import Participant, provider_from

HEARTBEAT_SECONDS = 15
ENDED = (Live.FINISHED, Live.CANCELLED, Live.DID_NOT_ATTEND)


@dataclass(frozen=True, slots=True)
class Visit:
    appointment: Appointment
    service: Service
    clinician: Clinician
    site: Site | None
    room: VideoRoom | None
    verdict: Verdict
    token: str
    claim: JoinClaim

    @property
    def live(self) -> Live:
        return live_state(clinic.state_of(self.appointment))


def join_path(settings: Settings, appointment: Appointment) -> str:
    token = make_token(
        settings.secret_key,
        appointment_id=appointment.id,
        sequence=appointment.sequence,
        starts_at=appointment.starts_at,
    )
    return f"/join/{token}"


def phone_ending(number: str | None) -> str | None:
    """The last three digits of a phone number: enough for a patient to know which phone will
    ring, too little to give the number away to someone looking over their shoulder."""
    digits = "".join(c for c in number or "" if c in "0123456789")
    return digits[-3:] if len(digits) >= 3 else None


def not_found(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "not_found.html", {"title": "Page not found"}, status_code=404
    )


async def _visit(request: Request, session: AsyncSession, *, lock: bool = False) -> Visit | None:
    settings: Settings = request.app.state.settings
    token = request.path_params["token"]
    claim: JoinClaim | None = read_token(settings.secret_key, token)
    if claim is None:
        return None
    statement = select(Appointment).where(Appointment.id == claim.appointment_id)
    appointment = await session.scalar(statement.with_for_update() if lock else statement)
    if appointment is None:
        return None
    service = await session.get(Service, appointment.service_id)
    clinician = await session.get(Clinician, appointment.clinician_id)
    assert service is not None and clinician is not None
    site = await session.get(Site, appointment.site_id) if appointment.site_id else None
    room = await session.get(VideoRoom, appointment.room_id) if appointment.room_id else None
    found = verdict(
        status=appointment.status,
        sequence=appointment.sequence,
        claim=claim,
        start=appointment.starts_at,
        end=appointment.ends_at,
        now=utcnow(),
        window=timedelta(minutes=settings.join_window_minutes),
    )
    return Visit(appointment, service, clinician, site, room, found, token, claim)


async def _phone_ending(session: AsyncSession, visit: Visit) -> str | None:
    mobile = await session.scalar(
        select(Patient.mobile).where(Patient.id == visit.appointment.patient_id)
    )
    return phone_ending(mobile)


async def _reception_has_them(session: AsyncSession, a: Appointment) -> bool:
    """At a hub, reception marked the patient as arrived or checked them in: the patient's own
    device has nothing more to do."""
    if a.mode != Mode.VIDEO_SITE:
        return False
    if a.arrived_at is not None:
        return True
    checked_in_by = await session.scalar(
        select(AppointmentEvent.actor)
        .where(AppointmentEvent.appointment_id == a.id, AppointmentEvent.action == "check_in")
        .order_by(AppointmentEvent.at.desc(), AppointmentEvent.id.desc())
        .limit(1)
    )
    return checked_in_by == "staff"


def _context(visit: Visit, request: Request, **extra: object) -> dict[str, object]:
    settings: Settings = request.app.state.settings
    a = visit.appointment
    return {
        "title": wording.service_phrase(visit.service.name),
        # Who to call: the service's own number, else the hub's.
        "phone": visit.service.phone or (visit.site.phone if visit.site else None),
        "visit": visit,
        "appointment": a,
        "opens_at": a.starts_at - timedelta(minutes=settings.join_window_minutes),
        "video_is_demo": settings.video_is_demo,
        "checked_in": a.checked_in_at is not None,
        "live": visit.live.value,
        **extra,
    }


async def join_page(request: Request) -> Response:
    async with sessionmaker_of(request)() as session:
        visit = await _visit(request, session)
        if visit is None:
            return not_found(request)
        current = visit.verdict in (Verdict.TOO_EARLY, Verdict.OPEN)
        at_reception = current and await _reception_has_them(session, visit.appointment)
        by_phone = current and visit.live == Live.BY_PHONE
        if (
            visit.verdict == Verdict.OPEN
            and visit.appointment.checked_in_at is not None
            and not (at_reception or by_phone)
        ):
            return RedirectResponse(f"/join/{visit.token}/wait", status_code=303)
        context = _context(
            visit,
            request,
            at_reception=at_reception,
            by_phone=by_phone,
            phone_ending=await _phone_ending(session, visit) if by_phone else None,
        )
        return templates.TemplateResponse(request, "join/join.html", context)


async def check_in(request: Request) -> Response:
    async with sessionmaker_of(request)() as session, session.begin():
        visit = await _visit(request, session, lock=True)
        if visit is None:
            return not_found(request)
        if visit.verdict != Verdict.OPEN:
            return RedirectResponse(f"/join/{visit.token}", status_code=303)
        if visit.appointment.checked_in_at is None:
            await clinic.apply(
                session, visit.appointment, Action.CHECK_IN, actor="patient", actor_user_id=None
            )
    return RedirectResponse(f"/join/{visit.token}/wait", status_code=303)


async def _last_message(session: AsyncSession, appointment_id: int) -> str | None:
    return await session.scalar(
        select(AppointmentEvent.message)
        .where(
            AppointmentEvent.appointment_id == appointment_id,
            AppointmentEvent.action == "message",
        )
        .order_by(AppointmentEvent.at.desc(), AppointmentEvent.id.desc())
        .limit(1)
    )


async def waiting_room(request: Request) -> Response:
    async with sessionmaker_of(request)() as session:
        visit = await _visit(request, session)
        if visit is None:
            return not_found(request)
        if visit.verdict != Verdict.OPEN or visit.appointment.checked_in_at is None:
            return RedirectResponse(f"/join/{visit.token}", status_code=303)
        message = await _last_message(session, visit.appointment.id)
        # Rendered (hidden) even before any switch: the live stream says only that the
        # clinician will phone, and the page already knows which number, never broadcast.
        ending = await _phone_ending(session, visit)
        return templates.TemplateResponse(
            request,
            "join/wait.html",
            _context(visit, request, message=message, phone_ending=ending),
        )


async def into_call(request: Request) -> Response:
    """The patient's way into the call: only once the clinician has started it."""
    async with sessionmaker_of(request)() as session:
        visit = await _visit(request, session)
        if visit is None:
            return not_found(request)
        a = visit.appointment
        if visit.verdict != Verdict.OPEN or visit.live != Live.IN_CALL:
            return RedirectResponse(f"/join/{visit.token}", status_code=303)
        patient = await session.get(Patient, a.patient_id)
    settings: Settings = request.app.state.settings
    assert patient is not None and a.video_room is not None
    # The provider gets a room name and a first name: nothing that identifies the patient.
    who = Participant(id=f"patient-{a.id}", display_name=patient.given_name, moderator=False)
    url = provider_from(settings).join_url(a.video_room, who, now=utcnow())
    return RedirectResponse(url, status_code=303)


async def events(request: Request) -> Response:
    async with sessionmaker_of(request)() as session:
        visit = await _visit(request, session)
        if visit is None:
            return not_found(request)
        first = clinic.live_payload(visit.appointment, kind="state")
    topic = f"appointment:{visit.appointment.id}"
    stream = live.follow(
        request,
        topic,
        first=("state", first),
        event_of=lambda payload: str(payload.get("kind", "state")),
        heartbeat=HEARTBEAT_SECONDS,
        until=lambda payload: payload.get("live") in ENDED,
    )
    return EventSourceResponse(stream, ping=HEARTBEAT_SECONDS, send_timeout=30)


def routes() -> list[Route]:
    return [
        Route("/join/{token}", join_page, methods=["GET"]),
        Route("/join/{token}/check-in", check_in, methods=["POST"]),
        Route("/join/{token}/wait", waiting_room, methods=["GET"]),
        Route("/join/{token}/call", into_call, methods=["GET"]),
        Route("/join/{token}/events", events, methods=["GET"]),
    ]
