"""Staff screens: a clinician's clinic for the day, and a community hub's reception desk.

Both show the day's appointments with their live state and update as it changes: each screen
listens to a server-sent event stream and re-fetches its table when anything happens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import clinic
from scheduling.access import Access, scope_of
from scheduling.models import Clinician, Patient, Service, Site, SiteKind, VideoRoom
from scheduling.slots import to_london
from scheduling.transitions import Action
from telehealth import audit, live
from telehealth.auth.models import Role, StaffUser
from telehealth.config import Settings
from telehealth.db import sessionmaker_of, utcnow
from telehealth.errors import Forbidden, InvalidInput
from telehealth.video.pages import HEARTBEAT_SECONDS
from telehealth.video.providers import Participant, provider_from
from telehealth.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.web.templating import templates

CLINIC_ROLES = roles_for("/staff/clinic")
RECEPTION_ROLES = roles_for("/staff/reception")


def _day(request: Request) -> date:
    raw = request.query_params.get("date")
    if not raw:
        return to_london(utcnow()).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput.field("date", "must be a date like 2026-11-24") from None


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput.field(name, "must be a whole number") from None


async def _clinician_for(
    request: Request, session: AsyncSession, user: StaffUser
) -> Clinician | None:
    """A clinician sees their own clinic; admins and navigators pick one."""
    if user.role == Role.CLINICIAN:
        own = await session.scalar(select(Clinician).where(Clinician.user_id == user.id))
        if own is None:
            raise Forbidden("your account is not linked to a clinician: ask an admin")
        return own
    chosen = _int_param(request, "clinician_id")
    return await session.get(Clinician, chosen) if chosen else None


async def _by_id(session: AsyncSession, model: Any, ids: set[int | None]) -> dict[int, Any]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row.id: row for row in await session.scalars(select(model).where(model.id.in_(wanted)))}


async def _rows(session: AsyncSession, entries: list[clinic.DayEntry]) -> list[dict[str, object]]:
    """What the tables show, read in one query per table; showing patient names to staff is
    audited by the callers."""
    appointments = [e.appointment for e in entries]
    patients = await _by_id(session, Patient, {a.patient_id for a in appointments})
    services = await _by_id(session, Service, {a.service_id for a in appointments})
    sites = await _by_id(session, Site, {a.site_id for a in appointments})
    rooms = await _by_id(session, VideoRoom, {a.room_id for a in appointments})
    rows = []
    for entry in entries:
        a = entry.appointment
        patient, site = patients[a.patient_id], sites.get(a.site_id or 0)
        room = rooms.get(a.room_id or 0)
        rows.append(
            {
                "appointment": a,
                "patient": f"{patient.given_name} {patient.family_name}",
                "interpreter": patient.interpreter_language,
                "service": services[a.service_id].name,
                "site": site.name if site else "Home",
                "room": room.name if room else None,
                "live": entry.live.value,
                "message": entry.last_message,
            }
        )
    return rows


async def _clinic_context(
    request: Request, session: AsyncSession, user: StaffUser
) -> dict[str, object]:
    day = _day(request)
    clinician = await _clinician_for(request, session, user)
    entries = (
        await clinic.day_list(session, day=day, clinician_id=clinician.id) if clinician else []
    )
    rows = await _rows(session, entries)
    await audit.record(
        session,
        actor_user_id=user.id,
        action="clinic.view",
        entity_type="clinician",
        entity_id=clinician.id if clinician else None,
        detail={"date": day.isoformat(), "appointments": [e.appointment.id for e in entries]},
    )
    clinicians = (
        []
        if user.role == Role.CLINICIAN
        else list(await session.scalars(select(Clinician).order_by(Clinician.name)))
    )
    return page_context(
        request,
        user,
        title="Clinic",
        day=day,
        clinician=clinician,
        clinicians=clinicians,
        rows=rows,
        can=_abilities(user),
    )


def _abilities(user: StaffUser) -> dict[str, bool]:
    return {a.value: user.role in clinic.ACTION_ROLES[a] for a in Action}


ContextBuilder = Callable[[Request, AsyncSession, StaffUser], Awaitable[dict[str, object]]]


def _screen(
    template: str, roles: Sequence[Role], build: ContextBuilder
) -> Callable[[Request], Awaitable[Response]]:
    """A staff screen, or the table it re-fetches on a live change: same context, same rules."""

    async def endpoint(request: Request) -> Response:
        async with sessionmaker_of(request)() as session, session.begin():
            user = await signed_in(request, session, roles)
            context = await build(request, session, user)
        return templates.TemplateResponse(request, template, context)

    return endpoint


async def clinic_events(request: Request) -> Response:
    async with sessionmaker_of(request)() as session:
        user = await signed_in(request, session, CLINIC_ROLES)
        clinician = await _clinician_for(request, session, user)
    if clinician is None:
        raise InvalidInput.field("clinician_id", "choose a clinician")
    return _follow(request, f"clinician:{clinician.id}")


def _follow(request: Request, topic: str) -> EventSourceResponse:
    """Screens re-fetch their table on any change, so each event only says that one happened."""
    stream = live.follow(
        request,
        topic,
        first=("ready", {}),
        event_of=lambda _: "change",
        heartbeat=HEARTBEAT_SECONDS,
    )
    return EventSourceResponse(stream, ping=HEARTBEAT_SECONDS)


async def act(request: Request) -> Response:
    """One button on a staff screen: a status change, or starting the call."""
    form = await check_csrf(request)
    try:
        action = Action(form.get("action", ""))
    except ValueError:
        raise InvalidInput.field("action", "is not a clinic action") from None
    settings: Settings = request.app.state.settings
    async with sessionmaker_of(request)() as session, session.begin():
        user = await signed_in(request, session)
        access = Access(session, user)
        appointment = await clinic.staff_action(
            access,
            appointment_id=int(request.path_params["id"]),
            action=action,
            reason=form.get("reason") or None,
        )
        if (
            action == Action.START_CALL
            and appointment.video_room
            and await access.may_run(appointment)
        ):
            who = Participant(
                id=f"staff-{user.id}", display_name=user.name, moderator=True, email=user.email
            )
            url = provider_from(settings).join_url(appointment.video_room, who, now=utcnow())
            return RedirectResponse(url, status_code=303)
    return RedirectResponse(_back(form), status_code=303)


def _back(form: dict[str, str]) -> str:
    back = form.get("back", "")
    return back if back.startswith("/staff/") else "/staff/clinic"


async def message(request: Request) -> Response:
    form = await check_csrf(request)
    async with sessionmaker_of(request)() as session, session.begin():
        user = await signed_in(request, session, (Role.CLINICIAN, Role.ADMIN))
        appointment = await Access(session, user).appointment(
            int(request.path_params["id"]), action="appointment.message"
        )
        await clinic.send_message(
            session, appointment, form.get("message", ""), actor_user_id=user.id
        )
    return RedirectResponse(_back(form), status_code=303)


async def _reception_context(
    request: Request, session: AsyncSession, user: StaffUser
) -> dict[str, object]:
    day = _day(request)
    hubs = await _hubs_for(session, user)
    site_id = _int_param(request, "site_id")
    site = next((h for h in hubs if h.id == site_id), None)
    entries = await clinic.day_list(session, day=day, site_id=site.id) if site else []
    rows = await _rows(session, entries)
    await audit.record(
        session,
        actor_user_id=user.id,
        action="reception.view",
        entity_type="site",
        entity_id=site.id if site else None,
        detail={"date": day.isoformat(), "appointments": [e.appointment.id for e in entries]},
    )
    return page_context(
        request,
        user,
        title="Reception",
        day=day,
        site=site,
        hubs=hubs,
        rows=rows,
        can=_abilities(user),
    )


async def _hubs_for(session: AsyncSession, user: StaffUser) -> list[Site]:
    """The hubs this member of staff works at (every hub for an admin)."""
    scope = await scope_of(session, user)
    statement = select(Site).where(Site.kind == SiteKind.COMMUNITY_HUB.value).order_by(Site.name)
    if not scope.everyone:
        statement = statement.where(Site.id.in_(scope.hub_ids))
    return list(await session.scalars(statement))


async def reception_events(request: Request) -> Response:
    site_id = _int_param(request, "site_id")
    if site_id is None:
        raise InvalidInput.field("site_id", "choose a hub")
    async with sessionmaker_of(request)() as session:
        user = await signed_in(request, session, RECEPTION_ROLES)
        await Access(session, user).may_use_hub(site_id)
    return _follow(request, f"site:{site_id}")


def routes() -> list[Route]:
    return [
        Route("/staff/clinic", _screen("staff/clinic.html", CLINIC_ROLES, _clinic_context)),
        Route(
            "/staff/clinic/table",
            _screen("staff/_clinic_table.html", CLINIC_ROLES, _clinic_context),
        ),
        Route("/staff/clinic/events", clinic_events, methods=["GET"]),
        Route(
            "/staff/reception",
            _screen("staff/reception.html", RECEPTION_ROLES, _reception_context),
        ),
        Route(
            "/staff/reception/table",
            _screen("staff/_reception_table.html", RECEPTION_ROLES, _reception_context),
        ),
        Route("/staff/reception/events", reception_events, methods=["GET"]),
        Route("/staff/appointments/{id:int}/action", act, methods=["POST"]),
        Route("/staff/appointments/{id:int}/message", message, methods=["POST"]),
    ]
