"""The care navigator's patients: find one (by NHS number, or last name and date of birth,
never a last name alone), their details and needs, every appointment and referral they have,
and a change of their contact details and needs.

    /staff/patients              find a patient (POST searches: no NHS number in a URL)
    /staff/patients/{id}         the patient: details, needs, appointments, referrals
    /staff/patients/{id}/edit    change their contact details and needs

Every read goes through `scheduling.access.Access` (audited); a change is
`scheduling.patients.update_patient`, validated as a new patient is and audited with the
names of the fields changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import patients, wording
from scheduling.access import Access
from scheduling.models import Appointment, Patient, Service, Site
from scheduling.referral_models import Referral
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.errors import Conflict, InvalidInput
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import run_in_transaction, transactional
from telehealth.kernel.web.staff import roles_for, signed_in
from telehealth.navigators import referral_form as rf
from telehealth.navigators.pages import form_of, patient_search, render

PATH = "/staff/patients"
ROLES = roles_for(PATH)
STATUSES = {
    "booked": "Booked",
    "checked_in": "Checked in",
    "arrived": "Arrived",
    "fulfilled": "Seen",
    "noshow": "Did not attend",
    "cancelled": "Cancelled",
    "entered-in-error": "Entered in error",
}
# The edit page's fields, top to bottom (the error summary's order).
EDIT_ORDER = (
    *("nhs_number", "postcode", "email", "mobile", "contact_preference"),
    *("interpreter", "interpreter_language", "access_needs", "accessible_information"),
    "companion",
)


@transactional
async def find_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    return render(request, user, "patients.html", "Find a patient", form={}, found=None)


@transactional
async def find(request: Request, session: AsyncSession) -> Response:
    return await patient_search(
        request, session, ROLES, template="patients.html", title="Find a patient", limit=50
    )


async def appointments_of(session: AsyncSession, access: Access, patient: Patient) -> list[Any]:
    """The patient's appointments in every service this viewer may see, latest first, each
    with its service's name, how and where, in words."""
    rows = await session.execute(
        select(Appointment, Service.name, Site.name)
        .join(Service, Service.id == Appointment.service_id)
        .outerjoin(Site, Site.id == Appointment.site_id)
        .where(Appointment.patient_id == patient.id, await access.appointments_where())
        .order_by(Appointment.starts_at.desc(), Appointment.id)
    )
    return [
        {
            "appointment": a,
            "service": service,
            "status": STATUSES.get(a.status, a.status),
            "how": wording.how(a.mode, place=site, medium=a.medium),
            "changeable": a.status == "booked",
        }
        for a, service, site in rows
    ]


@transactional
async def patient_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    access = Access(session, user)
    patient = await access.patient(path_id(request, "patient_id"), action="patient.read")
    found = await appointments_of(session, access, patient)
    await access.audit(
        "appointment.list",
        "appointment",
        None,
        {"patient_id": patient.id, "ids": [row["appointment"].id for row in found]},
    )
    referral_rows = await session.execute(
        select(Referral, Service.name)
        .join(Service, Service.id == Referral.service_id)
        .where(Referral.patient_id == patient.id)
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    )
    return render(
        request,
        user,
        "patient.html",
        f"{patient.given_name} {patient.family_name}",
        patient=patient,
        appointments=found,
        referrals=[{"referral": r, "service": name} for r, name in referral_rows],
        contact=rf.CONTACT,
        priorities=rf.PRIORITIES,
        done=request.query_params.get("done", ""),
    )


def edit_values(patient: Patient) -> dict[str, str]:
    """The edit form filled in with what is stored."""
    return {
        "nhs_number": patient.nhs_number or "",
        "postcode": patient.postcode or "",
        "email": patient.email or "",
        "mobile": patient.mobile or "",
        "contact_preference": patient.contact_preference,
        "interpreter": "yes" if patient.interpreter_language else "no",
        "interpreter_language": patient.interpreter_language or "",
        "access_needs": patient.access_needs or "",
        "accessible_information": patient.accessible_information or "",
        "companion": "yes" if patient.companion else "no",
    }


