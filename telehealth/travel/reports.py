"""The travel-avoided report: one set of figures, aggregated in the database, served as JSON,
CSV and (later) a page, so every form agrees to the penny.

Which appointments count: `booked` = every appointment not cancelled or entered in error;
`attended` = fulfilled only. The ICC of an appointment is that of the site involved: the hub
or hospital it was at, or for video from home the service's usual site.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from scheduling.models import Appointment, Service, Site
from scheduling.slots import local_day_bounds
from telehealth.travel.codepoint import ATTRIBUTION
from telehealth.travel.models import AppointmentTravel, TravelFactors

Basis = Literal["booked", "attended"]
MEASURES = ("appointments", "avoided_km", "avoided_miles", "avoided_hours", "avoided_co2e_kg",
            "avoided_cost_gbp")  # fmt: skip
_KM, _HOURS = Decimal("0.01"), Decimal("0.1")


@dataclass(frozen=True, slots=True)
class ReportQuery:
    start: date
    end: date
    basis: Basis = "booked"
    organisation_id: int | None = None
    icc: str | None = None
    site_id: int | None = None
    service_id: int | None = None
    clinician_id: int | None = None
    mode: str | None = None


_usual = aliased(Site)
_at = aliased(Site)
ICC = func.coalesce(_at.icc, _usual.icc, "Unknown")


def _base(q: ReportQuery, *columns: Any) -> Select[Any]:
    statement = (
        select(*columns)
        .select_from(AppointmentTravel)
        .join(Appointment, Appointment.id == AppointmentTravel.appointment_id)
        .join(Service, Service.id == Appointment.service_id)
        .join(_usual, _usual.id == Service.usual_site_id)
        .outerjoin(_at, _at.id == Appointment.site_id)
        .where(AppointmentTravel.local_date >= q.start, AppointmentTravel.local_date <= q.end)
    )
    if q.basis == "attended":
        statement = statement.where(Appointment.status == "fulfilled")
    else:
        statement = statement.where(Appointment.status.not_in(("cancelled", "entered-in-error")))
    filters: dict[Any, Any] = {
        Service.organisation_id: q.organisation_id,
        Appointment.site_id: q.site_id,
        Appointment.service_id: q.service_id,
        Appointment.clinician_id: q.clinician_id,
        Appointment.mode: q.mode,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    if q.icc is not None:
        statement = statement.where(ICC == q.icc)  # noqa: SIM300 (a SQL expression)
    return statement


def _measures() -> list[Any]:
    t = AppointmentTravel
    return [
        func.count().label("appointments"),
        func.coalesce(func.sum(t.avoided_km), 0).label("avoided_km"),
        func.coalesce(func.sum(t.avoided_miles), 0).label("avoided_miles"),
        func.coalesce(func.sum(t.avoided_minutes), 0).label("avoided_minutes"),
        func.coalesce(func.sum(t.avoided_co2e_kg), 0).label("avoided_co2e_kg"),
        func.coalesce(func.sum(t.avoided_cost_gbp), 0).label("avoided_cost_gbp"),
    ]


def _figures(row: Any) -> dict[str, Any]:
    return {
        "appointments": int(row.appointments),
        "avoided_km": Decimal(row.avoided_km).quantize(_KM),
        "avoided_miles": Decimal(row.avoided_miles).quantize(_KM),
        "avoided_hours": (Decimal(row.avoided_minutes) / 60).quantize(_HOURS),
        "avoided_co2e_kg": Decimal(row.avoided_co2e_kg).quantize(Decimal("0.001")),
        "avoided_cost_gbp": Decimal(row.avoided_cost_gbp).quantize(_KM),
    }


async def _grouped(session: AsyncSession, q: ReportQuery, key: Any) -> list[dict[str, Any]]:
    rows = await session.execute(
        _base(q, key.label("key"), *_measures()).group_by(key).order_by(key)
    )
    return [{"key": row.key, **_figures(row)} for row in rows]


async def travel_report(session: AsyncSession, q: ReportQuery) -> dict[str, Any]:
    headline = (await session.execute(_base(q, *_measures()))).one()
    t = AppointmentTravel
    quality = await session.execute(
        _base(q, t.method, t.confidence, t.factor_version, func.count().label("n"))
        .group_by(t.method, t.confidence, t.factor_version)
        .order_by(t.factor_version, t.method, t.confidence)
    )
    quality_rows = [
        {"method": r.method, "confidence": r.confidence, "factor_version": r.factor_version,
         "appointments": int(r.n)}
        for r in quality
    ]  # fmt: skip
    total = int(headline.appointments)
    estimated = sum(r["appointments"] for r in quality_rows if r["method"] != "osrm")
    versions = sorted({r["factor_version"] for r in quality_rows})
    factors = list(
        await session.scalars(select(TravelFactors).where(TravelFactors.version.in_(versions)))
    )
    return {
        "query": _query_dict(q),
        "headline": _figures(headline),
        "by_mode": await _grouped(session, q, Appointment.mode),
        "by_month": await _grouped(session, q, AppointmentTravel.local_month),
        "by_icc": await _grouped(session, q, ICC),
        "methodology": {
            "quality": quality_rows,
            "estimated_share": round(estimated / total, 4) if total else 0,
            "no_estimate": sum(r["appointments"] for r in quality_rows if r["method"] == "none"),
            "factor_sets": [
                {
                    "version": f.version,
                    "valid_from": f.valid_from.isoformat(),
                    "co2e_kg_per_km": str(f.co2e_kg_per_km),
                    "co2e_source": f.co2e_source,
                    "cost_per_mile": str(f.cost_per_mile),
                    "cost_source": f.cost_source,
                    "average_speed_kmh": str(f.average_speed_kmh),
                    "default_circuity": str(f.default_circuity),
                }
                for f in factors
            ],
            "pending": await _pending(session, q),
            "attribution": ATTRIBUTION,
        },
    }


async def _pending(session: AsyncSession, q: ReportQuery) -> int:
    """Appointments in the range whose record is missing or older than their last change:
    the worker catches up within seconds; the report says how many it is waiting for."""
    window = (Appointment.starts_at >= _local_start(q.start)) & (
        Appointment.starts_at < _local_start(q.end, 1)
    )
    count = await session.scalar(
        select(func.count())
        .select_from(Appointment)
        .outerjoin(AppointmentTravel, AppointmentTravel.appointment_id == Appointment.id)
        .where(window)
        .where(
            AppointmentTravel.appointment_id.is_(None)
            | (AppointmentTravel.computed_at < Appointment.updated_at)
        )
    )
    return int(count or 0)


def _local_start(day: date, plus_days: int = 0) -> datetime:
    return local_day_bounds(day + timedelta(days=plus_days)).start


def _query_dict(q: ReportQuery) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(q).items()}
