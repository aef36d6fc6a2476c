"""Builders for the manage and lookup pages' tests: a patient's appointment with its manage
link, and a form's CSRF token read from the page as a browser would."""

from __future__ import annotations

import re
from datetime import date, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Patient
from telehealth.kernel.config import Settings
from telehealth.messaging.patient_links import manage_token
from tests.builders import Clinic, make_appointment, make_clinic, make_patient, tuesday_at

SERVICE_PHONE = "0113 496 0101"
HUB_PHONE = "0113 496 0102"
DIRECTIONS = "Use the side entrance; the video rooms are past reception."


async def make_managed_clinic(session: AsyncSession) -> Clinic:
    """make_clinic with names, a phone and directions a patient page shows."""
    c = await make_clinic(session)
    c.service.name, c.service.phone = "Diabetes review", SERVICE_PHONE
    c.hub.name, c.hub.address = "Morecambe video hub", "Thornton Road, Morecambe"
    c.hub.directions, c.hub.phone = DIRECTIONS, HUB_PHONE
    c.hospital.name = "Royal Lancaster Infirmary"
    await session.flush()
    return c


async def make_patient_with(
    session: AsyncSession,
    *,
    born: date = date(1960, 5, 17),
    postcode: str = "LA4 5RJ",
    email: str | None = "mary@example.com",
    mobile: str | None = None,
    preference: str = "email",
) -> Patient:
    p = await make_patient(session)
    p.date_of_birth, p.postcode = born, postcode
    p.email, p.mobile, p.contact_preference = email, mobile, preference
    await session.flush()
    return p


async def make_managed(
    session: AsyncSession,
    clinic: Clinic,
    *,
    start: datetime | None = None,
    mode: str = "video_home",
    patient: Patient | None = None,
    status: str = "booked",
) -> Appointment:
    return await make_appointment(
        session,
        clinic,
        start=start or tuesday_at(9),
        mode=mode,
        patient=patient or await make_patient_with(session),
        status=status,
    )


def manage_path(settings: Settings, appointment_id: int, *, issued_on: date | None = None) -> str:
    return f"/manage/{manage_token(settings, appointment_id, issued_on=issued_on or date.today())}"


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token of the form on the page at `path` (the client keeps the cookie)."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)