def read_changes(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The details typed, under the API's names (empty: cleared), and the form's own errors."""
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {
        name: form.get(name, "").strip() or None
        for name in ("nhs_number", "postcode", "email", "mobile", "access_needs")
    }
    changes["accessible_information"] = form.get("accessible_information", "").strip() or None
    preference = form.get("contact_preference", "")
    if preference not in rf.CONTACT:
        errors["contact_preference"] = "Select how the patient wants to be contacted"
    else:
        changes["contact_preference"] = preference
    interpreter = form.get("interpreter", "")
    language = form.get("interpreter_language", "").strip()
    if interpreter not in ("yes", "no"):
        errors["interpreter"] = "Select yes if they need an interpreter"
    elif interpreter == "yes" and not language:
        errors["interpreter_language"] = "Enter the language they need an interpreter for"
    changes["interpreter_language"] = language if interpreter == "yes" else None
    companion = form.get("companion", "")
    if companion not in ("yes", "no"):
        errors["companion"] = "Select yes if someone comes with them"
    changes["companion"] = companion == "yes"
    return changes, errors


def in_edit_order(errors: dict[str, str]) -> dict[str, str]:
    rank = {name: n for n, name in enumerate(EDIT_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def _edit(
    request: Request,
    user: StaffUser,
    patient: Patient,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        user,
        "patient_edit.html",
        "Change the patient's details",
        errors=in_edit_order(errors or {}),
        patient=patient,
        form=form,
        contact=rf.CONTACT,
    )


@transactional
async def edit_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    patient = await Access(session, user).patient(
        path_id(request, "patient_id"), action="patient.read"
    )
    return _edit(request, user, patient, edit_values(patient))


async def edit(request: Request) -> Response:
    form = await form_of(request)
    patient_id = path_id(request, "patient_id")

    async def write(session: AsyncSession) -> Response:
        user = await signed_in(request, session, ROLES)
        # A read, audited as one: a refused change shows the patient's details again.
        patient = await Access(session, user).patient(patient_id, action="patient.read")
        changes, errors = read_changes(form)
        if errors:
            return _edit(request, user, patient, form, errors)
        try:
            # A savepoint: a refusal leaves nothing of this attempt, and the page re-renders.
            async with session.begin_nested():
                await patients.update_patient(session, patient.id, changes, actor_user_id=user.id)
        except InvalidInput as exc:
            return _edit(request, user, patient, form, _errors(exc))
        except Conflict as exc:
            await session.refresh(patient)  # the failed savepoint expired what it changed
            return _edit(request, user, patient, form, {"nhs_number": _sentence(exc.message)})
        return RedirectResponse(f"{PATH}/{patient.id}?done=details", status_code=303)

    return await run_in_transaction(request, write)


# The API's words for a way of contacting them left without its address, as a page says it.
_REACHABLE = {
    "email": "Enter an email address, or choose another way to contact them",
    "mobile": "Enter a mobile number, or choose another way to contact them",
}


def _errors(exc: InvalidInput) -> dict[str, str]:
    errors = rf.errors_from(exc)
    for name, message in exc.fields.items():
        if name in _REACHABLE and message.startswith("is required when contact_preference"):
            errors[name] = _REACHABLE[name]
    return errors


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def routes() -> list[Route]:
    return [
        Route(PATH, find_page, methods=["GET"]),
        Route(PATH, find, methods=["POST"]),
        # `{patient_id}`, not `{patient_id:int}`: path_id answers a bad id with the API's 422.
        Route(PATH + "/{patient_id}", patient_page, methods=["GET"]),
        Route(PATH + "/{patient_id}/edit", edit_page, methods=["GET"]),
        Route(PATH + "/{patient_id}/edit", edit, methods=["POST"]),
    ]
