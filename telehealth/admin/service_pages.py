"""The admin's service pages: every service, and one service's rules changed in a form.

A change goes through `scheduling.directory_changes.update_service`, as the API's PATCH does
(validated as a new service is, audited with its values before and after); the page then lists
the booked appointments the change leaves not fitting, for the navigators to rebook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import directory, directory_changes
from scheduling.models import Mode, Service, Site
from scheduling.rebooking import ToRebook
from scheduling.wording import how
from telehealth.kernel.errors import Conflict, InvalidInput, NotFound
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates

ROLES = roles_for("/staff/admin/services")
MODE_LABELS = {m.value: how(m.value) for m in Mode}

# The form's fields in the order it asks them, with what the error summary says when a number
# is not a whole number. Durations are asked in the unit people think in (hours for notice).
NUMBERS = {
    "length_minutes": ("Enter the appointment length in minutes", 1),
    "buffer_minutes": ("Enter the gap after each appointment in minutes", 1),
    "min_notice_hours": ("Enter the booking notice in hours", 60),
    "horizon_days": ("Enter how many days ahead patients can book", 1),
    "change_notice_hours": ("Enter the notice for changes in hours", 60),
}
# Form field -> the service's field it sets (and the factor to its unit).
TARGET = {
    "length_minutes": "length_minutes",
    "buffer_minutes": "buffer_minutes",
    "min_notice_hours": "min_notice_minutes",
    "horizon_days": "horizon_days",
    "change_notice_hours": "change_notice_minutes",
}
ORDER = (
    "name",
    "specialty",
    "length_minutes",
    "buffer_minutes",
    "modes",
    "usual_site_id",
    "min_notice_hours",
    "horizon_days",
    "change_notice_hours",
    "phone",
    "active",
)


@dataclass
class ServiceForm:
    """What the form shows: the service's values as typed (strings), and what is wrong."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def form_of(service: Service) -> ServiceForm:
    return ServiceForm(
        values={
            "name": service.name,
            "specialty": service.specialty,
            "length_minutes": str(service.length_minutes),
            "buffer_minutes": str(service.buffer_minutes),
            "modes": list(service.modes),
            "usual_site_id": str(service.usual_site_id),
            "min_notice_hours": _hours(service.min_notice_minutes),
            "horizon_days": str(service.horizon_days),
            "change_notice_hours": _hours(service.change_notice_minutes),
            "phone": service.phone or "",
            "active": "yes" if service.active else "no",
        }
    )


def _hours(minutes: int) -> str:
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes / 60:g}"


def changes_from(form: FormData) -> tuple[ServiceForm, dict[str, Any]]:
    """The typed form, and the changes it asks for in the service's own fields and units."""
    typed: dict[str, Any] = {
        name: str(form.get(name, "")).strip() for name in ORDER if name != "modes"
    }
    typed["modes"] = [str(m) for m in form.getlist("modes")]
    shown = ServiceForm(values=typed)
    changes: dict[str, Any] = {
        "name": typed["name"],
        "specialty": typed["specialty"],
        "modes": typed["modes"],
        "phone": typed["phone"] or None,
        "active": typed["active"] == "yes",
    }
    for name, (missing, factor) in NUMBERS.items():
        number = _number(typed[name], factor)
        if number is None:
            shown.errors[name] = missing
        else:
            changes[TARGET[name]] = number
    try:
        changes["usual_site_id"] = int(typed["usual_site_id"])
    except ValueError:
        shown.errors["usual_site_id"] = "Choose the service's usual site"
    if not typed["modes"]:
        shown.errors["modes"] = "Choose at least one way patients can be seen"
    return shown, changes


def _number(text: str, factor: int) -> int | None:
    """A whole number of the form's unit (hours may be halves: "1.5"), in the service's."""
    try:
        value = float(text)
    except ValueError:
        return None
    scaled = value * factor
    if scaled != int(scaled) or value < 0:
        return None
    return int(scaled)


