"""Patients: created from booking details or found by NHS number, name and date of birth,
and their details changed (never silently: details sent for a patient we have either match
what is stored or are refused, with how to change them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Patient, Status
from scheduling.schemas import PatientIn, PatientQuery
from telehealth.kernel import audit
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import Conflict, InvalidInput, NotFound
from telehealth.kernel.partial import apply_partial, partial_of, plain

PatientPatch = partial_of(
    PatientIn,
    name="PatientPatch",
    doc="Any of a patient's details; those left out stay as they are, null clears one.",
)
# Compared as people write them: "ATKINSON" is the same name as "Atkinson".
_CASE_BLIND = ("given_name", "family_name", "email", "interpreter_language")


def _same_person(p: Patient, data: PatientIn) -> bool:
    return (
        p.date_of_birth == data.date_of_birth
        and p.family_name.casefold() == data.family_name.casefold()
    )


def _differences(p: Patient, data: PatientIn) -> list[str]:
    """The details sent (not those left to their defaults) that are not what is stored."""
    found = []
    for name in PatientIn.model_fields:
        if name not in data.model_fields_set:
            continue
        sent, stored = plain(getattr(data, name)), getattr(p, name)
        if name in _CASE_BLIND and isinstance(sent, str) and isinstance(stored, str):
            sent, stored = sent.casefold(), stored.casefold()
        if sent != stored:
            found.append(name)
    return found


class PatientExists(Conflict):
    code = "patient_exists"


class PatientMismatch(Conflict):
    code = "patient_mismatch"


def _refusal(p: Patient, data: PatientIn) -> Conflict | None:
    """Why details sent for the patient with this NHS number cannot simply be taken as theirs,
    or None when they are the details we have."""
    change = f"change their details with PATCH /api/v1/patients/{p.id}"
    if not _same_person(p, data):
        return PatientMismatch(
            f"this NHS number belongs to patient {p.id}, whose name or date of birth differ "
            f"from these, so nothing was changed: check the NHS number. If this is the same "
            f"person, {change}"
        )
    differences = _differences(p, data)
    if differences:
        return PatientExists(
            f"patient {p.id} already exists with this NHS number and a different "
            f"{', '.join(differences)}, so nothing was changed: to {change}"
        )
    return None


@dataclass(frozen=True, slots=True)
class Registered:
    patient: Patient
    created: bool


async def register(session: AsyncSession, data: PatientIn) -> Registered:
    """The patient with these details: the one we have under this NHS number if the details
    sent are theirs, else a new one. Different details for a known NHS number are refused
    (409), never dropped, nor used to attach a booking to someone else."""
    if data.nhs_number:
        existing = await _by_nhs_number(session, data.nhs_number)
        if existing is not None:
            return _found(existing, data)
    patient = Patient(
        given_name=data.given_name,
        family_name=data.family_name,
        date_of_birth=data.date_of_birth,
        nhs_number=data.nhs_number,
        email=data.email,
        mobile=data.mobile,
        postcode=data.postcode,
        contact_preference=data.contact_preference.value,
        interpreter_language=data.interpreter_language,
        access_needs=data.access_needs,
        accessible_information=data.accessible_information,
        companion=data.companion,
    )
    try:
        async with session.begin_nested():
            session.add(patient)
    except IntegrityError as exc:
        # Registered by a concurrent request since we looked: judged as if it had been first.
        existing = await _by_nhs_number(session, data.nhs_number) if data.nhs_number else None
        if existing is None:
            raise
        try:
            return _found(existing, data)
        except Conflict as refusal:
            raise refusal from exc
    return Registered(patient, created=True)


def _found(existing: Patient, data: PatientIn) -> Registered:
    refusal = _refusal(existing, data)
    if refusal is not None:
        raise refusal
    return Registered(existing, created=False)


async def _by_nhs_number(session: AsyncSession, nhs_number: str) -> Patient | None:
    return await session.scalar(select(Patient).where(Patient.nhs_number == nhs_number))


async def find_or_create(session: AsyncSession, data: PatientIn) -> Patient:
    return (await register(session, data)).patient


async def update_patient(
    session: AsyncSession,
    patient_id: int,
    changes: Mapping[str, Any],
    *,
    actor_user_id: int | None,
) -> Patient:
    """Change the details sent, validated as a new patient's are. The audit row names the
    fields changed, not their values: contact details and needs stay out of the trail. A new
    postcode requeues the travel records of the appointments still to come (`_rehome`)."""
    patient = await get_patient(session, patient_id)
    current = {name: getattr(patient, name) for name in PatientIn.model_fields}
    change = apply_partial(PatientIn, current, changes)
    if not change.changed:
        return patient
    try:
        async with session.begin_nested():
            for name, (_, after) in change.changed.items():
                setattr(patient, name, after)
    except IntegrityError as exc:
        holder = await _by_nhs_number(session, change.validated.nhs_number or "")
        if holder is None or holder.id == patient_id:
            raise
        raise PatientExists(
            f"NHS number {holder.nhs_number} belongs to patient {holder.id}: nothing was changed"
        ) from exc
    if "postcode" in change.changed:
        await _rehome(session, patient.id)
    await audit.record(
        session,
        actor_user_id=actor_user_id,
        action="patient.update",
        entity_type="patient",
        entity_id=patient.id,
        detail={"fields": list(change.changed)},
    )
    return patient


async def _rehome(session: AsyncSession, patient_id: int) -> None:
    """Queue the travel records of the patient's appointments still to come (booked, not yet
    started), in this transaction, so the worker recomputes them from the new home: their
    trip and home community. Those already seen keep the home they were seen from.

    The domain does not know the travel tables: every update of an appointment row queues its
    record (the database's trigger, migration 0006, `Appointment`'s docstring), so each row
    is touched with an update that changes nothing (`updated_at` set to itself; `sequence`
    untouched, so no message is sent: migration 0007)."""
    await session.execute(
        update(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status == Status.BOOKED.value,
            Appointment.starts_at > utcnow(),
        )
        .values(updated_at=Appointment.updated_at)
        .execution_options(synchronize_session=False)
    )


async def get_patient(session: AsyncSession, patient_id: int) -> Patient:
    found = await session.get(Patient, patient_id)
    if found is None:
        raise NotFound(f"no patient with id {patient_id}")
    return found


async def search_patients(
    session: AsyncSession, query: PatientQuery, *, among: ColumnElement[bool] | None = None
) -> list[Patient]:
    """Patients matching an NHS number, or a family name with a date of birth: never a family
    name alone, which would list strangers. `among` keeps those the caller may see."""
    if not query.nhs_number:
        missing = [f for f in ("family_name", "date_of_birth") if not getattr(query, f)]
        if missing:
            message = "give nhs_number, or family_name and date_of_birth"
            raise InvalidInput(
                f"{', '.join(missing)}: {message}", fields=dict.fromkeys(missing, message)
            )
    statement = select(Patient).order_by(Patient.family_name, Patient.given_name).limit(query.limit)
    if among is not None:
        statement = statement.where(among)
    if query.nhs_number:
        statement = statement.where(Patient.nhs_number == query.nhs_number)
    if query.family_name:
        statement = statement.where(func.lower(Patient.family_name) == query.family_name.lower())
    if query.date_of_birth:
        statement = statement.where(Patient.date_of_birth == query.date_of_birth)
    return list(await session.scalars(statement))
