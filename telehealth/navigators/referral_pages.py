"""Recording a referral on the phone: find the patient (NHS number, or last name and date of
birth) or enter a new one, the referral's details and the patient's needs, a check page, and
a confirmation with the referral's reference. Then the referral's own page, which follows it
to the invitation and the booking.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import patients, referrals
from scheduling.access import Access
from scheduling.models import Patient, Service
from scheduling.referral_models import Referral, Source
from scheduling.referral_schemas import ReferralIn
from scheduling.schemas import PatientIn, PatientQuery
from telehealth.kernel.api import parse_input
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.errors import Conflict, InvalidInput
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import run_in_transaction, transactional
from telehealth.kernel.web.staff import roles_for, signed_in
from telehealth.navigators import referral_form as rf
from telehealth.navigators.booking_questions import journey_path
from telehealth.navigators.pages import form_of, patient_search, render

ROLES = roles_for("/staff/worklist")
NEW = "/staff/referrals/new"


@transactional
async def find_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    return render(request, user, "find.html", "Find the patient", form={}, found=None)


@transactional
async def find(request: Request, session: AsyncSession) -> Response:
    return await patient_search(
        request,
        session,
        ROLES,
        template="find.html",
        title="Find the patient",
        limit=20,
        found_title="Choose the patient",
        chosen=True,
    )


async def _services(session: AsyncSession) -> list[Service]:
    return list(await session.scalars(select(Service).where(Service.active).order_by(Service.name)))


async def _known(session: AsyncSession, user: StaffUser, form: dict[str, str]) -> Patient | None:
    """The patient chosen on the find page (None: a new one), read as this navigator may."""
    chosen = form.get("patient_id", "")
    if chosen == "new":
        return None
    if not chosen.isdigit() or not 1 <= int(chosen) <= 2**31 - 1:
        raise InvalidInput.field("patient_id", "Select the patient, or enter a new patient")
    return await Access(session, user).patient(int(chosen), action="patient.read")


def _prefilled(patient: Patient) -> dict[str, str]:
    return {
        "patient_id": str(patient.id),
        "email": patient.email or "",
        "mobile": patient.mobile or "",
        "contact_preference": patient.contact_preference,
        "interpreter": "yes" if patient.interpreter_language else "no",
        "interpreter_language": patient.interpreter_language or "",
        "accessible_information": patient.accessible_information or "",
        "companion": "yes" if patient.companion else "no",
    }


async def _details(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    form: dict[str, str],
    patient: Patient | None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        user,
        "details.html",
        "Referral details",
        errors=errors,
        form=form,
        patient=patient,
        services=await _services(session),
        priorities=rf.PRIORITIES,
        contact=rf.CONTACT,
    )


@transactional
async def details(request: Request, session: AsyncSession) -> Response:
    """From the find page: the referral form for the chosen patient, or for a new one."""
    form = await form_of(request)
    user = await signed_in(request, session, ROLES)
    try:
        patient = await _known(session, user, form)
    except InvalidInput:
        return await find_again(request, session, user, form)
    if patient is not None and "service_id" not in form:
        form = {**_prefilled(patient), **form}
    return await _details(request, session, user, form, patient)


async def find_again(
    request: Request, session: AsyncSession, user: StaffUser, form: dict[str, str]
) -> Response:
    errors = {"patient_id": "Select the patient, or enter a new patient"}
    search = rf.read_search(form)
    found: list[Patient] = []
    if not search.errors:
        found = await patients.search_patients(
            session,
            PatientQuery(
                nhs_number=search.nhs_number,
                family_name=search.family_name,
                date_of_birth=search.date_of_birth,
            ),
            among=await Access(session, user).patients_where(),
        )
    return render(
        request,
        user,
        "find.html",
        "Choose the patient",
        errors=errors,
        form=form,
        found=found,
        chosen=True,
    )


async def _checked(
    session: AsyncSession, user: StaffUser, form: dict[str, str]
) -> tuple[Patient | None, rf.Checked]:
    patient = await _known(session, user, form)
    checked = rf.check(form, patient)
    nhs = checked.patient.get("nhs_number")
    if patient is None and nhs and not checked.errors:
        nhs = PatientIn.model_validate({**checked.patient}).nhs_number
        holder = await session.scalar(select(Patient.id).where(Patient.nhs_number == nhs))
        if holder is not None:
            checked.errors["nhs_number"] = (
                "A patient with this NHS number is already registered: go back and find them "
                "by their NHS number"
            )
    chosen = None if checked.errors else int(checked.referral["service_id"])
    if chosen is not None and await session.get(Service, chosen) is None:
        checked.errors["service_id"] = "Select the service the patient is referred to"
    return patient, checked


@transactional
async def check_page(request: Request, session: AsyncSession) -> Response:
    form = await form_of(request)
    user = await signed_in(request, session, ROLES)
    patient, checked = await _checked(session, user, form)
    if checked.errors or form.get("change"):
        return await _details(request, session, user, form, patient, checked.errors)
    service = await session.get(Service, int(checked.referral["service_id"]))
    return render(
        request,
        user,
        "check.html",
        "Check the referral before recording it",
        form=form,
        patient=patient,
        values=checked.patient,
        referral=checked.referral,
        service=service,
        priorities=rf.PRIORITIES,
        contact=rf.CONTACT,
    )


async def record(request: Request) -> Response:
    form = await form_of(request)

    async def write(session: AsyncSession) -> Response:
        user = await signed_in(request, session, ROLES)
        patient, checked = await _checked(session, user, form)
        if checked.errors:
            return await _details(request, session, user, form, patient, checked.errors)
        try:
            # A savepoint: a refusal re-renders the form with nothing of this attempt kept.
            async with session.begin_nested():
                recorded = await _record(session, user, patient, checked)
        except (InvalidInput, Conflict) as exc:
            errors = rf.errors_from(exc) if exc.fields else {"patient_id": exc.message}
            return await _details(request, session, user, form, patient, errors)
        return RedirectResponse(
            f"/staff/referrals/{recorded.referral.id}/recorded", status_code=303
        )

    return await run_in_transaction(request, write)


async def _record(
    session: AsyncSession, user: StaffUser, patient: Patient | None, checked: rf.Checked
) -> referrals.Recorded:
    """The chosen patient's needs as typed (audited as a change of their details), then the
    referral; a new patient is registered by `referrals.record`."""
    subject: int | dict[str, object]
    if patient is not None:
        changes = {k: v for k, v in checked.patient.items() if k in rf.NEEDS}
        await patients.update_patient(session, patient.id, changes, actor_user_id=user.id)
        subject = patient.id
    else:
        subject = {k: v for k, v in checked.patient.items() if v is not None}
    data = parse_input(ReferralIn, {"patient": subject, **checked.referral})
    return await referrals.record(session, data, viewer=user, source=Source.NAVIGATOR)


async def _referral_context(
    session: AsyncSession, user: StaffUser, referral_id: int
) -> dict[str, Any]:
    referral = await referrals.get(session, referral_id, viewer=user, action="referral.view")
    patient = await session.get(Patient, referral.patient_id)
    service = await session.get(Service, referral.service_id)
    assert patient is not None and service is not None
    return {
        "referral": referral,
        "patient": patient,
        "service": service,
        # The navigator's booking for this patient, the referral's service already chosen.
        "book_href": journey_path(patient.id, {"service": str(service.id)}),
        "appointment": await referrals.appointment_of(session, referral),
        "priorities": rf.PRIORITIES,
        "contact": rf.CONTACT,
    }


@transactional
async def recorded_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    context = await _referral_context(session, user, path_id(request, "id"))
    return render(request, user, "recorded.html", "Referral recorded", **context)


@transactional
async def referral_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    context = await _referral_context(session, user, path_id(request, "id"))
    referral: Referral = context["referral"]
    return render(request, user, "referral.html", f"Referral {referral.reference}", **context)


async def close(request: Request) -> Response:
    """Withdraw an open referral (with why): nothing more is sent, nothing can be booked."""
    form = await form_of(request)
    reason = form.get("reason", "").strip()
    referral_id = path_id(request, "id")

    async def write(session: AsyncSession) -> Response:
        user = await signed_in(request, session, ROLES)
        error = None
        if not reason:
            error = "Enter why the referral is being closed"
        elif len(reason) > 500:
            error = "Reason must be 500 characters or fewer"
        if error is None:
            try:
                async with session.begin_nested():
                    await referrals.close(session, referral_id, reason=reason, viewer=user)
            except referrals.ReferralNotOpen as exc:
                error = exc.message[0].upper() + exc.message[1:]
        if error is None:
            return RedirectResponse(f"/staff/referrals/{referral_id}", status_code=303)
        context = await _referral_context(session, user, referral_id)
        referral: Referral = context["referral"]
        return render(
            request,
            user,
            "referral.html",
            f"Referral {referral.reference}",
            errors={"reason": error},
            reason=reason,
            **context,
        )

    return await run_in_transaction(request, write)


def routes() -> list[Route]:
    return [
        Route(NEW, find_page, methods=["GET"]),
        Route(f"{NEW}/find", find, methods=["POST"]),
        Route(f"{NEW}/details", details, methods=["POST"]),
        Route(f"{NEW}/check", check_page, methods=["POST"]),
        Route(f"{NEW}/record", record, methods=["POST"]),
        # `{id}`, not `{id:int}`: path_id gives a number out of range the same 422 as the API.
        Route("/staff/referrals/{id}", referral_page, methods=["GET"]),
        Route("/staff/referrals/{id}/recorded", recorded_page, methods=["GET"]),
        Route("/staff/referrals/{id}/close", close, methods=["POST"]),
    ]