def _errors_from(exc: InvalidInput) -> dict[str, str]:
    """The domain's field names back to the form's (minutes asked as hours)."""
    back = {service_field: form_field for form_field, service_field in TARGET.items()}
    found = {}
    for name, message in exc.fields.items():
        form_field = back.get(name, name)
        if form_field not in ORDER:
            form_field = "name"
        found[form_field] = f"{_LABELS.get(form_field, form_field)} {message}"
    return found or {"name": exc.message}


_LABELS = {
    "name": "Name",
    "specialty": "Specialty",
    "length_minutes": "Appointment length",
    "buffer_minutes": "Gap after each appointment",
    "modes": "Ways to be seen",
    "usual_site_id": "Usual site",
    "min_notice_hours": "Booking notice",
    "horizon_days": "Booking horizon",
    "change_notice_hours": "Notice for changes",
    "phone": "Phone number",
    "active": "Status",
}


@transactional
async def services_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    services = list(await session.scalars(select(Service).order_by(Service.name)))
    sites = {s.id: s.name for s in await session.scalars(select(Site))}
    rows = [
        [
            {
                "html": Markup('<a href="/staff/admin/services/{}">{}</a>{}').format(
                    s.id, s.name, "" if s.active else " (closed)"
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
    return templates.TemplateResponse(
        request,
        "admin/services.html",
        page_context(
            request,
            user,
            title="Services",
            rows=rows,
            updated=request.query_params.get("updated"),
        ),
    )


async def _form_page(
    request: Request,
    session: AsyncSession,
    user: Any,
    service: Service,
    form: ServiceForm,
    *,
    affected: list[ToRebook] | None = None,
    status_code: int = 200,
) -> Response:
    sites = await directory.list_sites(session)
    title = f"Change {service.name}"
    return templates.TemplateResponse(
        request,
        "admin/service_form.html",
        page_context(
            request,
            user,
            title=f"Error: {title}" if form.errors else title,
            heading=title,
            service=service,
            form=form,
            errors={name: form.errors[name] for name in ORDER if name in form.errors},
            mode_items=[
                {
                    "value": m.value,
                    "text": MODE_LABELS[m.value],
                    "checked": m.value in form.values["modes"],
                }
                for m in Mode
            ],
            site_items=[
                {
                    "value": str(s.id),
                    "text": s.name,
                    "selected": str(s.id) == form.values["usual_site_id"],
                }
                for s in sites
            ],
            affected=affected,
        ),
        status_code=status_code,
    )


async def _service(session: AsyncSession, request: Request) -> Service:
    service_id = path_id(request, "service_id")
    service = await session.get(Service, service_id)
    if service is None:
        raise NotFound(f"no service with id {service_id}")
    return service


@transactional
async def service_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    service = await _service(session, request)
    return await _form_page(request, session, user, service, form_of(service))


@transactional
async def change_service(request: Request, session: AsyncSession) -> Response:
    form = await request.form()
    await check_csrf(request)
    user = await signed_in(request, session, ROLES)
    service = await _service(session, request)
    shown, changes = changes_from(form)
    if shown.errors:
        return await _form_page(request, session, user, service, shown, status_code=422)
    try:
        _, affected = await directory_changes.update_service(
            session, service.id, _only_changed(service, changes), actor_user_id=user.id
        )
    except InvalidInput as exc:
        shown.errors.update(_errors_from(exc))
        return await _form_page(request, session, user, service, shown, status_code=422)
    except Conflict as exc:
        shown.errors["name"] = exc.message[0].upper() + exc.message[1:]
        return await _form_page(request, session, user, service, shown, status_code=409)
    if affected:
        # The change is saved; what it leaves not fitting is shown before moving on.
        return await _form_page(
            request, session, user, service, form_of(service), affected=affected
        )
    return RedirectResponse(f"/staff/admin/services?updated={service.id}", status_code=303)


def _only_changed(service: Service, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The fields whose value differs: an unchanged form changes (and audits) nothing."""
    return {
        name: value
        for name, value in changes.items()
        if (list(getattr(service, name)) if name == "modes" else getattr(service, name)) != value
    }


def routes() -> list[Route]:
    return [
        Route("/staff/admin/services", services_page, methods=["GET"]),
        Route("/staff/admin/services/{service_id}", service_page, methods=["GET"]),
        Route("/staff/admin/services/{service_id}", change_service, methods=["POST"]),
    ]
