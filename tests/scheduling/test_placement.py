"""The booking check's one look-up of service, clinician, patient and the clinician's clinic
that day: the same answers, and the same 422s naming the field, as asking for each."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import slots
from scheduling.models import Leave
from scheduling.placement import _parties
from scheduling.slot_inputs import clinic_day_from, service_rules
from telehealth.kernel.errors import InvalidInput
from tests.builders import make_clinic, make_patient, next_weekday
from tests.scheduling.test_slot_inputs import load_clinic_day

MISSING = 987_654


@pytest.mark.parametrize("with_patient", [True, False])
async def test_all_come_together(session: AsyncSession, with_patient: bool) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    found = await _parties(
        session,
        clinic.service.id,
        clinic.clinician.id,
        patient.id if with_patient else None,
        next_weekday(1),
    )
    assert found.service.id == clinic.service.id
    assert service_rules(found.service) == service_rules(clinic.service)
    assert found.patient_id == (patient.id if with_patient else None)


@pytest.mark.parametrize("with_leave", [False, True])
@pytest.mark.parametrize("weekday", [1, 2])  # the clinic's day, and a day without one
async def test_the_clinic_day_comes_along(
    session: AsyncSession, weekday: int, with_leave: bool
) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    day = next_weekday(weekday)
    if with_leave:
        session.add(
            Leave(
                clinician_id=clinic.clinician.id,
                starts_at=slots.london_datetime(day, time(10)),
                ends_at=slots.london_datetime(day, time(11)),
            )
        )
        await session.flush()
    found = await _parties(session, clinic.service.id, clinic.clinician.id, patient.id, day)
    service_id, clinician_id = clinic.service.id, clinic.clinician.id
    joined = await clinic_day_from(
        session, found.clinic_day, service_id=service_id, clinician_id=clinician_id, day=day
    )
    alone = await load_clinic_day(
        session, service_id=service_id, clinician_id=clinician_id, day=day
    )
    assert joined == alone
    assert len(joined.sessions) == (weekday == 1)
    assert bool(joined.leave[clinic.clinician.id]) == (with_leave and weekday == 1)


async def test_a_missing_patient_is_left_to_its_own_look_up(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    found = await _parties(
        session, clinic.service.id, clinic.clinician.id, MISSING, next_weekday(1)
    )
    assert (found.service.id, found.patient_id) == (clinic.service.id, None)


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
            next_weekday(1),
        )
    assert list(raised.value.fields) == [field]
