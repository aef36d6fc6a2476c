"""What every staff screen shares: its query, its rows and the buttons each row offers, its
error summary (with a refused button press brought back to it), and its live stream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduling import clinic
from scheduling.fit import Clash
from scheduling.models import Patient, Service, Site, VideoRoom
from scheduling.slots import to_london
from scheduling.transitions import Action, allowed_actions
from telehealth.kernel import audit, live
from telehealth.kernel.auth.models import Role, StaffUser
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.transactions import run_in_transaction
from telehealth.kernel.web.staff import page_context, signed_in
from telehealth.kernel.web.templating import templates
from telehealth.video.pages import HEARTBEAT_SECONDS
from telehealth.video.screen_query import ScreenQuery, read_query

# A refused button press, kept in the session until the screen it returns to shows it.
_FLASH = "screen_error"


def screen_query(request: Request) -> ScreenQuery:
    return read_query(request.query_params, today=to_london(utcnow()).date())


async def by_id(session: AsyncSession, model: Any, ids: set[int | None]) -> dict[int, Any]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row.id: row for row in await session.scalars(select(model).where(model.id.in_(wanted)))}


async def listed(
    session: AsyncSession,
    user: StaffUser,
    query: ScreenQuery,
    *,
    action: str,
    entity_type: str,
    entity_id: int,
    clinician_id: int | None = None,
    site_id: int | None = None,
) -> list[clinic.DayEntry]:
    """The day's appointments a screen lists, in the state asked for; showing them (patient
    names) is audited here."""
    entries = await clinic.day_list(
        session, day=query.day, clinician_id=clinician_id, site_id=site_id
    )
    entries = [e for e in entries if query.status in (None, e.live)]
    await audit.record(
        session,
        actor_user_id=user.id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        detail={"date": query.day.isoformat(), "appointments": [e.appointment.id for e in entries]},
    )
    return entries


async def rows(
    session: AsyncSession,
    entries: list[clinic.DayEntry],
    user: StaffUser,
    *,
    clashes: Mapping[int, Sequence[Clash]] | None = None,
) -> list[dict[str, object]]:
    """What the tables show, read in one query per table; showing patient names to staff is
    audited by the callers. Each row offers only what its state allows now and the user's
    role may do."""
    appointments = [e.appointment for e in entries]
    patients = await by_id(session, Patient, {a.patient_id for a in appointments})
    services = await by_id(session, Service, {a.service_id for a in appointments})
    sites = await by_id(session, Site, {a.site_id for a in appointments})
    rooms = await by_id(session, VideoRoom, {a.room_id for a in appointments})
    now = utcnow()
    found = []
    for entry in entries:
        a = entry.appointment
        patient, site = patients[a.patient_id], sites.get(a.site_id or 0)
        room = rooms.get(a.room_id or 0)
        allowed = allowed_actions(clinic.state_of(a), now=now)
        found.append(
            {
                "appointment": a,
                "patient": f"{patient.given_name} {patient.family_name}",
                "interpreter": patient.interpreter_language,
                "access_needs": patient.access_needs,
                # The number to ring once the consultation moves to the telephone.
                "phone": patient.mobile if a.medium == "telephone" else None,
                "service": services[a.service_id].name,
                "site": site.name if site else "Home",
                "room": room.name if room else None,
                "live": entry.live.value,
                "message": entry.last_message,
                "clashes": [c.message for c in (clashes or {}).get(a.id, ())],
                "actions": {
                    action.value for action in allowed if user.role in clinic.ACTION_ROLES[action]
                },
            }
        )
    return found


def errors_with_flash(request: Request, query: ScreenQuery, *, full_page: bool) -> dict[str, str]:
    """The query's problems, and on a full page also a refused button press brought back from
    `act` or `message` (the table re-fetched by live updates must not swallow it)."""
    errors = dict(query.errors)
    if full_page and (flash := request.session.pop(_FLASH, None)):
        errors[str(flash["target"])] = str(flash["message"])
    return errors


def context(
    request: Request,
    user: StaffUser,
    query: ScreenQuery,
    *,
    title: str,
    full_page: bool,
    filters: dict[str, int],
    **extra: object,
) -> dict[str, object]:
    errors = errors_with_flash(request, query, full_page=full_page)
    kept = {**filters, "date": query.day.isoformat()}
    if query.status is not None:
        kept["status"] = query.status.value
    return page_context(
        request,
        user,
        title=f"Error: {title}" if errors else title,
        errors=errors,
        query=query,
        day=query.day,
        # The same choices for the live table's re-fetch and for where buttons return to.
        query_string=urlencode(kept),
        can=abilities(user),
        **extra,
    )


def abilities(user: StaffUser) -> dict[str, bool]:
    return {a.value: user.role in clinic.ACTION_ROLES[a] for a in Action}


ContextBuilder = Callable[..., Awaitable[dict[str, object]]]


def screen(
    template: str, roles: Sequence[Role], build: ContextBuilder, *, full_page: bool
) -> Callable[[Request], Awaitable[Response]]:
    """A staff screen, or the table it re-fetches on a live change: same context, same rules.
    A screen asked for something it cannot show is drawn with its error summary (422); the
    table has no form to show errors in, and its script only ever asks for a valid one."""

    async def endpoint(request: Request) -> Response:
        async def context(session: AsyncSession) -> dict[str, object]:
            user = await signed_in(request, session, roles)
            return await build(request, session, user, full_page=full_page)

        found = await run_in_transaction(request, context)
        query = found["query"]
        assert isinstance(query, ScreenQuery)
        if not query.valid and not full_page:
            raise InvalidInput("; ".join(query.errors.values()), fields=query.errors)
        status = 200 if query.valid else 422
        return templates.TemplateResponse(request, template, found, status_code=status)

    return endpoint


def follow(request: Request, topic: str) -> EventSourceResponse:
    """Screens re-fetch their table on any change, so each event only says that one happened."""
    stream = live.follow(
        request,
        topic,
        first=("ready", {}),
        event_of=lambda _: "change",
        heartbeat=HEARTBEAT_SECONDS,
    )
    return EventSourceResponse(stream, ping=HEARTBEAT_SECONDS)


def refused(request: Request, form: dict[str, str], target: str, message: str) -> Response:
    """Back to the screen the button was on, which shows why in its error summary."""
    request.session[_FLASH] = {"target": target, "message": message}
    return RedirectResponse(back(form), status_code=303)


def back(form: dict[str, str]) -> str:
    """Where a button returns to: a staff screen, never another site."""
    target = form.get("back", "")
    return target if target.startswith("/staff/") else "/staff/clinic"
