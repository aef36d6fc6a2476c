"""Patients: created from booking details or found by NHS number, name and date of birth."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient
from scheduling.schemas import PatientIn, PatientOut, PatientQuery
from telehealth.errors import Conflict, InvalidInput, NotFound


def patient_out(p: Patient) -> PatientOut:
    return PatientOut(
        id=p.id,
        given_name=p.given_name,
        family_name=p.family_name,
        date_of_birth=p.date_of_birth,
        nhs_number=p.nhs_number,
        email=p.email,
        mobile=p.mobile,
        postcode=p.postcode,
        contact_preference=p.contact_preference,
        interpreter_language=p.interpreter_language,
        access_needs=p.access_needs,
    )


def _same_person(p: Patient, data: PatientIn) -> bool:
    return (
        p.date_of_birth == data.date_of_birth
        and p.family_name.casefold() == data.family_name.casefold()
    )


async def find_or_create(session: AsyncSession, data: PatientIn) -> Patient:
    """A patient with this NHS number is the same person only if the demographics agree;
    otherwise the request is refused rather than attaching a booking to someone else."""
    if data.nhs_number:
        existing = await session.scalar(
            select(Patient).where(Patient.nhs_number == data.nhs_number)
        )
        if existing is not None:
            if not _same_person(existing, data):
                raise Conflict(
                    "this NHS number belongs to a patient with a different name or date of birth",
                    code="patient_mismatch",
                )
            return existing
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
    )
    try:
        async with session.begin_nested():
            session.add(patient)
    except IntegrityError as exc:
        raise Conflict(
            "a patient with this NHS number was just created", code="patient_exists"
        ) from exc
    return patient


async def require_patient(
    session: AsyncSession, patient_id: int, *, field: str = "patient"
) -> Patient:
    found = await session.get(Patient, patient_id)
    if found is None:
        raise InvalidInput.field(field, f"no patient with id {patient_id}")
    return found


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
