"""The admin's site pages: every hospital and hub, a new site (through the API's own
`directory.create_site`, audited here), one site's details changed (address, postcode,
Integrated Care Community, the directions and phone number messages give patients), and a
hub's video rooms: another room, or a room closed for a period, with the bookings the closure
falls over shown first and saved only when confirmed.

A site has no coordinates of its own: travel figures look its postcode up in the postcode
table when they need it (`travel.records.point_of`), so the site's page says when that table
does not hold it."""

from __future__ import annotations

from typing import Any

import pydantic
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import directory, directory_changes, rooms, slots
from scheduling.directory_schemas import SiteIn
from scheduling.models import Site, SiteKind
from telehealth.admin import forms
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import Conflict, InvalidInput
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.forms import date_parts, read_date, read_time
from telehealth.kernel.web.staff import roles_for, signed_in
from telehealth.travel.records import point_of

PATH = "/staff/admin/sites"
ROLES = roles_for(PATH)
KINDS = {
    SiteKind.HOSPITAL: "Hospital",
    SiteKind.COMMUNITY_HUB: "Community hub",
    SiteKind.GP_PRACTICE: "GP practice",
}
TEXT_FIELDS = ("name", "address", "postcode", "icc", "directions", "phone")
# A new site's form, in the order it asks.
NEW_FIELDS = ("organisation_id", "kind", *TEXT_FIELDS, "video_rooms")
OPTIONAL = ("icc", "directions", "phone")
LABELS = {
    "organisation_id": "Organisation",
    "kind": "Kind of site",
    "name": "Name",
    "address": "Address",
    "postcode": "Postcode",
    "icc": "Integrated Care Community",
    "directions": "Directions",
    "phone": "Phone number",
    "video_rooms": "Video rooms",
}
NOTICES = {
    "created": "The site is added.",
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
    return forms.render(request, user, "sites.html", "Sites", rows=rows)


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
    affected: list[Any] | None = None,
    status: int = 200,
) -> Response:
    """The site's page: its details form and a hub's rooms. `errors` are the one form's that
    was posted (the details' and the closure's fields have different names)."""
    hub_rooms = await rooms.list_rooms(session, site.id)
    closure = closure or _closure_blank()
    return forms.render(
        request,
        user,
        "site_form.html",
        f"Change {site.name}",
        errors=errors,
        status=status,
        site=site,
        is_hub=site.kind == SiteKind.COMMUNITY_HUB,
        located=await point_of(session, site.postcode) is not None,
        form=values or _values(site),
        closure=closure,
        room_items=[
            {"value": str(r.id), "text": r.name, "selected": closure["room_id"] == str(r.id)}
            for r in hub_rooms
            if r.active
        ],
        rooms=hub_rooms,
        closures=await rooms.closures_from(session, site.id, utcnow()),
        affected=affected,
        notice=NOTICES.get(request.query_params.get("done", "")),
    )


@transactional
async def site_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    return await _site_page(
        request, session, user, await forms.row_at(request, session, Site, "site_id")
    )


