"""One appointment's travel record as it can be read: the trip it replaced, the trip made,
what was avoided, and how it was worked out (method, confidence, factor set), so that anyone
asking "where did this number come from" for one appointment can follow it by hand.

    GET /api/v1/appointments/{appointment_id}/travel   (`record_endpoints`)

Who may read which record: staff who see patients read the records of the appointments
`scheduling.access` lets them see (the same 404 as the appointment itself otherwise);
analysts read any appointment's record, as they read the report, and the answer carries
nothing about the patient (no name, NHS number, date of birth or postcode). Every read is
audited as `appointment.travel`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.access import Access, Viewer
from scheduling.models import Appointment, Service, Site
from telehealth.kernel.api import PATIENT_FACING
from telehealth.kernel.auth.models import Role
from telehealth.kernel.errors import NotFound
from telehealth.travel.maths import KM_PER_MILE
from telehealth.travel.models import AppointmentTravel, TravelFactors

READERS = (*PATIENT_FACING, Role.ANALYST)
_MILES = Decimal("0.01")


class TravelTrip(BaseModel):
    """A round trip: to a site and back (no site: nobody travelled)."""

    site_id: int | None
    site_name: str | None
    km: Decimal
    miles: Decimal
    minutes: Decimal


class TravelAvoided(BaseModel):
    """The baseline trip less the actual one: negative when the trip made was the longer."""

    km: Decimal
    miles: Decimal
    minutes: Decimal
    co2e_kg: Decimal
    cost_gbp: Decimal


class TravelFactorSet(BaseModel):
    """The dated factor set the record was computed with (read from its row as it is)."""

    model_config = ConfigDict(from_attributes=True)

    version: str
    valid_from: date
    co2e_kg_per_km: Decimal
    co2e_source: str
    cost_per_mile: Decimal
    cost_source: str
    average_speed_kmh: Decimal
    default_circuity: Decimal
    site_circuity: dict[str, Decimal]


class TravelRecordOut(BaseModel):
    appointment_id: int
    reference: str
    date: date
    mode: str
    seen_by_telephone: bool
    baseline: TravelTrip
    actual: TravelTrip
    avoided: TravelAvoided
    method: str
    confidence: str
    note: str | None
    factors: TravelFactorSet
    computed_at: datetime


def _miles(km: Decimal) -> Decimal:
    return (km / KM_PER_MILE).quantize(_MILES)


async def _trip(
    session: AsyncSession, site_id: int | None, km: Decimal, minutes: Decimal
) -> TravelTrip:
    site = await session.get(Site, site_id) if site_id is not None else None
    return TravelTrip(
        site_id=site_id,
        site_name=site.name if site else None,
        km=km,
        miles=_miles(km),
        minutes=minutes,
    )


async def view_of(session: AsyncSession, appointment: Appointment) -> TravelRecordOut | None:
    """The record of an appointment the caller has already reached through `Access`; None
    while the worker has not yet computed it."""
    row = await session.get(AppointmentTravel, appointment.id)
    if row is None:
        return None
    service = await session.get(Service, appointment.service_id)
    factors = await session.get(TravelFactors, row.factor_version)
    assert service is not None and factors is not None  # foreign keys
    telephone = appointment.medium == "telephone"
    # Where the patient went: the hub or hospital booked, unless seen at home or by phone.
    went_to = None if telephone or row.mode == "video_home" else row.site_id
    return TravelRecordOut(
        appointment_id=appointment.id,
        reference=appointment.reference,
        date=row.local_date,
        mode=row.mode,
        seen_by_telephone=telephone,
        baseline=await _trip(session, service.usual_site_id, row.baseline_km, row.baseline_minutes),
        actual=await _trip(session, went_to, row.actual_km, row.actual_minutes),
        avoided=TravelAvoided(
            km=row.avoided_km,
            miles=row.avoided_miles,
            minutes=row.avoided_minutes,
            co2e_kg=row.avoided_co2e_kg,
            cost_gbp=row.avoided_cost_gbp,
        ),
        method=row.method,
        confidence=row.confidence,
        note=row.note,
        factors=TravelFactorSet.model_validate(factors),
        computed_at=row.computed_at,
    )


async def reach(session: AsyncSession, viewer: Viewer, appointment_id: int) -> Appointment:
    """The appointment whose record `viewer` asks for, the read audited. An analyst sees no
    appointment through `Access` (no identities), but may read any travel figures: the audit
    then names the appointment and not its patient."""
    access = Access(session, viewer)
    if viewer.role != Role.ANALYST:
        return await access.appointment(appointment_id, action="appointment.travel")
    found = await session.get(Appointment, appointment_id)
    if found is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    await access.audit("appointment.travel", "appointment", found.id)
    return found
