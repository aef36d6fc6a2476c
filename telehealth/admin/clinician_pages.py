"""The admin's clinician pages: every clinician, a new one and one changed (name, profession,
email, whether they take bookings), through the API's own services. A clinician's login is
linked on the user's page; their sessions and leave are on their availability page."""

from __future__ import annotations

from typing import Any

import pydantic
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import directory, directory_changes
from scheduling.directory_schemas import ClinicianIn
from scheduling.models import Clinician
from scheduling.rebooking import ToRebook
from telehealth.admin import forms
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.errors import Conflict, InvalidInput
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import roles_for, signed_in

PATH = "/staff/admin/clinicians"
ROLES = roles_for(PATH)
FIELDS = ("organisation_id", "name", "profession", "email")
LABELS = {
    "organisation_id": "Organisation",
    "name": "Name",
    "profession": "Profession",
    "email": "Email address",
}
NOTICES = {"created": "The clinician is added.", "updated": "The clinician's changes are saved."}


@transactional
async def clinicians_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    rows = [
        [
            {"html": Markup('<a href="{}/{}">{}</a>').format(PATH, c.id, c.name)},
            {"text": c.profession},
            {"text": c.email},
            {"text": ("Linked" if c.user_id else "No login") + ("" if c.active else ", inactive")},
            {
                "html": Markup(
                    '<a href="/staff/availability?clinician_id={}">Availability'
                    '<span class="nhsuk-u-visually-hidden"> of {}</span></a>'
                ).format(c.id, c.name)
            },
        ]
        for c in await session.scalars(select(Clinician).order_by(Clinician.name))
    ]
    notice = NOTICES.get(request.query_params.get("done", ""))
    return forms.render(request, user, "clinicians.html", "Clinicians", rows=rows, notice=notice)


async def _form(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    editing: Clinician | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    *,
    affected: list[ToRebook] | None = None,
    status: int = 200,
) -> Response:
    """The form for `editing`, or for a new clinician when None."""
    return forms.render(
        request,
        user,
        "clinician_form.html",
        f"Change {editing.name}" if editing else "Add a clinician",
        errors=errors,
        status=status,
        editing=editing,
        form=values,
        affected=affected,
        organisation_items=await forms.organisation_choices(session, values["organisation_id"]),
    )


def _typed(form: FormData) -> dict[str, Any]:
    return forms.texts(form, FIELDS) | {"active": str(form.get("active", "yes"))}


def _errors(exc: forms.Refusal) -> dict[str, str]:
    # A refusal naming no field is a duplicate: another clinician has that email address.
    return forms.field_errors(exc, LABELS, fallback="email")


BLANK = {"organisation_id": "", "name": "", "profession": "", "email": "", "active": "yes"}


@transactional
async def new_form(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    return await _form(request, session, user, None, dict(BLANK))


@transactional
async def create(request: Request, session: AsyncSession) -> Response:
    form, user = await forms.posted(request, session, ROLES)
    values = _typed(form)
    if not values["organisation_id"].isdigit():
        errors = {"organisation_id": "Choose the clinician's organisation"}
        return await _form(request, session, user, None, values, errors, status=422)
    try:
        data = ClinicianIn(
            organisation_id=int(values["organisation_id"]),
            name=values["name"],
            profession=values["profession"],
            email=values["email"],
        )
        await directory.create_clinician(session, data)
    except (pydantic.ValidationError, InvalidInput, Conflict) as exc:
        status = forms.status_of(exc)
        return await _form(request, session, user, None, values, _errors(exc), status=status)
    return RedirectResponse(f"{PATH}?done=created", status_code=303)


def _values(c: Clinician) -> dict[str, Any]:
    return {
        "organisation_id": str(c.organisation_id),
        "name": c.name,
        "profession": c.profession,
        "email": c.email,
        "active": "yes" if c.active else "no",
    }


@transactional
async def edit_form(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    clinician = await directory.get_clinician(session, path_id(request, "clinician_id"))
    return await _form(request, session, user, clinician, _values(clinician))


@transactional
async def change(request: Request, session: AsyncSession) -> Response:
    form, user = await forms.posted(request, session, ROLES)
    clinician = await directory.get_clinician(session, path_id(request, "clinician_id"))
    values = _typed(form) | {"organisation_id": str(clinician.organisation_id)}
    wanted = {
        "name": values["name"],
        "profession": values["profession"],
        "email": values["email"].lower(),
        "active": values["active"] == "yes",
    }
    try:
        _, affected = await directory_changes.update_clinician(
            session, clinician.id, forms.changed(clinician, wanted), actor_user_id=user.id
        )
    except (InvalidInput, Conflict) as exc:
        status = forms.status_of(exc)
        return await _form(request, session, user, clinician, values, _errors(exc), status=status)
    if affected:
        shown = _values(clinician)
        return await _form(request, session, user, clinician, shown, affected=affected)
    return RedirectResponse(f"{PATH}?done=updated", status_code=303)


def routes() -> list[Route]:
    return forms.directory_routes(
        PATH, clinicians_page, new=(new_form, create), one=("clinician_id", edit_form, change)
    )
