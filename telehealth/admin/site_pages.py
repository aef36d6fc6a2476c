"""The admin's site pages: every hospital and hub, one site's details changed (address,
postcode, Integrated Care Community, the directions and phone number messages give patients),
and a hub's video rooms: another room, or a room closed for a period, with the bookings the
closure falls over shown first and saved only when confirmed."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import directory, directory_changes, rooms, slots
from scheduling.models import Site, SiteKind
from telehealth.kernel import audit
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import Conflict, InvalidInput, NotFound
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.forms import date_parts, read_date, read_time
from telehealth.kernel.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates

PATH = "/staff/admin/sites"
ROLES = roles_for(PATH)
KINDS = {
    SiteKind.HOSPITAL: "Hospital",
    SiteKind.COMMUNITY_HUB: "Community hub",
    SiteKind.GP_PRACTICE: "GP practice",
}
TEXT_FIELDS = ("name", "address", "postcode", "icc", "directions", "phone")
LABELS = {
    "name": "Name",
    "address": "Address",
    "postcode": "Postcode",
    "icc": "Integrated Care Community",
    "directions": "Directions",
    "phone": "Phone number",
}
NOTICES = {
    "updated": "The site's changes are saved.",
    "room": "The video room is added.",
    "closed": "The room is closed for that period.",
}


@transactional
async def sites_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    rows = [
        [
            {"html": Markup('<a href="{}/{}">{}</a>').format(PATH, s.id, s.name)},
            {"text": KINDS[SiteKind(s.kind)]},
            {"text": s.postcode},
            {"text": s.icc or ""},
            {"text": str(s.video_rooms) if s.kind == SiteKind.COMMUNITY_HUB else ""},
            {"text": "Open" if s.active else "Closed"},
        ]
        for s in await directory.list_sites(session)
    ]
    return templates.TemplateResponse(
        request, "admin/sites.html", page_context(request, user, title="Sites", rows=rows)
    )


async def _site(session: AsyncSession, request: Request) -> Site:
    site_id = path_id(request, "site_id")
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site with id {site_id}")
    return site


def _values(site: Site) -> dict[str, Any]:
    return {name: getattr(site, name) or "" for name in TEXT_FIELDS} | {
        "active": "yes" if site.active else "no"
    }


def _closure_blank() -> dict[str, Any]:
    return {
        "room_id": "",
        "from": date_parts({}, "from"),
        "from_time": "",
        "until": date_parts({}, "until"),
        "until_time": "",
        "reason": "",
    }


async def _site_page(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    site: Site,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    closure: dict[str, Any] | None = None,
    closure_errors: dict[str, str] | None = None,
    affected: list[Any] | None = None,
    status: int = 200,
) -> Response:
    errors, closure_errors = errors or {}, closure_errors or {}
    hub_rooms = await rooms.list_rooms(session, site.id)
    heading = f"Change {site.name}"
    closure = closure or _closure_blank()
    return templates.TemplateResponse(
        request,
        "admin/site_form.html",
        page_context(
            request,
            user,
            title=f"Error: {heading}" if errors or closure_errors else heading,
            heading=heading,
            site=site,
            is_hub=site.kind == SiteKind.COMMUNITY_HUB,
            form=values or _values(site),
            errors=errors,
            all_errors=errors | closure_errors,
            closure=closure,
            closure_errors=closure_errors,
            room_items=[
                {"value": str(r.id), "text": r.name, "selected": closure["room_id"] == str(r.id)}
                for r in hub_rooms
                if r.active
            ],
            rooms=hub_rooms,
            closures=await rooms.closures_from(session, site.id, utcnow()),
            affected=affected,
            notice=NOTICES.get(request.query_params.get("done", "")),
        ),
        status_code=status,
    )


@transactional
async def site_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    return await _site_page(request, session, user, await _site(session, request))


def _changes(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    values = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
    values["active"] = str(form.get("active", "yes"))
    changes: dict[str, Any] = {
        name: (values[name] or None) if name in ("icc", "directions", "phone") else values[name]
        for name in TEXT_FIELDS
    }
    changes["active"] = values["active"] == "yes"
    return values, changes


@transactional
async def change_site(request: Request, session: AsyncSession) -> Response:
    form = await request.form()
    await check_csrf(request)
    user = await signed_in(request, session, ROLES)
    site = await _site(session, request)
    values, changes = _changes(form)
    wanted = {k: v for k, v in changes.items() if getattr(site, k) != v}
    try:
        _, affected = await directory_changes.update_site(
            session, site.id, wanted, actor_user_id=user.id
        )
    except (InvalidInput, Conflict) as exc:
        errors = {
            name: f"{LABELS.get(name, name)} {message}" for name, message in exc.fields.items()
        } or {"name": exc.message[0].upper() + exc.message[1:]}
        code = 422 if isinstance(exc, InvalidInput) else 409
        return await _site_page(
            request, session, user, site, values=values, errors=errors, status=code
        )
    if affected:
        return await _site_page(request, session, user, site, affected=affected)
    return RedirectResponse(f"{PATH}/{site.id}?done=updated", status_code=303)


@transactional
async def add_room(request: Request, session: AsyncSession) -> Response:
    await check_csrf(request)
    user = await signed_in(request, session, ROLES)
    site = await _site(session, request)
    if site.kind != SiteKind.COMMUNITY_HUB:
        raise InvalidInput.field("site", "only community hubs have video rooms")
    room = await rooms.add_room(session, site.id)
    await audit.record(
        session,
        actor_user_id=user.id,
        action="room.add",
        entity_type="site",
        entity_id=site.id,
        detail={"room_id": room.id},
    )
    return RedirectResponse(f"{PATH}/{site.id}?done=room", status_code=303)


def _read_closure(form: FormData) -> tuple[dict[str, Any], dict[str, str], Any]:
    plain = {k: str(v) for k, v in form.items()}
    typed = _closure_blank() | {
        "room_id": plain.get("room_id", ""),
        "from": date_parts(plain, "from"),
        "until": date_parts(plain, "until"),
        "from_time": plain.get("from_time", "").strip(),
        "until_time": plain.get("until_time", "").strip(),
        "reason": plain.get("reason", "").strip(),
    }
    errors: dict[str, str] = {}
    if not typed["room_id"].isdigit():
        errors["room_id"] = "Choose the room to close"
    instants = []
    for name, label in (("from", "Closed from"), ("until", "Open again")):
        day = read_date(plain, name, f"{label} date")
        clock = read_time(typed[f"{name}_time"], f"{label} time")
        if day.error:
            errors[f"{name}-day"] = day.error
        if clock.error:
            errors[f"{name}_time"] = clock.error
        if day.value and clock.value:
            instants.append(slots.london_datetime(day.value, clock.value))
    if len(instants) == 2 and instants[1] <= instants[0]:
        errors["until-day"] = "The room must open again after it closes"
    return typed, errors, instants


@transactional
async def close_room(request: Request, session: AsyncSession) -> Response:
    form = await request.form()
    await check_csrf(request)
    user = await signed_in(request, session, ROLES)
    site = await _site(session, request)
    typed, errors, instants = _read_closure(form)
    if errors:
        return await _site_page(
            request, session, user, site, closure=typed, closure_errors=errors, status=422
        )
    room = await rooms.require_room(session, site.id, int(typed["room_id"]))
    savepoint = await session.begin_nested()
    closure, affected = await rooms.close_room(
        session, room, start=instants[0], end=instants[1], reason=typed["reason"], user_id=user.id
    )
    if affected and form.get("confirm") != "yes":
        await savepoint.rollback()
        return templates.TemplateResponse(
            request,
            "admin/closure_check.html",
            page_context(
                request,
                user,
                title=f"Check: closing {room.name} falls over booked appointments",
                site=site,
                room=room,
                affected=affected,
                carried={k: str(v) for k, v in form.items() if k not in ("csrf", "confirm")},
            ),
        )
    await savepoint.commit()
    await audit.record(
        session,
        actor_user_id=user.id,
        action="room.close",
        entity_type="site",
        entity_id=site.id,
        detail={
            "room_id": room.id,
            "closure_id": closure.id,
            "appointments_affected": len(affected),
        },
    )
    return RedirectResponse(f"{PATH}/{site.id}?done=closed", status_code=303)


def routes() -> list[Route]:
    return [
        Route(PATH, sites_page, methods=["GET"]),
        Route(f"{PATH}/{{site_id}}", site_page, methods=["GET"]),
        Route(f"{PATH}/{{site_id}}", change_site, methods=["POST"]),
        Route(f"{PATH}/{{site_id}}/rooms", add_room, methods=["POST"]),
        Route(f"{PATH}/{{site_id}}/closures", close_room, methods=["POST"]),
    ]
