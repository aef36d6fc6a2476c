"""Finding an appointment without the link (`/find-appointment`): the booking reference, date
of birth and postcode. When all three match, a fresh manage link goes to the email address or
mobile number on record (`messaging.lost_link`); nothing on the page ever shows a contact
detail, and the answer is the same whether or not anything matched, so the form cannot be
used to learn who has an appointment. Once the three match, the appointment and its patient
are read through `scheduling.access` as the holder of those facts (that appointment only),
which audits the lookup.

Rate-limited in the database (so across every app process): per client address and per
booking reference. Over either limit the page says to try later, still without saying whether
anything matched.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from notifications import outbox
from scheduling.access import LOOKUP, through_link
from scheduling.models import Appointment, Patient
from telehealth.kernel import rate_limits
from telehealth.kernel.config import Settings
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import check_csrf, csrf_token
from telehealth.kernel.web.templating import templates
from telehealth.messaging import lost_link

QUESTION = "Find your appointment"
WINDOW = timedelta(minutes=15)
PER_CLIENT = 10  # a household or a library computer may look up more than one appointment
PER_REFERENCE = 5
FIELDS = ("reference", "dob-day", "dob-month", "dob-year", "postcode")
# Each field as the form asks it, for a refusal naming it.
LABELS = {
    "reference": "Booking reference",
    "dob-day": "Date of birth",
    "dob-month": "Date of birth",
    "dob-year": "Date of birth",
    "postcode": "Postcode",
}


def _compact(value: str) -> str:
    """Upper case without spaces: how references and postcodes are compared."""
    return re.sub(r"\s+", "", value).upper()


def read_form(form: dict[str, str]) -> tuple[tuple[str, date, str] | None, dict[str, str]]:
    """The reference, date of birth and postcode as compared, or the errors to show (by the
    id of the field each links to, in the form's order)."""
    errors: dict[str, str] = {}
    reference = _compact(form.get("reference", ""))
    if not reference:
        errors["reference"] = "Enter your booking reference"
    elif len(reference) > 12:
        errors["reference"] = "Booking reference must be 12 characters or fewer"
    born = _date_of_birth(form, errors)
    postcode = _compact(form.get("postcode", ""))
    if not postcode:
        errors["postcode"] = "Enter your postcode"
    elif len(postcode) > 8:
        errors["postcode"] = "Enter a real postcode, like LA4 5RJ"
    if errors or born is None:
        return None, errors
    return (reference, born, postcode), errors


def _date_of_birth(form: dict[str, str], errors: dict[str, str]) -> date | None:
    parts = {name: form.get(f"dob-{name}", "").strip() for name in ("day", "month", "year")}
    missing = [name for name, value in parts.items() if not value]
    if len(missing) == 3:
        errors["dob-day"] = "Enter your date of birth"
        return None
    if missing:
        errors[f"dob-{missing[0]}"] = f"Date of birth must include a {' and '.join(missing)}"
        return None
    if not all(v.isascii() and v.isdigit() for v in parts.values()) or len(parts["year"]) != 4:
        errors["dob-day"] = "Date of birth must be a real date"
        return None
    try:
        born = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        errors["dob-day"] = "Date of birth must be a real date"
        return None
    if born > date.today():
        errors["dob-day"] = "Date of birth must be in the past"
        return None
    return born


def _form(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "patients/lookup/find.html",
        {
            "title": f"Error: {QUESTION}" if errors else QUESTION,
            "values": values or {},
            "errors": errors or {},
            "csrf": csrf_token(request),
        },
        status_code=422 if errors else 200,
    )


async def find_page(request: Request) -> Response:
    return _form(request)


async def _matching(
    session: AsyncSession, reference: str, born: date, postcode: str
) -> tuple[Appointment, Patient] | None:
    """The appointment and its patient when all three match. Only the facts compared are read
    before they match; the records are then read as the holder of those facts."""
    found = (
        await session.execute(
            select(Appointment.id, Patient.date_of_birth, Patient.postcode)
            .join(Patient, Patient.id == Appointment.patient_id)
            .where(Appointment.reference == reference)
        )
    ).first()
    if found is None or found.date_of_birth != born:
        return None
    if _compact(found.postcode or "") != postcode:
        return None
    access = await through_link(session, kind=LOOKUP, appointment_id=found.id)
    assert access is not None  # it was found a moment ago, in this transaction
    appointment = await access.appointment(found.id, action="patient.self.lookup")
    return appointment, await access.patient(appointment.patient_id, action=None)


@transactional
async def find(request: Request, session: AsyncSession) -> Response:
    form = await check_csrf(request, refuse=False)
    kept = form.kept()
    values = {name: kept.get(name, "") for name in FIELDS}
    given, errors = read_form(values)
    errors |= {name: text for name, text in form.errors(LABELS).items() if name in LABELS}
    if given is None or errors:
        return _form(request, values=values, errors=errors)
    reference, born, postcode = given
    client = request.client.host if request.client else "unknown"
    # Both limits count this attempt, whichever refuses.
    by_client = await rate_limits.allow(
        session, "lookup-client", client, limit=PER_CLIENT, window=WINDOW
    )
    by_reference = await rate_limits.allow(
        session, "lookup-reference", reference, limit=PER_REFERENCE, window=WINDOW
    )
    if not (by_client and by_reference):
        return templates.TemplateResponse(
            request,
            "patients/lookup/too_many.html",
            {"title": "Too many attempts", "minutes": int(WINDOW.total_seconds() // 60)},
            status_code=429,
        )
    match = await _matching(session, reference, born, postcode)
    if match is not None:
        appointment, patient = match
        settings: Settings = request.app.state.settings
        await outbox.enqueue(session, lost_link.messages(appointment, patient, settings))
    return RedirectResponse("/find-appointment/sent", status_code=303)


async def sent_page(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "patients/lookup/sent.html", {"title": "Check your messages"}
    )


def routes() -> list[Route]:
    return [
        Route("/find-appointment", find_page, methods=["GET"]),
        Route("/find-appointment", find, methods=["POST"]),
        Route("/find-appointment/sent", sent_page, methods=["GET"]),
    ]
