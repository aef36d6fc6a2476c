"""Builders for the patient's booking journey: a referral ready to book, and its links."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient
from scheduling.referral_models import Referral
from telehealth.kernel.config import Settings
from telehealth.messaging import patient_links
from telehealth.travel import postcodes
from tests.builders import Clinic, make_session

# Real Code-Point Open positions (tests/telehealth/travel/test_records.py uses the same).
HOSPITAL = ("LA1 4RP", 347761, 461046)  # Royal Lancaster Infirmary
HUB = ("LA12 7AA", 328686, 478225)  # Ulverston: on the patient's side of the Bay
HOME = ("LA14 1HA", 319800, 469400)  # Barrow-in-Furness


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
