""" "Your contact details and needs": the booking journey's last question, prefilled from the
patient's record. The answers are checked here as the patient record checks them
(`scheduling.schemas.PatientIn`), kept in the journey, and saved to the record only when the
appointment is booked (`scheduling.patients.update_patient`, in the booking's transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from scheduling.models import ContactPreference, Patient
from scheduling.schemas import PatientIn
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.inputs import read_form
from telehealth.kernel.partial import apply_partial
from telehealth.patients import journey
from telehealth.patients.booking_link import audit_view
from telehealth.patients.journey_flow import Journey, go_on, previous, render

TITLE = "Your contact details and needs"
FIELDS = (
    "email",
    "mobile",
    "contact_preference",
    "interpreter_language",
    "accessible_information",
    "companion",
)
CONTACT_LABELS = {
    ContactPreference.EMAIL.value: "By email",
    ContactPreference.SMS.value: "By text message",
    ContactPreference.BOTH.value: "By email and text message",
}
# What each field's problem says, as the NHS service manual words errors: (when left empty,
# when wrongly written).
MESSAGES = {
    "email": (
        "Enter your email address, or choose to be contacted by text message",
        "Enter an email address in the correct format, like name@example.com",
    ),
    "mobile": (
        "Enter your mobile phone number, or choose to be contacted by email",
        "Enter a UK mobile phone number, like 07700 900 982",
    ),
    "contact_preference": ("Select how we should contact you", "Select how we should contact you"),
    "interpreter_language": ("", "The language must be 50 characters or fewer"),
    "accessible_information": ("", "This must be 200 characters or fewer"),
}
# Each typed field as the form asks it, for a refusal naming it (a NUL, which no record can
# hold); a choice holding one is no choice, and says so.
LABELS = {
    "email": "Email address",
    "mobile": "Mobile phone number",
    "interpreter_language": "The language",
    "accessible_information": "The format you need",
}


def on_record(patient: Patient) -> dict[str, Any]:
    """The patient's contact details and needs as the form shows them."""
    return {
        "email": patient.email or "",
        "mobile": patient.mobile or "",
        "contact_preference": patient.contact_preference,
        "interpreter_language": patient.interpreter_language or "",
        "accessible_information": patient.accessible_information or "",
        "companion": patient.companion,
    }


def changes_from(details: dict[str, Any]) -> dict[str, Any]:
    """The details as the patient record takes them (blank is none)."""
    return {
        name: (value.strip() or None) if isinstance(value, str) and name != "contact_preference"
        else value
        for name, value in details.items()
    }  # fmt: skip


def check(patient: Patient, details: dict[str, Any]) -> dict[str, str]:
    """Each field's problem, checked as the patient record checks it."""
    if details["contact_preference"] not in CONTACT_LABELS:
        return {"contact_preference": MESSAGES["contact_preference"][0]}
    current = {name: getattr(patient, name) for name in PatientIn.model_fields}
    try:
        apply_partial(PatientIn, current, changes_from(details))
    except InvalidInput as exc:
        errors = {}
        for name in FIELDS:
            if name in exc.fields:
                empty, wrong = MESSAGES.get(name, ("", "Check this answer"))
                errors[name] = empty if not details.get(name) and empty else wrong
        return errors or {"email": MESSAGES["email"][1]}
    return {}


async def page(
    request: Request,
    session: AsyncSession,
    j: Journey,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    await audit_view(j)
    shown = values or j.answers.get("details") or on_record(j.patient)
    return render(
        request, j, "patients/book/details.html", title=TITLE, errors=errors,
        back=previous(j, "details"), values=shown, contact_labels=CONTACT_LABELS,
    )  # fmt: skip


async def post(request: Request, session: AsyncSession, j: Journey) -> Response:
    form = await read_form(request)
    kept = form.kept()
    details: dict[str, Any] = {
        name: kept.get(name, "").strip() for name in FIELDS if name != "companion"
    }
    details["companion"] = form.get("companion") == "yes"
    errors = check(j.patient, details)
    if form.get("companion") not in ("yes", "no"):
        errors["companion"] = "Select yes if someone is coming with you"
    # A NUL never reaches the journey's cookie: the same form again, the rest kept.
    errors |= {name: text for name, text in form.errors(LABELS).items() if name in LABELS}
    if errors:
        return await page(request, session, j, errors, details)
    return go_on(request, j, journey.answer(j.answers, "details", details))
