"""A patient's reach through their link (`scheduling.access.LinkHolder`): a booking link
reaches the referral's patient and their own appointments, a manage link (or the lookup) one
appointment; anything else is not found, as if it did not exist. Audited with no staff actor,
the patient and the link kind in the detail."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.access import BOOKING_LINK, LOOKUP, MANAGE_LINK, Access, LinkHolder, through_link
from scheduling.models import Appointment, Patient
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.errors import NotFound
from tests.builders import Clinic, make_appointment, make_clinic, make_patient, tuesday_at


async def _two_patients(
    session: AsyncSession,
) -> tuple[Clinic, Patient, list[Appointment], Appointment]:
    """Mary with two appointments, and another patient's appointment in the same clinic."""
    clinic = await make_clinic(session)
    mary = await make_patient(session)
    hers = [
        await make_appointment(session, clinic, start=tuesday_at(9), patient=mary),
        await make_appointment(session, clinic, start=tuesday_at(10), patient=mary),
    ]
    theirs = await make_appointment(session, clinic, start=tuesday_at(11))
    return clinic, mary, hers, theirs


async def _visible(access: Access) -> set[int]:
    where = await access.appointments_where()
    return set(await access.session.scalars(select(Appointment.id).where(where)))


async def test_a_manage_link_reaches_its_one_appointment_and_its_patient_only(
    session: AsyncSession,
) -> None:
    _, mary, (first, second), theirs = await _two_patients(session)
    access = await through_link(session, kind=MANAGE_LINK, appointment_id=first.id)
    assert access is not None and access.actor_user_id is None
    assert (await access.appointment(first.id, action=None)).id == first.id
    # Her other appointment and another patient's, by id through this link: not found.
    for other in (second, theirs):
        with pytest.raises(NotFound):
            await access.appointment(other.id, action="patient.self.view")
    assert (await access.patient(mary.id, action=None)).id == mary.id
    with pytest.raises(NotFound):
        await access.patient(theirs.patient_id, action=None)
    assert await _visible(access) == {first.id}
    scope = await access.scope()
    assert scope.sees(first) and not scope.sees(second) and not scope.sees(theirs)
    assert not scope.runs(first) and not access.sees_everyone


async def test_a_booking_link_reaches_the_patients_own_appointments_and_no_one_elses(
    session: AsyncSession,
) -> None:
    _, mary, hers, theirs = await _two_patients(session)
    access = Access(session, LinkHolder(mary.id, BOOKING_LINK))
    assert await _visible(access) == {a.id for a in hers}
    with pytest.raises(NotFound):
        await access.appointment(theirs.id, action=None)
    with pytest.raises(NotFound):
        await access.patient(theirs.patient_id, action="patient.self.view")
    patients = await access.patients_where()
    assert list(await session.scalars(select(Patient.id).where(patients))) == [mary.id]


async def test_a_link_holder_is_audited_as_the_patient_with_the_link_kind(
    session: AsyncSession,
) -> None:
    _, mary, (first, _), _ = await _two_patients(session)
    access = await through_link(session, kind=LOOKUP, appointment_id=first.id)
    assert access is not None
    await access.appointment(first.id, action="patient.self.lookup")
    await access.audit("patient.self.view", "patient", mary.id, {"referral_id": 7})
    rows = list(
        await session.execute(
            select(AuditEvent.action, AuditEvent.actor_user_id, AuditEvent.detail)
            .where(AuditEvent.action.like("patient.self.%"))
            .order_by(AuditEvent.id)
        )
    )
    assert [tuple(r) for r in rows] == [
        ("patient.self.lookup", None, {"patient_id": mary.id, "link": "lookup"}),
        ("patient.self.view", None, {"referral_id": 7, "patient_id": mary.id, "link": "lookup"}),
    ]


async def test_a_link_to_no_appointment_gives_no_access(session: AsyncSession) -> None:
    assert await through_link(session, kind=MANAGE_LINK, appointment_id=987654) is None
