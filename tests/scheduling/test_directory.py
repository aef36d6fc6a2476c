"""Directory look-ups the booking path relies on."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.directory import require_service_and_clinician
from telehealth.errors import InvalidInput
from tests.builders import make_clinic

MISSING = 987_654


async def test_service_and_clinician_come_together(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    service, clinician = await require_service_and_clinician(
        session, clinic.service.id, clinic.clinician.id
    )
    assert (service.id, clinician.id) == (clinic.service.id, clinic.clinician.id)


@pytest.mark.parametrize(
    ("service_missing", "clinician_missing", "inactive", "field"),
    [
        (True, False, None, "service_id"),
        (False, True, None, "clinician_id"),
        (True, True, None, "service_id"),  # the service is named first, as before
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
    if inactive == "service":
        clinic.service.active = False
    if inactive == "clinician":
        clinic.clinician.active = False
    await session.flush()
    with pytest.raises(InvalidInput) as raised:
        await require_service_and_clinician(
            session,
            MISSING if service_missing else clinic.service.id,
            MISSING if clinician_missing else clinic.clinician.id,
        )
    assert list(raised.value.fields) == [field]
