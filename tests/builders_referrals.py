"""Builders for referrals (to be folded into tests/builders.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient, Service
from scheduling.referral_models import Referral
from telehealth.kernel.identifiers import new_reference
from tests.builders import make_patient, make_service


async def make_referral(
    session: AsyncSession,
    *,
    patient: Patient | None = None,
    service: Service | None = None,
    priority: str = "routine",
    see_by: date | None = None,
    status: str = "open",
    invited_at: datetime | None = None,
    help_requested_at: datetime | None = None,
    help_reason: str | None = None,
) -> Referral:
    """An open referral written straight to the table (the service is tested on its own)."""
    patient = patient or await make_patient(session)
    service = service or await make_service(session)
    row = Referral(
        reference=new_reference(),
        patient_id=patient.id,
        service_id=service.id,
        priority=priority,
        see_by=see_by or date.today() + timedelta(days=60),
        status=status,
        notes="Palpitations on exertion",
        video_suitable=True,
        invited_at=invited_at,
        help_requested_at=help_requested_at,
        help_reason=help_reason,
        source="navigator",
    )
    session.add(row)
    await session.flush()
    return row
