from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic
from starlette.responses import Response

from scheduling import booking, listing, patients, slots
from scheduling.access import Access
from scheduling.directory import require_service
from scheduling.endpoints import router
from scheduling.models import Mode, Patient
from scheduling.placement import ClinicDays, place
from scheduling.schemas import (
    AppointmentList,
    AppointmentOut,
    AppointmentQuery,
    BookingIn,
    CancelIn,
    PatientIn,
    PatientOut,
    PatientQuery,
    RescheduleIn,
    SlotList,
    SlotQuery,
)
from scheduling.slot_inputs import load_availability, service_rules
from telehealth.kernel import audit
from telehealth.kernel.api import ALL_STAFF, PATIENT_FACING, Context
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.timefmt import LONDON
from telehealth.kernel.validation import validation_fields


@router.operation(
    "GET",
    "/slots",
    summary="Search free slots",
    roles=ALL_STAFF,
    tag="appointments",
    query=SlotQuery,
    response=SlotList,
)
async def search_slots(ctx: Context, query: SlotQuery) -> dict[str, object]:
    service = await require_service(ctx.session, query.service_id)
    found = slots.expand_slots(
        await load_availability(
            ctx.session,
            service_id=service.id,
            start_date=query.start,
            end_date=query.end,
            clinician_id=query.clinician_id,
        ),
        service_rules(service),
        start_date=query.start,
        end_date=query.end,
        now=utcnow(),
        mode=query.mode,
        site_id=query.site_id,
        clinician_id=query.clinician_id,
    )
    # Plain dicts, not pydantic objects: a month of a busy service is thousands of slots, and
    # each instant is offered by several clinicians and hubs, so format each one once.
    formatted: dict[datetime, str] = {}

    def iso(instant: datetime) -> str:
        text = formatted.get(instant)
        if text is None:
            text = formatted[instant] = slots.to_london(instant).isoformat()
        return text

    return {
        "service_id": service.id,
        "timezone": LONDON.key,
        "slots": [
            {
                "start": iso(s.start),
                "end": iso(s.end),
                "clinician_id": s.clinician_id,
                "mode": s.mode,
                "site_id": s.site_id,
            }
            for s in found
        ],
    }


async def _patient_for(ctx: Context, access: Access, patient: int | dict[str, object]) -> Patient:
    if isinstance(patient, int):
        return await access.patient(patient, action=None, field="patient")
    try:
        details = PatientIn.model_validate(patient)
    except pydantic.ValidationError as exc:
        fields = validation_fields(exc, prefix="patient.")
        raise InvalidInput(
            "; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields
        ) from None
    return await patients.find_or_create(ctx.session, details)


def _clinic_days(ctx: Context) -> ClinicDays | None:
    """The process's cache of clinic days (set by `create_app`; live on PostgreSQL only)."""
    return getattr(ctx.request.app.state, "clinic_days", None)


# Modes booked without a room: their booking writes nothing but the appointment's INSERT.
_ROOMLESS = frozenset(m.value for m in Mode if m != Mode.VIDEO_SITE)


def _books_with_one_write(body: Any) -> bool:
    """Whether `book` writes with its one INSERT alone (which audits the booking in the same
    statement on PostgreSQL): for a patient given by id, in a mode that takes no room. A new
    patient is another write; a hub's room is chosen under a transaction's lock, in savepoints.
    Exact values only: anything the body's parsing would have to coerce takes a transaction."""
    return (
        isinstance(body, dict)
        and type(body.get("patient")) is int
        and body.get("mode") in _ROOMLESS
    )


@router.operation(
    "POST",
    "/appointments",
    summary="Book an appointment",
    roles=PATIENT_FACING,
    tag="appointments",
    body=BookingIn,
    response=AppointmentOut,
    status=201,
    idempotent=True,
    errors=(409,),
    single_write=_books_with_one_write,  # keep it true to what `book` writes
)
async def book(ctx: Context, body: BookingIn) -> AppointmentOut:
    access = Access(ctx.session, ctx.user)
    # The patient is looked up once: along with the placement's service and clinician when
    # the caller may book for anyone, else by `access`, which decides whether they may.
    wanted = body.patient if access.sees_everyone and isinstance(body.patient, int) else None
    placement = await place(
        ctx.session,
        service_id=body.service_id,
        clinician_id=body.clinician_id,
        mode=body.mode,
        site_id=body.site_id,
        start=body.start,
        patient_id=wanted,
        clinic_days=_clinic_days(ctx),
    )
    await access.may_book(
        clinician_id=placement.clinician_id,
        service_id=placement.service_id,
        mode=placement.mode,
        site_id=placement.site_id,
    )
    patient_id = placement.patient_id
    if patient_id is None:  # not asked for with the placement, or not found (a 404 here)
        patient_id = (await _patient_for(ctx, access, body.patient)).id
    appointment = await booking.book(
        ctx.session, placement=placement, patient_id=patient_id, booked_by=ctx.user.id
    )  # audited by `book` itself, in the same statement where it can
    # From the row's mapping, not the row: `start` and `end` (aliases of starts_at, ends_at)
    # are missing attributes of a Row, each an exception raised and caught.
    return AppointmentOut.model_validate(dict(appointment._mapping))