def _changes(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    values = forms.texts(form, TEXT_FIELDS) | {"active": str(form.get("active", "yes"))}
    changes: dict[str, Any] = {
        name: (values[name] or None) if name in OPTIONAL else values[name] for name in TEXT_FIELDS
    }
    changes["active"] = values["active"] == "yes"
    return values, changes


@transactional
async def change_site(request: Request, session: AsyncSession) -> Response:
    form, user = await forms.posted(request, session, ROLES)
    site = await forms.row_at(request, session, Site, "site_id")
    values, changes = _changes(form)
    try:
        _, affected = await directory_changes.update_site(
            session, site.id, forms.changed(site, changes), actor_user_id=user.id
        )
    except (InvalidInput, Conflict) as exc:
        return await _site_page(
            request,
            session,
            user,
            site,
            values=values,
            errors=forms.field_errors(exc, LABELS, fallback="name"),
            status=forms.status_of(exc),
        )
    if affected:
        return await _site_page(request, session, user, site, affected=affected)
    return RedirectResponse(f"{PATH}/{site.id}?done=updated", status_code=303)


# --- a new site -------------------------------------------------------------------------------


async def _new_page(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return forms.render(
        request,
        user,
        "site_new.html",
        "Add a site",
        errors=errors,
        status=status,
        form=values,
        organisation_items=await forms.organisation_choices(session, values["organisation_id"]),
        kind_items=[
            {"value": kind.value, "text": text, "checked": values["kind"] == kind.value}
            for kind, text in KINDS.items()
        ],
    )


def _missing(values: dict[str, str]) -> dict[str, str]:
    """What the form must have before the site's own rules are asked (in the form's order)."""
    errors = {}
    if not values["organisation_id"].isdigit():
        errors["organisation_id"] = "Choose the organisation that runs the site"
    if values["kind"] not in {kind.value for kind in KINDS}:
        errors["kind"] = "Choose the kind of site"
    if not values["name"]:
        errors["name"] = "Enter the site's name"
    if not values["postcode"]:
        errors["postcode"] = "Enter the site's postcode"
    if not values["video_rooms"].isdigit():
        errors["video_rooms"] = "Enter the number of video rooms as a whole number, like 2"
    elif int(values["video_rooms"]) and values["kind"] != SiteKind.COMMUNITY_HUB:
        errors["video_rooms"] = "Only a community hub has video rooms: enter 0"
    return errors


def _site_in(values: dict[str, str]) -> SiteIn:
    """The API's own create body, so the page keeps its rules (the postcode's form, the phone
    number's, lengths); raises pydantic's ValidationError naming the fields."""
    return SiteIn(
        organisation_id=int(values["organisation_id"]),
        kind=SiteKind(values["kind"]),
        name=values["name"],
        address=values["address"],
        postcode=values["postcode"],
        video_rooms=int(values["video_rooms"]),
        **{name: values[name] or None for name in OPTIONAL},
    )


def _new_values(form: FormData) -> dict[str, str]:
    values = forms.texts(form, NEW_FIELDS)
    return values | {"video_rooms": values["video_rooms"] or "0"}


@transactional
async def new_site_form(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    blank = dict.fromkeys(NEW_FIELDS, "") | {"video_rooms": "0"}
    return await _new_page(request, session, user, blank)


@transactional
async def create_site(request: Request, session: AsyncSession) -> Response:
    form, user = await forms.posted(request, session, ROLES)
    values = _new_values(form)
    errors = _missing(values)
    if errors:
        return await _new_page(request, session, user, values, errors, status=422)
    try:
        site = await directory.create_site(session, _site_in(values))
    except (pydantic.ValidationError, InvalidInput, Conflict) as exc:
        errors = forms.field_errors(exc, LABELS, fallback="name")
        return await _new_page(request, session, user, values, errors, forms.status_of(exc))
    await forms.audited(session, user, "site.create", ("site", site.id), site.model_dump())
    return RedirectResponse(f"{PATH}/{site.id}?done=created", status_code=303)


# --- a hub's video rooms ----------------------------------------------------------------------


@transactional
async def add_room(request: Request, session: AsyncSession) -> Response:
    _, user = await forms.posted(request, session, ROLES)
    site = await forms.row_at(request, session, Site, "site_id")
    if site.kind != SiteKind.COMMUNITY_HUB:
        raise InvalidInput.field("site", "only community hubs have video rooms")
    room = await rooms.add_room(session, site.id)
    await forms.audited(session, user, "room.add", ("site", site.id), {"room_id": room.id})
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
    form, user = await forms.posted(request, session, ROLES)
    site = await forms.row_at(request, session, Site, "site_id")
    typed, errors, instants = _read_closure(form)
    if errors:
        return await _site_page(
            request, session, user, site, closure=typed, errors=errors, status=422
        )
    room = await rooms.require_room(session, site.id, int(typed["room_id"]))
    savepoint = await session.begin_nested()
    closure, affected = await rooms.close_room(
        session, room, start=instants[0], end=instants[1], reason=typed["reason"], user_id=user.id
    )
    if affected and form.get("confirm") != "yes":
        await savepoint.rollback()
        return forms.render(
            request,
            user,
            "closure_check.html",
            f"Check: closing {room.name} falls over booked appointments",
            site=site,
            room=room,
            affected=affected,
            carried={k: str(v) for k, v in form.items() if k not in ("csrf", "confirm")},
        )
    await savepoint.commit()
    detail = {"room_id": room.id, "closure_id": closure.id, "appointments_affected": len(affected)}
    await forms.audited(session, user, "room.close", ("site", site.id), detail)
    return RedirectResponse(f"{PATH}/{site.id}?done=closed", status_code=303)


def routes() -> list[Route]:
    pages = forms.directory_routes(
        PATH, sites_page, new=(new_site_form, create_site), one=("site_id", site_page, change_site)
    )
    return [
        *pages,
        Route(f"{PATH}/{{site_id}}/rooms", add_room, methods=["POST"]),
        Route(f"{PATH}/{{site_id}}/closures", close_room, methods=["POST"]),
    ]
