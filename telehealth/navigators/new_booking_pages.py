"""Booking a new appointment on a patient's behalf, as a care navigator does on the phone.

    /staff/patients/{id}/book?...            the next question (service, how, hub, day, time),
                                             or "Check your answers" once all are answered
    /staff/patients/{id}/book                POST: book it
    /staff/appointments/{id}/booked          the booking: its reference, when, a link back

The answers travel in the query string and, at the end, in hidden fields (no JavaScript, no
session state; `booking_answers` checks them). Booking is the API's own (`place`,
`Access.may_book`, `booking.book`, audited by the booking itself). A time taken meanwhile,
or the patient busy then, asks for the time again with a message (409). A second submit of
the same "Check your answers" form (a double click, a refresh) books nothing more: the form
carries a one-time token kept with the API's Idempotency-Key records in the booking's own
transaction, and a repeat finds the first booking.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import booking, wording
from scheduling.access import Access
from scheduling.models import Patient, Site
from scheduling.placement import place
from scheduling.referral_booking import meet_open_referral
from telehealth.kernel import idempotency, timefmt
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.db import table_of, violated_constraint
from telehealth.kernel.errors import Conflict, InvalidInput, PatientUnavailable
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import run_in_transaction, transactional
from telehealth.kernel.web.staff import roles_for, signed_in
from telehealth.navigators.appointment_pages import PATIENT_BUSY, TAKEN, describe
from telehealth.navigators.booking_answers import Answers, Reached, reach
from telehealth.navigators.booking_questions import back_of, journey_path, question
from telehealth.navigators.pages import form_of, render
from telehealth.navigators.travel_lines import travel_for

ROLES = roles_for("/staff/patients")
ENDPOINT = "POST /staff/patients/book"  # the form tokens' endpoint among idempotency keys
# What a concurrent second submit of the same token collides on (as the API's retries do).
_TOKEN_TAKEN = table_of(idempotency.IdempotencyRecord).primary_key.name


def _given(params: Any) -> dict[str, str]:
    return {k: str(v) for k, v in params.items() if k not in ("csrf", "token")}


async def _ask(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    reached: Reached,
    given: dict[str, str],
    *,
    status_code: int | None = None,
) -> Response:
    """The question `reached` stopped at, or "Check your answers" when none is left."""
    a = reached.answers
    if reached.step is None:
        return await _check(request, session, user, a)
    q = await question(session, a, reached.step, given)
    carried = a.params(before=reached.step)
    if reached.step == "day" and given.get("from"):
        carried["from"] = given["from"]
    response = render(
        request,
        user,
        "book_question.html",
        q.heading,
        errors={q.name: reached.error} if reached.error else None,
        patient=a.patient,
        q=q,
        action=journey_path(a.patient.id),
        carried=carried,
        back=back_of(a, reached.step),
    )
    if status_code is not None:
        response.status_code = status_code
    return response


async def _rows(session: AsyncSession, a: Answers) -> list[dict[str, Any]]:
    """ "Check your answers": each answer with its Change link back to its question."""
    assert a.service is not None and a.mode is not None and a.slot is not None
    choice = a.choice()
    site = await session.get(Site, choice.site_id) if choice.site_id else None
    travel = await travel_for(session, a.patient, a.service)

    def row(key: str, value: str, step: str | None, what: str) -> dict[str, Any]:
        found: dict[str, Any] = {"key": {"text": key}, "value": {"text": value}}
        if step is not None:
            href = journey_path(a.patient.id, a.params(before=step))
            found["actions"] = {
                "items": [{"href": href, "text": "Change", "visuallyHiddenText": what}]
            }
        return found

    person = f"{a.patient.given_name} {a.patient.family_name}, born "
    return [
        row("Patient", person + timefmt.day(a.patient.date_of_birth), None, ""),
        row("Service", a.service.name, "service", "the service"),
        row(
            "How and where",
            wording.how(a.mode, place=site.name if site else None),
            "mode",
            "how they will be seen",
        ),
        row("Travel", travel.of_way(a.mode, site), None, ""),
        row("Day", timefmt.day(choice.start), "day", "the day"),
        row("Time", timefmt.clock(choice.start), "slot", "the time"),
    ]


async def _check(request: Request, session: AsyncSession, user: StaffUser, a: Answers) -> Response:
    return render(
        request,
        user,
        "book_check.html",
        "Check the appointment before booking it",
        patient=a.patient,
        rows=await _rows(session, a),
        answers=a.params(),
        action=journey_path(a.patient.id),
        back=back_of(a, "check"),
        # One token per rendering: a second submit of this form is the same booking.
        token=secrets.token_urlsafe(24),
    )


@transactional
async def journey_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    patient = await Access(session, user).patient(
        path_id(request, "patient_id"), action="patient.read"
    )
    given = _given(request.query_params)
    return await _ask(request, session, user, await reach(session, patient, given), given)


async def book(request: Request) -> Response:
    """Book the appointment checked; a repeat of the same form lands on the first booking."""
    form = await form_of(request)
    patient_id = path_id(request, "patient_id")
    token = form.get("token", "")
    given = _given(form)

    async def write(session: AsyncSession) -> Response:
        user = await signed_in(request, session, ROLES)
        access = Access(session, user)
        patient = await access.patient(patient_id, action=None)  # the booking audits itself
        if not 1 <= len(token) <= idempotency.MAX_KEY_LENGTH:
            return RedirectResponse(journey_path(patient.id, given), status_code=303)
        fingerprint = idempotency.request_fingerprint(ENDPOINT, {"patient": patient.id, **given})
        stored = await idempotency.find(
            session, user_id=user.id, key=token, endpoint=ENDPOINT, fingerprint=fingerprint
        )
        if stored is not None:
            return _booked_redirect(int(stored.response["appointment_id"]))
        reached = await reach(session, patient, given)
        if reached.step is not None:
            await access.audit("patient.read", "patient", patient.id)
            taken = 409 if reached.step == "slot" else None
            return await _ask(request, session, user, reached, given, status_code=taken)
        try:
            async with session.begin_nested():
                record = idempotency.claim(
                    session, user_id=user.id, key=token, endpoint=ENDPOINT, fingerprint=fingerprint
                )
                await session.flush()  # a concurrent repeat now waits here, then fails
                appointment_id = await _book(session, access, patient, reached.answers)
        except (Conflict, InvalidInput) as exc:
            return await _choose_again(request, session, user, patient, given, exc)
        record.status_code, record.response = 303, {"appointment_id": appointment_id}
        return _booked_redirect(appointment_id)

    try:
        return await run_in_transaction(request, write)
    except IntegrityError as exc:
        if violated_constraint(exc) != _TOKEN_TAKEN:
            raise
        # The same form, submitted at once twice: the first committed; answer with its booking.
        return await run_in_transaction(request, write)


async def _book(session: AsyncSession, access: Access, patient: Patient, a: Answers) -> int:
    assert a.service is not None
    choice = a.choice()
    placement = await place(
        session,
        service_id=a.service.id,
        clinician_id=choice.clinician_id,
        mode=choice.mode,
        site_id=choice.site_id,
        start=choice.start,
        patient_id=patient.id,
    )
    await access.may_book(
        clinician_id=placement.clinician_id,
        service_id=placement.service_id,
        mode=placement.mode,
        site_id=placement.site_id,
    )
    booked = await booking.book(
        session, placement=placement, patient_id=patient.id, booked_by=access.actor_user_id
    )
    await meet_open_referral(
        session,
        patient_id=patient.id,
        service_id=placement.service_id,
        appointment_id=booked.id,
        actor_user_id=access.actor_user_id,
    )
    return int(booked.id)


async def _choose_again(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    patient: Patient,
    given: dict[str, str],
    exc: Exception,
) -> Response:
    """The time refused by the database (taken meanwhile, the patient busy then): the day's
    times as they are now, with why (409)."""
    await Access(session, user).audit("patient.read", "patient", patient.id)
    reached = await reach(session, patient, {k: v for k, v in given.items() if k != "slot"})
    message = PATIENT_BUSY if isinstance(exc, PatientUnavailable) else TAKEN
    if reached.step == "slot":
        reached = Reached(reached.answers, "slot", message)
    return await _ask(request, session, user, reached, given, status_code=409)


def _booked_redirect(appointment_id: int) -> Response:
    return RedirectResponse(f"/staff/appointments/{appointment_id}/booked", status_code=303)


@transactional
async def booked_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    appointment = await Access(session, user).appointment(
        path_id(request, "appointment_id"), action="appointment.read"
    )
    d = await describe(session, appointment)
    return render(request, user, "book_booked.html", "Appointment booked", d=d)


def routes() -> list[Route]:
    return [
        # `{patient_id}`, not `{patient_id:int}`: path_id answers a bad id with the API's 422.
        Route("/staff/patients/{patient_id}/book", journey_page, methods=["GET"]),
        Route("/staff/patients/{patient_id}/book", book, methods=["POST"]),
        Route("/staff/appointments/{appointment_id}/booked", booked_page, methods=["GET"]),
    ]
