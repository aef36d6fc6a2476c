"""The admin's staff user pages: every login, a new one, one changed (name, role, active, the
clinician record it is linked to, the hubs a reception login works at) and a password reset
(a generated password shown this once). Each change goes through the same services as the
API's, checked and audited there."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import access, directory, directory_changes
from scheduling.models import Clinician, Site, SiteKind, StaffSite
from telehealth.admin import forms
from telehealth.kernel.auth import service as auth
from telehealth.kernel.auth.models import ROLE_VALUES, Role, StaffUser
from telehealth.kernel.auth.passwords import MIN_PASSWORD_LENGTH
from telehealth.kernel.errors import Conflict, InvalidInput
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import roles_for, signed_in
from telehealth.users.service import clinician_links

PATH = "/staff/admin/users"
ROLES = roles_for(PATH)
ROLE_NAMES = {
    Role.ADMIN: "Admin",
    Role.CLINICIAN: "Clinician",
    Role.NAVIGATOR: "Care navigator",
    Role.RECEPTION: "Reception (community hub)",
    Role.ANALYST: "Analyst (reports only)",
}
NOTICES = {
    "created": "The user is added.",
    "updated": "The user's changes are saved.",
}


@transactional
async def users_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    users = await auth.list_users(session)
    links = await clinician_links(session, [u.id for u in users])
    clinicians = {c.id: c.name for c in await session.scalars(select(Clinician))}
    rows = [
        [
            {"html": Markup('<a href="{}/{}">{}</a>').format(PATH, u.id, u.name)},
            {"text": u.email},
            {"text": ROLE_NAMES[Role(u.role)]},
            {
                "text": clinicians.get(links.get(u.id, 0), "")
                or ("Active" if u.active else "Deactivated")
            },
        ]
        for u in users
    ]
    notice = NOTICES.get(request.query_params.get("done", ""))
    return forms.render(request, user, "users.html", "Users", rows=rows, notice=notice)


async def _choices(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    clinicians = await session.scalars(select(Clinician).order_by(Clinician.name))
    hubs = await session.scalars(
        select(Site).where(Site.kind == SiteKind.COMMUNITY_HUB.value).order_by(Site.name)
    )
    return {
        "role_items": [
            {"value": r, "text": ROLE_NAMES[Role(r)], "checked": values.get("role") == r}
            for r in ROLE_VALUES
        ],
        "clinician_items": [{"value": "", "text": "Not linked"}]
        + [
            {
                "value": str(c.id),
                "text": f"{c.name} ({c.email})",
                "selected": values.get("clinician_id") == str(c.id),
            }
            for c in clinicians
        ],
        "hub_items": [
            {"value": str(h.id), "text": h.name, "checked": str(h.id) in values.get("hub_ids", [])}
            for h in hubs
        ],
    }


async def _form(
    request: Request,
    session: AsyncSession,
    admin: StaffUser,
    editing: StaffUser | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    *,
    status: int = 200,
    password: str | None = None,
) -> Response:
    """The form for `editing`, or for a new login when None."""
    return forms.render(
        request,
        admin,
        "user_form.html",
        f"Change {editing.name}" if editing else "Add a user",
        errors=errors,
        status=status,
        editing=editing,
        form=values,
        password=password,
        min_password=MIN_PASSWORD_LENGTH,
        **await _choices(session, values),
    )


BLANK: dict[str, Any] = {
    "name": "",
    "email": "",
    "role": "",
    "password": "",
    "active": "yes",
    "clinician_id": "",
    "hub_ids": [],
}


def _typed(form: FormData) -> dict[str, Any]:
    return forms.texts(form, ("name", "email")) | {
        "role": str(form.get("role", "")),
        "password": str(form.get("password", "")),
        "active": str(form.get("active", "yes")),
        "clinician_id": str(form.get("clinician_id", "")),
        "hub_ids": [str(h) for h in form.getlist("hub_ids")],
    }


def _missing(values: dict[str, Any], *, new: bool) -> dict[str, str]:
    errors = {}
    if not values["name"]:
        errors["name"] = "Enter the user's full name"
    if new and not values["email"]:
        errors["email"] = "Enter the user's email address"
    if values["role"] not in ROLE_VALUES:
        errors["role"] = "Choose the user's role"
    if values["clinician_id"] and values["role"] != Role.CLINICIAN:
        errors["clinician_id"] = "Only a clinician's login can be linked to a clinician record"
    if values["hub_ids"] and values["role"] != Role.RECEPTION:
        errors["hub_ids-1"] = "Only a reception login works at hubs"
    return errors


LABELS = {
    "name": "Name",
    "email": "Email address",
    "password": "Password",
    "role": "Role",
    "clinician_id": "Clinician record",
    "hub_ids-1": "Hubs",
}


def _field_errors(exc: InvalidInput | Conflict, fallback: str) -> dict[str, str]:
    """The service's refusal as the form's errors ("Password must be at least 10 ..."): what
    the services call a hub ("site") and a login ("user_id", on a clinician record) are asked
    here as the hubs' checkboxes and the clinician record's choice."""
    rename = {"site": "hub_ids-1", "user_id": "clinician_id"}
    return forms.field_errors(exc, LABELS, fallback=fallback, rename=rename)


def _wanted_clinician(values: dict[str, Any]) -> int | None:
    return int(values["clinician_id"]) if values["clinician_id"].isdigit() else None


async def _unlink_unless(
    session: AsyncSession, admin: StaffUser, user: StaffUser, wanted: int | None
) -> None:
    """Unlink the clinician record the login is linked to, unless it is the one wanted (first,
    so that a login unlinked in the same change may take another role)."""
    current = await directory.linked_clinician(session, user.id)
    if current is not None and current != wanted:
        await directory_changes.update_clinician(
            session, current, {"user_id": None}, actor_user_id=admin.id
        )


async def _link(
    session: AsyncSession, admin: StaffUser, user: StaffUser, values: dict[str, Any]
) -> None:
    """Link the login to the chosen clinician record, and set a reception login's hubs."""
    wanted = _wanted_clinician(values)
    if wanted is not None and wanted != await directory.linked_clinician(session, user.id):
        await directory_changes.update_clinician(
            session, wanted, {"user_id": user.id}, actor_user_id=admin.id
        )
    if user.role == Role.RECEPTION:
        await access.set_hubs(session, user, [int(h) for h in values["hub_ids"]])


