"""Referrals for tests, written straight to the table (the referral service and the booking
journey are tested on their own)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient, Service
from scheduling.referral_models import Referral
from telehealth.kernel.identifiers import new_reference
from tests.builders import Clinic, make_clinic, make_patient


async def make_referral(
    session: AsyncSession,
    *,
    clinic: Clinic | None = None,
    service: Service | None = None,
    patient: Patient | None = None,
    priority: str = "routine",
    see_by: date | None = None,
    status: str = "open",
    video_suitable: bool = True,
    invited_at: datetime | None = None,
    help_requested_at: datetime | None = None,
    help_reason: str | None = None,
) -> Referral:
    """A referral of `patient` (a new one) to `service`, else the clinic's (a new clinic's)."""
    if service is None:
        service = (clinic or await make_clinic(session)).service
    patient = patient or await make_patient(session)
    row = Referral(
        reference=new_reference(),
        patient_id=patient.id,
        service_id=service.id,
        priority=priority,
        see_by=see_by or date.today() + timedelta(days=42),
        status=status,
        notes="Palpitations on exertion",
        video_suitable=video_suitable,
        invited_at=invited_at,
        help_requested_at=help_requested_at,
        help_reason=help_reason,
        source="navigator",
    )
    session.add(row)
    await session.flush()
    return row
