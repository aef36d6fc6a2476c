"""What a travel record is computed from, read for any number of appointments at once.

One joined query for the appointments (with the patient's home postcode and the service),
then the few rows of the small tables they need (their sites' points, the factor sets, the
analyst's matrix rows for their districts). The worker reads one appointment through it and
`travel recompute` a thousand at a time, so both compute from the same facts, and a year's
recompute costs five statements per thousand records instead of ten per record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Patient, Service, Site
from scheduling.slots import to_london
from telehealth.travel.estimators import district
from telehealth.travel.home_communities import home_icc
from telehealth.travel.maths import FactorSet, Point, TravelRecord
from telehealth.travel.models import Postcode, RoadMatrix, TravelFactors

Matrix = dict[tuple[str, int], tuple[Decimal, Decimal]]


@dataclass(frozen=True, slots=True)
class Destination:
    site_id: int
    point: Point | None  # None: the site's postcode is not in the Code-Point data


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything a record's figures are computed from, so that the estimate (perhaps a
    routing engine over the network) runs with no transaction open. Two reads compare equal
    when nothing the figures depend on changed in between."""

    mode: str  # as booked
    medium: str | None
    factors: FactorSet
    postcode: str | None
    home: Point | None
    matrix: Matrix  # the analyst's rows for the home's district
    usual_site: Destination | None  # None when there is no home to travel from
    hub: Destination | None  # the hub of a video_site appointment


@dataclass(frozen=True, slots=True)
class Facts:
    """An appointment's inputs, and the report dimensions its record copies."""

    inputs: Inputs
    dimensions: dict[str, object]


_APPOINTMENTS = (
    select(
        Appointment.id,
        Appointment.mode,
        Appointment.medium,
        Appointment.status,
        Appointment.starts_at,
        Appointment.site_id,
        Appointment.service_id,
        Appointment.clinician_id,
        Patient.postcode,
        Postcode.easting,
        Postcode.northing,
        Service.organisation_id,
        Service.usual_site_id,
    )
    .join(Patient, Patient.id == Appointment.patient_id)
    .join(Service, Service.id == Appointment.service_id)
    .outerjoin(Postcode, Postcode.postcode == Patient.postcode)
)


async def read(
    session: AsyncSession,
    where: ColumnElement[bool],
    *,
    limit: int | None = None,
    lock: bool = False,
) -> dict[int, Facts]:
    """The facts of the appointments `where` selects, by id in id order. With `lock`, their
    appointment and patient rows are held FOR SHARE (PostgreSQL) until the transaction ends,
    so what is written from these facts cannot be overtaken by a change committed meanwhile."""
    statement = _APPOINTMENTS.where(where).order_by(Appointment.id).limit(limit)
    if lock:
        statement = statement.with_for_update(read=True, of=[Appointment, Patient])
    rows = (await session.execute(statement)).all()
    if not rows:
        return {}
    sites = await _sites(session, {r.usual_site_id for r in rows} | {r.site_id for r in rows})
    factors = await _factor_sets(session)
    districts = {district(r.postcode) for r in rows if r.postcode and r.easting is not None}
    matrix = await _matrix(session, districts)
    return {r.id: _facts(r, sites, factors, matrix) for r in rows}


@dataclass(frozen=True, slots=True)
class _Site:
    point: Point | None
    icc: str | None


async def _sites(session: AsyncSession, ids: set[int | None]) -> dict[int, _Site]:
    rows = await session.execute(
        select(Site.id, Site.icc, Postcode.easting, Postcode.northing)
        .outerjoin(Postcode, Postcode.postcode == Site.postcode)
        .where(Site.id.in_([i for i in ids if i is not None]))
    )
    return {i: _Site(Point(e, n) if e is not None else None, icc) for i, icc, e, n in rows}


async def _factor_sets(session: AsyncSession) -> list[FactorSet]:
    """Every factor set, latest first (a handful of rows: one a year)."""
    found = await session.scalars(select(TravelFactors).order_by(TravelFactors.valid_from.desc()))
    return [row.as_factor_set() for row in found]


async def _matrix(session: AsyncSession, districts: set[str]) -> dict[str, Matrix]:
    by_district: dict[str, Matrix] = {d: {} for d in districts}
    if districts:
        rows = await session.execute(
            select(
                RoadMatrix.district,
                RoadMatrix.site_id,
                RoadMatrix.road_km,
                RoadMatrix.drive_minutes,
            ).where(RoadMatrix.district.in_(districts))
        )
        for d, s, km, minutes in rows:
            by_district[d][(d, s)] = (Decimal(km), Decimal(minutes))
    return by_district


def factors_in_force(sets: Iterable[FactorSet], day: date) -> FactorSet:
    """The set in force on `day`, from `sets` latest first."""
    for factors in sets:
        if factors.valid_from <= day:
            return factors
    raise LookupError(f"no travel factor set is in force on {day.isoformat()}")


def _facts(
    r: Row[*tuple[Any, ...]],
    sites: dict[int, _Site],
    factors: list[FactorSet],
    matrix: dict[str, Matrix],
) -> Facts:
    starts_at: datetime = r.starts_at
    day = to_london(starts_at).date()
    home = Point(r.easting, r.northing) if r.easting is not None else None
    rows: Matrix = {}
    usual = hub = None
    if r.postcode is not None and home is not None:
        rows = matrix[district(r.postcode)]
        usual = _destination(sites, r.usual_site_id)
        if r.mode == "video_site" and r.site_id is not None:
            hub = _destination(sites, r.site_id)
    inputs = Inputs(
        r.mode, r.medium, factors_in_force(factors, day), r.postcode, home, rows, usual, hub
    )
    at, usual_site = sites.get(r.site_id), sites.get(r.usual_site_id)
    dimensions = {
        "status": r.status,
        "organisation_id": r.organisation_id,
        "service_id": r.service_id,
        "clinician_id": r.clinician_id,
        "site_id": r.site_id,
        "icc": (at.icc if at else None) or (usual_site.icc if usual_site else None) or "Unknown",
        "home_icc": home_icc(r.postcode),
        "starts_at": starts_at,
        "mode": r.mode,
        "local_date": day,
        "local_month": day.strftime("%Y-%m"),
    }
    return Facts(inputs, dimensions)


def _destination(sites: dict[int, _Site], site_id: int) -> Destination:
    site = sites.get(site_id)
    return Destination(site_id, site.point if site else None)


def record_values(facts: Facts, record: TravelRecord, note: str | None) -> dict[str, object]:
    """The columns of an appointment's travel record (all but its key and `computed_at`)."""
    return {
        **facts.dimensions,
        "factor_version": record.factor_version,
        "baseline_km": record.baseline_km,
        "baseline_minutes": record.baseline_minutes,
        "actual_km": record.actual_km,
        "actual_minutes": record.actual_minutes,
        "avoided_km": record.avoided_km,
        "avoided_miles": record.avoided_miles,
        "avoided_minutes": record.avoided_minutes,
        "avoided_co2e_kg": record.avoided_co2e_kg,
        "avoided_cost_gbp": record.avoided_cost_gbp,
        "method": record.method,
        "confidence": record.confidence,
        "note": note,
    }
