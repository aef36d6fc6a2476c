"""Builders for the patient's booking journey: a referral ready to book, and its links."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient
from scheduling.referral_models import Referral
from telehealth.kernel.config import Settings
from telehealth.kernel.identifiers import new_reference
from telehealth.messaging import patient_links
from telehealth.travel import postcodes
from tests.builders import Clinic, make_clinic, make_patient, make_session

# Real Code-Point Open positions (tests/telehealth/travel/test_records.py uses the same).
HOSPITAL = ("LA1 4RP", 347761, 461046)  # Royal Lancaster Infirmary
HUB = ("LA4 5RJ", 343600, 464400)  # Morecambe
HOME = ("LA14 1HA", 319800, 469400)  # Barrow-in-Furness


async def make_referral(
    session: AsyncSession,
    *,
    clinic: Clinic | None = None,
    patient: Patient | None = None,
    video_suitable: bool = True,
    status: str = "open",
    see_by: date | None = None,
) -> Referral:
    """An open referral of `patient` (a new one) to the clinic's service (a new clinic)."""
    clinic = clinic or await make_clinic(session)
    patient = patient or await make_patient(session)
    row = Referral(
        reference=new_reference(),
        patient_id=patient.id,
        service_id=clinic.service.id,
        see_by=see_by or date.today() + timedelta(days=42),
        video_suitable=video_suitable,
        status=status,
    )
    session.add(row)
    await session.flush()
    return row


async def with_travel(session: AsyncSession, clinic: Clinic, patient: Patient) -> None:
    """Positions for the clinic's hospital, its hub and the patient's home (in Barrow), so
    the journey can say what each way of being seen means in travel."""
    await postcodes.store(
        session, [(p, 10, e, n) for p, e, n in (HOSPITAL, HUB, HOME)], source="test"
    )
    clinic.hospital.postcode, clinic.hub.postcode = HOSPITAL[0], HUB[0]
    patient.postcode = HOME[0]
    await session.flush()


async def add_thursdays(session: AsyncSession, clinic: Clinic) -> None:
    """A second weekly session (Thursdays 2pm to 3pm), so the clinic has two days a week."""
    await make_session(
        session,
        clinician=clinic.clinician,
        services=[clinic.service],
        weekday=3,
        start=time(14),
        end=time(15),
        valid_from=date.today() - timedelta(days=1),
        site=clinic.hospital,
        hubs=[clinic.hub],
    )


def booking_path(settings: Settings, referral: Referral, *, issued_on: date | None = None) -> str:
    token = patient_links.booking_token(settings, referral.id, issued_on=issued_on or date.today())
    return f"/book/{token}"


def manage_path(settings: Settings, appointment_id: int) -> str:
    token = patient_links.manage_token(settings, appointment_id, issued_on=date.today())
    return f"/manage/{token}"
