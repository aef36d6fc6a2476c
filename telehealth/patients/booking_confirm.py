"""The end of the booking journey: "Check your answers", booking (its POST) and the
confirmation.

Booking never books twice: `scheduling.referral_booking.book_from_referral` marks the
referral booked in the booking's own transaction, so a refresh or a second submit finds it
booked and lands on the confirmation. A time taken by someone else meanwhile (the database
refuses it: SlotUnavailable, NoRoomFree, PatientUnavailable) rolls the booking back and sends
the patient back to "Which time?" with every other answer kept and a message saying why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduling.referral_booking import AlreadyBooked, ReferralClosed, book_from_referral
from telehealth.kernel import timefmt
from telehealth.kernel.config import Settings
from telehealth.kernel.errors import InvalidInput, PatientUnavailable, SlotUnavailable
from telehealth.kernel.transactions import run_in_transaction
from telehealth.messaging import content
from telehealth.messaging.patient_links import read_booking_token
from telehealth.patients import journey
from telehealth.patients.booking_details import CONTACT_LABELS, FIELDS, changes_from
from telehealth.patients.booking_link import audit_view, load_booked, manage_path
from telehealth.patients.journey_flow import (
    Journey,
    change_link,
    choice_of,
    choice_rows,
    next_step,
    previous,
    render,
    unanswered,
)

CHECK = "Check your answers before booking your appointment"


def _detail_rows(j: Journey, details: dict[str, Any]) -> list[dict[str, Any]]:
    change = j.href("details")

    def row(key: str, value: str, what: str) -> dict[str, Any]:
        return {
            "key": {"text": key},
            "value": {"text": value or "None given"},
            "actions": change_link(change, what),
        }

    return [
        row("Email address", details.get("email", ""), "your email address"),
        row("Mobile phone number", details.get("mobile", ""), "your mobile phone number"),
        row(
            "How we contact you",
            CONTACT_LABELS.get(details.get("contact_preference", ""), ""),
            "how we contact you",
        ),
        row(
            "Interpreter",
            details.get("interpreter_language") or "Not needed",
            "whether you need an interpreter",
        ),
        row(
            "Accessible information",
            details.get("accessible_information") or "Not needed",
            "how you need information",
        ),
        row(
            "Someone coming with you",
            "Yes" if details.get("companion") else "No",
            "whether someone is coming with you",
        ),
    ]


async def check(request: Request, session: AsyncSession, j: Journey) -> Response:
    if unanswered(j):
        return RedirectResponse(next_step(j), status_code=303)
    await audit_view(j)
    return render(
        request, j, "patients/book/check.html", title=CHECK, back=previous(j, "check"),
        choice=await choice_rows(session, j), details=_detail_rows(j, j.answers["details"]),
    )  # fmt: skip


async def confirm(request: Request) -> Response:
    """POST "Check your answers": book, then the confirmation (303, so a refresh does not
    post again)."""
    token = str(request.path_params["token"])
    base = f"/book/{token}"

    async def book(session: AsyncSession) -> Response:
        found = await load_booked(request, session)
        if isinstance(found, Response):
            return found
        j, referral = found, found.extra["referral"]
        if referral.appointment_id is not None:  # a second submit: booked by the first
            return RedirectResponse(j.href("booked"), status_code=303)
        choice = choice_of(j)
        if choice is None or unanswered(j):
            return RedirectResponse(next_step(j), status_code=303)
        booked = await book_from_referral(
            session,
            referral_id=referral.id,
            choice=choice,
            patient_changes=changes_from(j.answers["details"]),
        )
        await j.access.audit("patient.self.book", "appointment", booked.id)
        response = RedirectResponse(j.href("booked"), status_code=303)
        journey.forget(response, path=j.base)
        return response

    try:
        return await run_in_transaction(request, book)
    except AlreadyBooked:
        return RedirectResponse(f"{base}/booked", status_code=303)
    except ReferralClosed:
        return RedirectResponse(base, status_code=303)
    except (SlotUnavailable, PatientUnavailable, InvalidInput) as exc:
        return _choose_again(request, base, exc)


def _choose_again(request: Request, base: str, exc: Exception) -> Response:
    """Back to the question whose answer the booking refused, the others kept."""
    settings: Settings = request.app.state.settings
    claim = read_booking_token(settings, str(request.path_params["token"]))
    assert claim is not None  # the booking read it a moment ago
    key = f"referral:{claim.id}"
    answers = journey.read(request, key=key)
    if isinstance(exc, InvalidInput) and set(exc.fields) & set(FIELDS):
        target = f"{base}/details"
        answers.pop("details", None)
    else:
        # Taken meanwhile, or no longer offered (the clinic changed): choose another time.
        target = f"{base}/time"
        answers.pop("slot", None)
        answers["taken"] = "patient" if isinstance(exc, PatientUnavailable) else "slot"
    response = RedirectResponse(target, status_code=303)
    journey.save(response, request, key=key, path=base, answers=answers)
    return response


async def booked(request: Request, session: AsyncSession, j: Journey) -> Response:
    """The confirmation: the green panel with the booking reference, the date and time, what
    happens next, how to join or where to go, "Add to calendar" and the manage link."""
    referral = j.extra["referral"]
    if referral.appointment_id is None:
        return RedirectResponse(j.base, status_code=303)
    settings: Settings = request.app.state.settings
    appointment = await j.access.appointment(referral.appointment_id, action=None)
    snapshot = await content.snapshot_of(session, appointment, settings)
    await audit_view(j)
    return render(
        request, j, "patients/book/booked.html", title="Appointment booked",
        s=snapshot, a=appointment, when=timefmt.moment(appointment.starts_at),
        manage=manage_path(settings, appointment.id),
    )  # fmt: skip
