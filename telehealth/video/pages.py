"""The patient's side: the join page, the live waiting room and the way into the call.

No login: the signed link is the key. Anything wrong with the link gets the same plain 404,
so a guessed or altered link learns nothing about which appointments exist.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import clinic, wording
from scheduling.models import Appointment
from scheduling.transitions import Action, Live
from telehealth.kernel import live
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from telehealth.kernel.transactions import run_in_transaction, transactional
from telehealth.kernel.web.templating import templates
from telehealth.video import visits
from telehealth.video.join import Verdict, make_token
from telehealth.video.providers import Participant, provider_from
from telehealth.video.visits import Visit, find_visit

HEARTBEAT_SECONDS = 15
ENDED = (Live.FINISHED, Live.CANCELLED, Live.DID_NOT_ATTEND)


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
    return await find_visit(session, settings, request.path_params["token"], lock=lock)


async def _phone_ending(session: AsyncSession, visit: Visit) -> str | None:
    return phone_ending(await visits.patient_mobile(session, visit))


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


@transactional
async def join_page(request: Request, session: AsyncSession) -> Response:
    visit = await _visit(request, session)
    if visit is None:
        return not_found(request)
    current = visit.verdict in (Verdict.TOO_EARLY, Verdict.OPEN)
    at_reception = current and await visits.reception_has_them(session, visit.appointment)
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


@transactional
async def check_in(request: Request, session: AsyncSession) -> Response:
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


@transactional
async def waiting_room(request: Request, session: AsyncSession) -> Response:
    visit = await _visit(request, session)
    if visit is None:
        return not_found(request)
    if visit.verdict != Verdict.OPEN or visit.appointment.checked_in_at is None:
        return RedirectResponse(f"/join/{visit.token}", status_code=303)
    message = await visits.last_message(session, visit.appointment.id)
    # Rendered (hidden) even before any switch: the live stream says only that the
    # clinician will phone, and the page already knows which number, never broadcast.
    ending = await _phone_ending(session, visit)
    return templates.TemplateResponse(
        request,
        "join/wait.html",
        _context(visit, request, message=message, phone_ending=ending),
    )


@transactional
async def into_call(request: Request, session: AsyncSession) -> Response:
    """The patient's way into the call: only once the clinician has started it."""
    visit = await _visit(request, session)
    if visit is None:
        return not_found(request)
    a = visit.appointment
    if visit.verdict != Verdict.OPEN or visit.live != Live.IN_CALL:
        return RedirectResponse(f"/join/{visit.token}", status_code=303)
    patient = await visits.patient_of(session, visit)
    settings: Settings = request.app.state.settings
    assert a.video_room is not None
    # The provider gets a room name and a first name: nothing that identifies the patient.
    who = Participant(id=f"patient-{a.id}", display_name=patient.given_name, moderator=False)
    url = provider_from(settings).join_url(a.video_room, who, now=utcnow())
    return RedirectResponse(url, status_code=303)


async def events(request: Request) -> Response:
    async def first_state(session: AsyncSession) -> tuple[Visit, dict[str, object]] | None:
        visit = await _visit(request, session)
        if visit is None:
            return None
        return visit, clinic.live_payload(visit.appointment, kind="state")

    # The transaction ends before the stream starts: a stream lasts as long as the visit.
    found = await run_in_transaction(request, first_state)
    if found is None:
        return not_found(request)
    visit, first = found
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
