"""Cancelling or moving an appointment on the patient's behalf, as a care navigator does on
the phone.

    /staff/appointments/{id}/cancel         why (reasons as radios, and details), then cancel
    /staff/appointments/{id}/move           how and where, then the days with free time
    /staff/appointments/{id}/move?day=...   that day's free times, as radios
    /staff/appointments/{id}/move/confirm   POST: move it (the to-rebook page posts here too)

Staff are not bound by the service's online notice period (that is the patient's own rule,
`scheduling.self_service`). Free time is the slot search's, as GET /api/v1/slots finds it
(`load_availability` and `expand_slots`), in the same service; the move is booking's own
(`place`, then `booking.reschedule`), so a time taken meanwhile is refused by the database
and the navigator is sent back to the day's times with a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import booking, slots, wording
from scheduling.access import Access
from scheduling.models import Appointment, Patient, Service, Site
from scheduling.placement import place
from scheduling.rebooking import OPEN_STATUSES
from telehealth.kernel import timefmt
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.errors import Conflict, InvalidInput, PatientUnavailable
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import run_in_transaction, transactional
from telehealth.kernel.web.staff import roles_for, signed_in
from telehealth.navigators.free_times import (
    firsts,
    free_slots,
    how_value,
    read_how,
    read_slot,
    slot_label,
    slot_value,
    today,
)
from telehealth.navigators.move_ways import for_patient, sites_of, travel_lines, ways
from telehealth.navigators.pages import form_of, render
from telehealth.navigators.travel_lines import travel_for
from telehealth.travel.record_view import TravelRecordOut, view_of

ROLES = roles_for("/staff/patients")
BASE = "/staff/appointments/{appointment_id}"
REASONS = {
    "patient_asked": "The patient asked to cancel",
    "not_needed": "The appointment is no longer needed",
    "clinician": "The clinician cannot see them then",
    "other": "Another reason",
}
# "Which day?" shows this many weeks at a time.
WEEKS = 3
TAKEN = "That time has just been taken: choose another time"
PATIENT_BUSY = "The patient already has an appointment then: choose another time"
# The move page asks how they will be seen, then lists the days: its heading names both.
MOVE_HEADING = "Move the appointment: how and which day?"


@dataclass(frozen=True, slots=True)
class Described:
    """An appointment as the pages show it."""

    appointment: Appointment
    patient: Patient
    service: Service
    when: str
    how: str
    travel: TravelRecordOut | None = None


async def describe(session: AsyncSession, appointment: Appointment) -> Described:
    patient = await session.get(Patient, appointment.patient_id)
    service = await session.get(Service, appointment.service_id)
    site = await session.get(Site, appointment.site_id) if appointment.site_id else None
    assert patient is not None and service is not None
    return Described(
        appointment=appointment,
        patient=patient,
        service=service,
        when=timefmt.moment(appointment.starts_at),
        how=wording.how(appointment.mode, place=site.name if site else None),
        travel=await view_of(session, appointment),
    )


# Cancelling


async def _cancel_page(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    appointment: Appointment,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        user,
        "appointment_cancel.html",
        "Why is the appointment being cancelled?",
        errors=errors,
        d=await describe(session, appointment),
        form=form,
        reasons=REASONS,
        cancellable=appointment.status in OPEN_STATUSES,
    )


@transactional
async def cancel_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    appointment = await Access(session, user).appointment(
        path_id(request, "appointment_id"), action="appointment.read"
    )
    return await _cancel_page(request, session, user, appointment, {})


def read_reason(form: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    """The reason to record ("The patient asked to cancel: moving away"), or the errors."""
    chosen, details = form.get("reason", ""), form.get("details", "").strip()
    if chosen not in REASONS:
        return None, {"reason": "Select why the appointment is being cancelled"}
    if chosen == "other" and not details:
        return None, {"details": "Enter why the appointment is being cancelled"}
    text = REASONS[chosen] + (f": {details}" if details else "")
    if len(text) > 500:
        return None, {"details": "Details must be 400 characters or fewer"}
    return text, {}


async def cancel(request: Request) -> Response:
    form = await form_of(request)
    appointment_id = path_id(request, "appointment_id")

    async def write(session: AsyncSession) -> Response:
        user = await signed_in(request, session, ROLES)
        access = Access(session, user)
        reason, errors = read_reason(form)
        if reason is None:
            appointment = await access.appointment(appointment_id, action="appointment.read")
            return await _cancel_page(request, session, user, appointment, form, errors)
        appointment = await access.appointment(
            appointment_id, action="appointment.cancel", lock=True
        )
        try:
            async with session.begin_nested():
                await booking.cancel(
                    session, appointment=appointment, reason=reason, actor_user_id=user.id
                )
        except Conflict as exc:
            errors = {"reason": exc.message[:1].upper() + exc.message[1:]}
            return await _cancel_page(request, session, user, appointment, form, errors)
        return RedirectResponse(
            f"/staff/patients/{appointment.patient_id}?done=cancelled", status_code=303
        )

    return await run_in_transaction(request, write)


# Moving


def _window_start(text: str) -> date:
    first = today()
    try:
        asked = date.fromisoformat(text) if text else first
    except ValueError:
        asked = first
    return max(first, min(asked, first + timedelta(days=3660)))


async def _days(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    appointment: Appointment,
    how: str,
    errors: dict[str, str] | None = None,
) -> Response:
    d = await describe(session, appointment)
    travel = await travel_for(session, d.patient, d.service, moving=appointment.id)
    offered = await ways(session, appointment, d.service, travel)
    chosen = read_how(how) if how in offered else None
    if chosen is None:
        how = how_value(appointment.mode, appointment.site_id)
        chosen = (appointment.mode, appointment.site_id)
    start = _window_start(request.query_params.get("start", ""))
    end = start + timedelta(weeks=WEEKS, days=-1)
    mode, site_id = chosen
    free = await free_slots(
        session,
        d.service,
        start=start,
        end=end,
        mode=mode,
        site_id=site_id,
        patient=for_patient(appointment),
    )
    counts: dict[date, set[datetime]] = {}
    for s in free:
        counts.setdefault(slots.to_london(s.start).date(), set()).add(s.start)
    horizon = today() + timedelta(days=d.service.horizon_days)
    return render(
        request,
        user,
        "appointment_move.html",
        MOVE_HEADING,
        errors=errors,
        heading=MOVE_HEADING,
        d=d,
        ways=offered,
        travel=travel_lines(offered, travel, names=await sites_of(session, offered)),
        how=how,
        days=[(day, timefmt.day(day), len(c)) for day, c in sorted(counts.items())],
        earlier=max(today(), start - timedelta(weeks=WEEKS)) if start > today() else None,
        later=end + timedelta(days=1) if end < horizon else None,
        start=start,
        end=end,
    )


async def _times(
    request: Request,
    session: AsyncSession,
    user: StaffUser,
    appointment: Appointment,
    *,
    how: str,
    day: date,
    errors: dict[str, str] | None = None,
    status_code: int | None = None,
) -> Response:
    d = await describe(session, appointment)
    chosen = read_how(how)
    if chosen is None:
        return await _days(request, session, user, appointment, how)
    mode, site_id = chosen
    found = firsts(
        await free_slots(
            session,
            d.service,
            start=day,
            end=day,
            mode=mode,
            site_id=site_id,
            patient=for_patient(appointment),
        )
    )
    response = render(
        request,
        user,
        "appointment_times.html",
        "Move the appointment: which time?",
        errors=errors,
        d=d,
        how=how,
        day=day,
        day_text=timefmt.day(day),
        times=[(slot_value(s), slot_label(s.start)) for s in found],
    )
    if status_code is not None:
        response.status_code = status_code
    return response


@transactional
async def move_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    appointment = await Access(session, user).appointment(
        path_id(request, "appointment_id"), action="appointment.read"
    )
    how = request.query_params.get("how", "")
    if appointment.status not in booking.RESCHEDULABLE:
        d = await describe(session, appointment)
        return render(
            request, user, "appointment_fixed.html", "This appointment cannot be moved", d=d
        )
    try:
        day = date.fromisoformat(request.query_params.get("day", ""))
    except ValueError:
        return await _days(request, session, user, appointment, how)
    return await _times(request, session, user, appointment, how=how, day=day)


def _after_move(form: dict[str, str], appointment: Appointment) -> str:
    if form.get("back") == "to-rebook":
        return f"/staff/to-rebook?moved={appointment.id}"
    return f"/staff/patients/{appointment.patient_id}?done=moved"


async def confirm(request: Request) -> Response:
    """Move the appointment to the time chosen; a time taken meanwhile (or when the patient
    is busy then) goes back to that day's times with a message (409)."""
    form = await form_of(request)
    appointment_id = path_id(request, "appointment_id")

    async def write(session: AsyncSession) -> Response:
        user = await signed_in(request, session, ROLES)
        access = Access(session, user)
        how = form.get("how", "")
        chosen, slot = read_how(how), read_slot(form.get("slot", ""))
        # The change is audited as such when one is tried; a form sent back is a read.
        action = "appointment.read" if chosen is None or slot is None else "appointment.reschedule"
        appointment = await access.appointment(appointment_id, action=action, lock=True)
        if chosen is None:
            return await _days(request, session, user, appointment, how)
        if slot is None:
            day = _day_of(form)
            if day is None:
                return await _days(request, session, user, appointment, how)
            errors = {"slot": "Select a time"}
            return await _times(
                request, session, user, appointment, how=how, day=day, errors=errors
            )
        (mode, site_id), (start, clinician_id) = chosen, slot
        try:
            async with session.begin_nested():
                placement = await place(
                    session,
                    service_id=appointment.service_id,
                    clinician_id=clinician_id,
                    mode=mode,
                    site_id=site_id,
                    start=start,
                )
                await booking.reschedule(
                    session, appointment=appointment, placement=placement, actor_user_id=user.id
                )
        except (Conflict, InvalidInput) as exc:
            await session.refresh(appointment)
            message = PATIENT_BUSY if isinstance(exc, PatientUnavailable) else TAKEN
            return await _times(
                request,
                session,
                user,
                appointment,
                how=how,
                day=slots.to_london(start).date(),
                errors={"slot": message},
                status_code=409,
            )
        return RedirectResponse(_after_move(form, appointment), status_code=303)

    return await run_in_transaction(request, write)


def _day_of(form: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(form.get("day", ""))
    except ValueError:
        return None


def routes() -> list[Route]:
    return [
        # `{appointment_id}`, not `{appointment_id:int}`: path_id gives a bad id the API's 422.
        Route(f"{BASE}/cancel", cancel_page, methods=["GET"]),
        Route(f"{BASE}/cancel", cancel, methods=["POST"]),
        Route(f"{BASE}/move", move_page, methods=["GET"]),
        Route(f"{BASE}/move/confirm", confirm, methods=["POST"]),
    ]
