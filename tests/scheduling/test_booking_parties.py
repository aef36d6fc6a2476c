"""The booking check's one look-up of service, clinician and patient: the same answers, and
the same 422s naming the field, as asking for each."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.booking import _parties
from telehealth.errors import InvalidInput
from tests.builders import make_clinic, make_patient

MISSING = 987_654


@pytest.mark.parametrize("with_patient", [True, False])
async def test_all_come_together(session: AsyncSession, with_patient: bool) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    service, clinician, found = await _parties(
        session, clinic.service.id, clinic.clinician.id, patient.id if with_patient else None
    )
    assert (service.id, clinician.id) == (clinic.service.id, clinic.clinician.id)
    assert found is (patient if with_patient else None)


async def test_a_missing_patient_is_left_to_its_own_look_up(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    service, clinician, patient = await _parties(
        session, clinic.service.id, clinic.clinician.id, MISSING
    )
    assert (service, clinician, patient) == (clinic.service, clinic.clinician, None)


@pytest.mark.parametrize(
    ("service_missing", "clinician_missing", "inactive", "field"),
    [
        (True, False, None, "service_id"),
        (False, True, None, "clinician_id"),
        (True, True, None, "service_id"),  # the service is named first
        (False, False, "service", "service_id"),
        (False, False, "clinician", "clinician_id"),
    ],
)
async def test_a_missing_or_inactive_one_is_named(
    session: AsyncSession,
    service_missing: bool,
    clinician_missing: bool,
    inactive: str | None,
    field: str,
) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    if inactive == "service":
        clinic.service.active = False
    if inactive == "clinician":
        clinic.clinician.active = False
    await session.flush()
    with pytest.raises(InvalidInput) as raised:
        await _parties(
            session,
            MISSING if service_missing else clinic.service.id,
            MISSING if clinician_missing else clinic.clinician.id,
            patient.id,
        )
    assert list(raised.value.fields) == [field]
