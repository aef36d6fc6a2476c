"""Adding a weekly or one-off session, and removing one. Adding time never leaves a booking
outside the clinician's hours; removing a session may, so the page lists the appointments it
would leave outside every session and asks first (a savepoint, as for leave)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pydantic
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import availability
from scheduling.directory_schemas import SessionIn
from scheduling.models import Mode, Service, Site, SiteKind
from scheduling.wording import how
from telehealth.clinicians.week import monday_of
from telehealth.clinicians.whose import PATH, Whose, require_change, whose
from telehealth.kernel import audit
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import transactional
from telehealth.kernel.validation import plain_fields
from telehealth.kernel.web.forms import date_parts, read_date, read_time
from telehealth.kernel.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates

ROLES = roles_for(PATH)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# SessionIn's fields to the form's (each error links to what to fix).
FORM_FIELD = {
    "date": "on-day",
    "valid_from": "from-day",
    "valid_until": "until-day",
    "weekday": "weekday",
    "start_time": "start_time",
    "end_time": "end_time",
    "modes": "modes",
    "service_ids": "service_ids",
    "site_id": "site_id",
    "hub_ids": "hub_ids",
}
LABELS = {
    "weekday": "The day of the week",
    "date": "The date",
    "valid_from": "The first date",
    "valid_until": "The last date",
    "start_time": "The start time",
    "end_time": "The end time",
    "modes": "The ways to be seen",
    "service_ids": "The services",
    "site_id": "The site",
    "hub_ids": "The hubs",
}


@dataclass
class SessionForm:
    typed: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    data: SessionIn | None = None


def _typed(form: FormData | dict[str, str]) -> dict[str, Any]:
    plain = {k: str(v) for k, v in form.items()}

    def many(name: str) -> list[str]:
        return [str(v) for v in form.getlist(name)] if isinstance(form, FormData) else []

    return {
        "kind": "one_off" if plain.get("kind") == "one_off" else "weekly",
        "weekday": plain.get("weekday", ""),
        "from": date_parts(plain, "from"),
        "until": date_parts(plain, "until"),
        "on": date_parts(plain, "on"),
        "start_time": plain.get("start_time", "").strip(),
        "end_time": plain.get("end_time", "").strip(),
        "modes": many("modes"),
        "service_ids": many("service_ids"),
        "site_id": plain.get("site_id", ""),
        "hub_ids": many("hub_ids"),
    }


def read_session(form: FormData) -> SessionForm:
    plain = {k: str(v) for k, v in form.items()}
    shown = SessionForm(_typed(form))
    typed = shown.typed
    values: dict[str, Any] = {}
    if typed["kind"] == "one_off":
        on = read_date(plain, "on", "Date")
        values["date"] = on.value
        if on.error:
            shown.errors["on-day"] = on.error
    else:
        values["weekday"] = int(typed["weekday"]) if typed["weekday"].isdigit() else None
        first = read_date(plain, "from", "First date")
        values["valid_from"] = first.value
        if first.error:
            shown.errors["from-day"] = first.error
        if any(typed["until"].values()):
            last = read_date(plain, "until", "Last date")
            values["valid_until"] = last.value
            if last.error:
                shown.errors["until-day"] = last.error
    for name, label in (("start_time", "Start time"), ("end_time", "End time")):
        read = read_time(typed[name], label)
        values[name] = read.value
        if read.error:
            shown.errors[name] = read.error
    if shown.errors:
        return shown
    try:
        shown.data = SessionIn(
            **values,
            modes=typed["modes"],
            service_ids=[int(i) for i in typed["service_ids"] if i.isdigit()],
            site_id=int(typed["site_id"]) if typed["site_id"].isdigit() else None,
            hub_ids=[int(i) for i in typed["hub_ids"] if i.isdigit()] or None,
        )
    except pydantic.ValidationError as exc:
        for name, message in plain_fields(exc, LABELS).items():
            shown.errors.setdefault(FORM_FIELD.get(name.split(".")[0], "start_time"), message)
    return shown


def _errors(fields: dict[str, str]) -> dict[str, str]:
    found = {}
    for name, message in fields.items():
        key = name.split(".")[0]
        for other, label in LABELS.items():
            message = message.replace(other, label.lower())
        found[FORM_FIELD.get(key, "start_time")] = f"{LABELS.get(key, 'The session')} {message}"
    return found


async def _form_page(
    request: Request,
    session: AsyncSession,
    user: Any,
    who: Whose,
    shown: SessionForm,
    status: int = 200,
) -> Response:
    services = await session.scalars(
        select(Service).where(Service.active.is_(True)).order_by(Service.name)
    )
    sites = list(
        await session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name))
    )
    typed = shown.typed
    title = "Add a one-off session" if typed["kind"] == "one_off" else "Add a weekly session"
    return templates.TemplateResponse(
        request,
        "clinicians/session_form.html",
        page_context(
            request,
            user,
            title=f"Error: {title}" if shown.errors else title,
            heading=title,
            who=who,
            form=typed,
            errors=shown.errors,
            weekdays=[
                {"value": str(n), "text": name, "selected": typed["weekday"] == str(n)}
                for n, name in enumerate(WEEKDAYS)
            ],
            mode_items=[
                {"value": m.value, "text": how(m.value), "checked": m.value in typed["modes"]}
                for m in Mode
            ],
            service_items=[
                {"value": str(s.id), "text": s.name, "checked": str(s.id) in typed["service_ids"]}
                for s in services
            ],
            site_items=[{"value": "", "text": "None (video only)"}]
            + [
                {"value": str(s.id), "text": s.name, "selected": typed["site_id"] == str(s.id)}
                for s in sites
                if s.kind != SiteKind.COMMUNITY_HUB
            ],
            hub_items=[
                {"value": str(s.id), "text": s.name, "checked": str(s.id) in typed["hub_ids"]}
                for s in sites
                if s.kind == SiteKind.COMMUNITY_HUB
            ],
        ),
        status_code=status,
    )


@transactional
async def session_form(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    who = require_change(await whose(request, session, user))
    kind = "one_off" if request.query_params.get("kind") == "one_off" else "weekly"
    return await _form_page(request, session, user, who, SessionForm(_typed({"kind": kind})))


@transactional
async def add_session(request: Request, session: AsyncSession) -> Response:
    plain = await check_csrf(request)
    form = await request.form()
    user = await signed_in(request, session, ROLES)
    who = require_change(await whose(request, session, user, plain))
    shown = read_session(form)
    if shown.data is None:
        return await _form_page(request, session, user, who, shown, 422)
    try:
        async with session.begin_nested():
            added = await availability.create_session(
                session, clinician_id=who.clinician.id, data=shown.data
            )
    except InvalidInput as exc:
        shown.errors.update(_errors(exc.fields))
        return await _form_page(request, session, user, who, shown, 422)
    await audit.record(
        session,
        actor_user_id=user.id,
        action="availability.session.add",
        entity_type="clinician",
        entity_id=who.clinician.id,
        detail={"session_id": added.id},
    )
    week = monday_of(shown.data.date or shown.data.valid_from or added.valid_from).isoformat()
    return RedirectResponse(who.url(week=week, done="session"), status_code=303)


@transactional
async def remove_session(request: Request, session: AsyncSession) -> Response:
    form = await check_csrf(request)
    user = await signed_in(request, session, ROLES)
    who = require_change(await whose(request, session, user, form))
    session_id = path_id(request, "session_id")
    savepoint = await session.begin_nested()
    affected = await availability.delete_session(
        session, clinician_id=who.clinician.id, session_id=session_id
    )
    if affected and form.get("confirm") != "yes":
        await savepoint.rollback()
        return templates.TemplateResponse(
            request,
            "clinicians/session_check.html",
            page_context(
                request,
                user,
                title="Check: removing this session leaves appointments outside your hours",
                who=who,
                affected=affected,
                session_id=session_id,
                week=form.get("week", ""),
            ),
        )
    await savepoint.commit()
    await audit.record(
        session,
        actor_user_id=user.id,
        action="availability.session.remove",
        entity_type="clinician",
        entity_id=who.clinician.id,
        detail={"session_id": session_id, "appointments_affected": len(affected)},
    )
    params = {"week": form["week"]} if form.get("week") else {}
    return RedirectResponse(who.url(done="session-removed", **params), status_code=303)


def routes() -> list[Route]:
    return [
        Route(f"{PATH}/sessions", session_form, methods=["GET"]),
        Route(f"{PATH}/sessions", add_session, methods=["POST"]),
        Route(f"{PATH}/sessions/{{session_id}}/remove", remove_session, methods=["POST"]),
    ]