@router.operation(
    "GET",
    "/appointments",
    summary="List appointments",
    roles=PATIENT_FACING,
    tag="appointments",
    query=AppointmentQuery,
    response=AppointmentList,
)
async def list_appointments(ctx: Context, query: AppointmentQuery) -> AppointmentList:
    rows = await listing.appointments(Access(ctx.session, ctx.user), query)
    return AppointmentList(
        items=[AppointmentOut.model_validate(a) for a in rows],
        limit=query.limit,
        offset=query.offset,
    )


@router.operation(
    "GET",
    "/appointments/{appointment_id}",
    summary="Read an appointment",
    roles=PATIENT_FACING,
    tag="appointments",
    response=AppointmentOut,
    errors=(404,),
)
async def get_appointment(ctx: Context) -> AppointmentOut:
    appointment = await Access(ctx.session, ctx.user).appointment(
        ctx.path_int("appointment_id"), action="appointment.read"
    )
    return AppointmentOut.model_validate(appointment)


@router.operation(
    "POST",
    "/appointments/{appointment_id}/reschedule",
    summary="Reschedule an appointment",
    roles=PATIENT_FACING,
    tag="appointments",
    body=RescheduleIn,
    response=AppointmentOut,
    idempotent=True,
    errors=(404, 409),
)
async def reschedule(ctx: Context, body: RescheduleIn) -> AppointmentOut:
    access = Access(ctx.session, ctx.user)
    appointment = await access.appointment(
        ctx.path_int("appointment_id"), action="appointment.reschedule", lock=True
    )
    mode = body.mode or appointment.mode
    site_id = body.site_id if body.site_id is not None or body.mode else appointment.site_id
    placement = await place(
        ctx.session,
        service_id=appointment.service_id,
        clinician_id=body.clinician_id or appointment.clinician_id,
        mode=mode,
        site_id=site_id,
        start=body.start,
        clinic_days=_clinic_days(ctx),
    )
    await access.may_book(
        clinician_id=placement.clinician_id,
        service_id=placement.service_id,
        mode=placement.mode,
        site_id=placement.site_id,
    )
    await booking.reschedule(
        ctx.session, appointment=appointment, placement=placement, actor_user_id=ctx.user.id
    )
    return AppointmentOut.model_validate(appointment)


@router.operation(
    "POST",
    "/appointments/{appointment_id}/cancel",
    summary="Cancel an appointment",
    roles=PATIENT_FACING,
    tag="appointments",
    body=CancelIn,
    response=AppointmentOut,
    idempotent=True,
    errors=(404, 409),
)
async def cancel(ctx: Context, body: CancelIn) -> AppointmentOut:
    appointment = await Access(ctx.session, ctx.user).appointment(
        ctx.path_int("appointment_id"), action="appointment.cancel", lock=True
    )
    await booking.cancel(
        ctx.session, appointment=appointment, reason=body.reason, actor_user_id=ctx.user.id
    )
    return AppointmentOut.model_validate(appointment)


@router.operation(
    "POST",
    "/patients",
    summary="Register a patient",
    roles=PATIENT_FACING,
    tag="patients",
    body=PatientIn,
    response=PatientOut,
    status=201,
    also=(200,),
    errors=(409,),
)
async def create_patient(ctx: Context, body: PatientIn) -> PatientOut | Response:
    """201 with a new patient; 200 with the patient we have when the NHS number is known and
    the details sent are theirs; 409 when they differ (change them with PATCH)."""
    registered = await patients.register(ctx.session, body)
    await audit.record(
        ctx.session,
        actor_user_id=ctx.user.id,
        action="patient.create" if registered.created else "patient.read",
        entity_type="patient",
        entity_id=registered.patient.id,
    )
    out = PatientOut.model_validate(registered.patient)
    if registered.created:
        return out
    return Response(out.model_dump_json(), status_code=200, media_type="application/json")


@router.operation(
    "GET",
    "/patients",
    summary="Find patients",
    roles=PATIENT_FACING,
    tag="patients",
    query=PatientQuery,
    response=list[PatientOut],
)
async def search_patients(ctx: Context, query: PatientQuery) -> list[PatientOut]:
    access = Access(ctx.session, ctx.user)
    found = await patients.search_patients(ctx.session, query, among=await access.patients_where())
    await access.audit("patient.search", "patient", None, {"ids": [p.id for p in found]})
    return [PatientOut.model_validate(p) for p in found]


@router.operation(
    "GET",
    "/patients/{patient_id}",
    summary="Read a patient",
    roles=PATIENT_FACING,
    tag="patients",
    response=PatientOut,
    errors=(404,),
)
async def get_patient(ctx: Context) -> PatientOut:
    patient = await Access(ctx.session, ctx.user).patient(
        ctx.path_int("patient_id"), action="patient.read"
    )
    return PatientOut.model_validate(patient)
