"""Builders for the navigator's patient pages (to be folded into tests/builders.py): a booked
appointment in a ready clinic, leave over it, the audit trail, a navigator signed in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Leave, Patient
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.auth.models import StaffUser
from tests.builders import (
    Clinic,
    book_via_service,
    make_clinic,
    make_patient,
    make_user,
    tuesday_at,
)
from tests.telehealth.video.test_clinic_pages import sign_in


@dataclass
class Booked:
    clinic: Clinic
    patient: Patient
    appointment: Appointment


async def make_booked(
    session: AsyncSession,
    *,
    start: datetime | None = None,
    mode: str = "video_home",
    nhs_number: str | None = "9434765919",
    family_name: str = "Atkinson",
    clinic: Clinic | None = None,
) -> Booked:
    """A patient booked (as the service books) into a ready clinic."""
    clinic = clinic or await make_clinic(session)
    patient = await make_patient(session, nhs_number=nhs_number, family_name=family_name)
    appointment = await book_via_service(
        session, clinic, start or tuesday_at(9), patient_id=patient.id, mode=mode
    )
    return Booked(clinic, patient, appointment)


async def make_leave(session: AsyncSession, clinic: Clinic, start: datetime, hours: int) -> Leave:
    row = Leave(
        clinician_id=clinic.clinician.id,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        reason="Annual leave",
    )
    session.add(row)
    await session.flush()
    return row


async def audited(session: AsyncSession, user: StaffUser, action: str) -> list[AuditEvent]:
    """The audit rows this user's requests wrote with `action`, oldest first."""
    return list(
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.actor_user_id == user.id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )


async def signed_in_as(
    client: httpx.AsyncClient, session: AsyncSession, role: str = "navigator"
) -> tuple[StaffUser, str]:
    """A member of staff in `role`, signed in: them and the session's CSRF token."""
    user, _ = await make_user(session, role=role)
    return user, await sign_in(client, user.email)


def radio_values(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" type="radio" value="([^"]*)"', page)