@transactional
async def new_user_form(request: Request, session: AsyncSession) -> Response:
    admin = await signed_in(request, session, ROLES)
    return await _form(request, session, admin, None, dict(BLANK))


@transactional
async def create_user(request: Request, session: AsyncSession) -> Response:
    form, admin = await forms.posted(request, session, ROLES)
    values = _typed(form)
    errors = _missing(values, new=True)
    if errors:
        return await _form(request, session, admin, None, values, errors, status=422)
    try:
        async with session.begin_nested():
            user = await auth.create_user(
                session,
                email=values["email"],
                name=values["name"],
                role=values["role"],
                password=values["password"] or None,
                actor_user_id=admin.id,
            )
            await _link(session, admin, user, values)
    except (InvalidInput, Conflict) as exc:
        errors, status = _field_errors(exc, "email"), forms.status_of(exc)
        return await _form(request, session, admin, None, values, errors, status=status)
    return RedirectResponse(f"{PATH}?done=created", status_code=303)


async def _values_of(session: AsyncSession, user: StaffUser) -> dict[str, Any]:
    linked = await directory.linked_clinician(session, user.id)
    hubs = await session.scalars(select(StaffSite.site_id).where(StaffSite.user_id == user.id))
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "password": "",
        "active": "yes" if user.active else "no",
        "clinician_id": str(linked) if linked else "",
        "hub_ids": [str(h) for h in hubs],
    }


@transactional
async def user_form(request: Request, session: AsyncSession) -> Response:
    admin = await signed_in(request, session, ROLES)
    user = await auth.get_user(session, path_id(request, "user_id"))
    return await _form(request, session, admin, user, await _values_of(session, user))


@transactional
async def change_user(request: Request, session: AsyncSession) -> Response:
    form, admin = await forms.posted(request, session, ROLES)
    user = await auth.get_user(session, path_id(request, "user_id"))
    values = _typed(form) | {"email": user.email}
    errors = _missing(values, new=False)
    if errors:
        return await _form(request, session, admin, user, values, errors, status=422)
    try:
        async with session.begin_nested():
            await _unlink_unless(session, admin, user, _wanted_clinician(values))
            await auth.update_user(
                session,
                user,
                name=values["name"],
                role=values["role"],
                active=values["active"] == "yes",
                actor_user_id=admin.id,
                linked_clinician_id=await directory.linked_clinician(session, user.id),
            )
            await _link(session, admin, user, values)
    except (InvalidInput, Conflict) as exc:
        errors, status = _field_errors(exc, "role"), forms.status_of(exc)
        return await _form(request, session, admin, user, values, errors, status=status)
    return RedirectResponse(f"{PATH}?done=updated", status_code=303)


@transactional
async def reset_password(request: Request, session: AsyncSession) -> Response:
    _, admin = await forms.posted(request, session, ROLES)
    user = await auth.get_user(session, path_id(request, "user_id"))
    generated = await auth.set_password(session, user, password=None, actor_user_id=admin.id)
    values = await _values_of(session, user)
    return await _form(request, session, admin, user, values, password=generated)


def routes() -> list[Route]:
    pages = forms.directory_routes(
        PATH, users_page, new=(new_user_form, create_user), one=("user_id", user_form, change_user)
    )
    return [*pages, Route(f"{PATH}/{{user_id}}/password", reset_password, methods=["POST"])]
