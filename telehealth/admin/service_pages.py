"""The admin's service pages: every service, a new one, and one service's rules changed.

A new service goes through `scheduling.directory.create_service`, as the API's POST does
(audited here); a change through `directory_changes.update_service`, as the API's PATCH does
(validated as a new service is, audited with its values before and after), after which the
page lists the booked appointments the change leaves not fitting, for the navigators to
rebook. Reading the form is `service_form`."""

from __future__ import annotations

import pydantic
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import directory, directory_changes
from scheduling.directory_schemas import ServiceIn
from scheduling.models import Mode, Service, Site
from scheduling.rebooking import ToRebook
from scheduling.wording import how
from telehealth.admin import forms
from telehealth.admin.service_form import (
    BLANK,
    ServiceForm,
    changes_from,
    errors_from,
    form_of,
    new_service_from,
)
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.errors import Conflict, InvalidInput
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import roles_for, signed_in

PATH = "/staff/admin/services"
ROLES = roles_for(PATH)
MODE_LABELS = {m.value: how(m.value) for m in Mode}
NOTICES = {"created": "The service is added.", "updated": "The service's changes are saved."}


@transactional
async def services_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    services = list(await session.scalars(select(Service).order_by(Service.name)))
    sites = {s.id: s.name for s in await session.scalars(select(Site))}
    rows = [
        [
            {
                "html": Markup('<a href="{}/{}">{}</a>{}').format(
                    PATH, s.id, s.name, "" if s.active else " (closed)"
                )
            },
            {"text": s.specialty},
            {"text": f"{s.length_minutes} minutes"},
            {"text": ", ".join(MODE_LABELS[m] for m in s.modes)},
            {"text": sites.get(s.usual_site_id, "")},
            {"text": s.phone or "None"},
        ]
        for s in services
    ]
    done = next((name for name in NOTICES if name in request.query_params), "")
    return forms.render(
        request, user, "services.html", "Services", rows=rows, notice=NOTICES.get(done)
    )


async def _form_page(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    service: Service | None,
    form: ServiceForm,
    *,
    affected: list[ToRebook] | None = None,
    status: int = 200,
) -> Response:
    """The form for `service`, or for a new one (with its organisation) when None."""
    sites = await directory.list_sites(session)
    # Asked of a new service only (a service keeps its organisation).
    organisations = await forms.organisation_choices(session, form.values["organisation_id"])
    return forms.render(
        request,
        user,
        "service_form.html",
        f"Change {service.name}" if service else "Add a service",
        errors=form.ordered_errors(),
        status=status,
        service=service,
        form=form,
        organisation_items=organisations,
        mode_items=[
            {"value": m.value, "text": MODE_LABELS[m.value], "checked": m in form.values["modes"]}
            for m in Mode
        ],
        site_items=forms.choices(sites, form.values["usual_site_id"]),
        affected=affected,
    )


@transactional
async def new_service_form(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    return await _form_page(request, session, user, None, ServiceForm(values=dict(BLANK)))


@transactional
async def create_service(request: Request, session: AsyncSession) -> Response:
    form, user = await forms.posted(request, session, ROLES)
    shown, wanted = new_service_from(form)
    if shown.errors:
        return await _form_page(request, session, user, None, shown, status=422)
    try:
        service = await directory.create_service(session, ServiceIn(**wanted))
    except (pydantic.ValidationError, InvalidInput, Conflict) as exc:
        shown.errors.update(errors_from(exc))
        return await _form_page(request, session, user, None, shown, status=forms.status_of(exc))
    entity = ("service", service.id)
    await forms.audited(session, user, "service.create", entity, service.model_dump())
    return RedirectResponse(f"{PATH}?created={service.id}", status_code=303)


@transactional
async def service_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    service = await forms.row_at(request, session, Service, "service_id")
    return await _form_page(request, session, user, service, form_of(service))


@transactional
async def change_service(request: Request, session: AsyncSession) -> Response:
    form, user = await forms.posted(request, session, ROLES)
    service = await forms.row_at(request, session, Service, "service_id")
    shown, changes = changes_from(form)
    if shown.errors:
        return await _form_page(request, session, user, service, shown, status=422)
    try:
        _, affected = await directory_changes.update_service(
            session, service.id, forms.changed(service, changes), actor_user_id=user.id
        )
    except (InvalidInput, Conflict) as exc:
        shown.errors.update(errors_from(exc))
        return await _form_page(request, session, user, service, shown, status=forms.status_of(exc))
    if affected:
        # The change is saved; what it leaves not fitting is shown before moving on.
        return await _form_page(
            request, session, user, service, form_of(service), affected=affected
        )
    return RedirectResponse(f"{PATH}?updated={service.id}", status_code=303)


def routes() -> list[Route]:
    return forms.directory_routes(
        PATH,
        services_page,
        new=(new_service_form, create_service),
        one=("service_id", service_page, change_service),
    )
