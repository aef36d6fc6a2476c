"""The travel-avoided report: one set of figures, aggregated in the database, served as JSON,
CSV and a page, so every form agrees to the penny.

Which appointments count: `booked` = every appointment not cancelled or entered in error;
`attended` = fulfilled only. The ICC of an appointment is that of the site involved: the hub
or hospital it was at, or for video from home the service's usual site.

The figures come from `appointment_travel` alone, which carries copies of each appointment's
dimensions (status, service, site, ICC...) kept in step by the worker. On PostgreSQL all the
breakdowns are one scan (GROUPING SETS); SQLite, which lacks them, runs one GROUP BY each.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Clinician, Organisation, Service, Site, Status, is_active
from scheduling.slots import local_day_bounds
from telehealth.travel.codepoint import ATTRIBUTION
from telehealth.travel.models import AppointmentTravel, TravelFactors, TravelQueue

Basis = Literal["booked", "attended"]
MEASURES = ("appointments", "avoided_km", "avoided_miles", "avoided_hours", "avoided_co2e_kg",
            "avoided_cost_gbp")  # fmt: skip
_KM, _HOURS, _KG = Decimal("0.01"), Decimal("0.1"), Decimal("0.001")
T = AppointmentTravel
BREAKDOWNS: dict[str, tuple[Any, ...]] = {
    "headline": (),
    "by_mode": (T.mode,),
    "by_month": (T.local_month,),
    "by_icc": (T.icc,),
    "quality": (T.method, T.confidence, T.factor_version),
}


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


def _where(statement: Select[Any], q: ReportQuery) -> Select[Any]:
    statement = statement.where(T.local_date >= q.start, T.local_date <= q.end)
    if q.basis == "attended":
        statement = statement.where(T.status == Status.FULFILLED)
    else:
        statement = statement.where(is_active(T.status))
    filters: dict[Any, Any] = {
        T.organisation_id: q.organisation_id,
        T.icc: q.icc,
        T.site_id: q.site_id,
        T.service_id: q.service_id,
        T.clinician_id: q.clinician_id,
        T.mode: q.mode,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(column == value)
    return statement


def _measures() -> list[Any]:
    return [
        func.count().label("appointments"),
        func.coalesce(func.sum(T.avoided_km), 0).label("avoided_km"),
        func.coalesce(func.sum(T.avoided_miles), 0).label("avoided_miles"),
        func.coalesce(func.sum(T.avoided_minutes), 0).label("avoided_minutes"),
        func.coalesce(func.sum(T.avoided_co2e_kg), 0).label("avoided_co2e_kg"),
        func.coalesce(func.sum(T.avoided_cost_gbp), 0).label("avoided_cost_gbp"),
    ]


_SUMMED = ("appointments", "avoided_km", "avoided_miles", "avoided_minutes", "avoided_co2e_kg",
           "avoided_cost_gbp")  # fmt: skip


def _figures(row: Any) -> dict[str, Any]:
    return {
        # A grouping set over no rows sums to NULL: that is zero here.
        "appointments": int(row.appointments or 0),
        "avoided_km": Decimal(row.avoided_km or 0).quantize(_KM),
        "avoided_miles": Decimal(row.avoided_miles or 0).quantize(_KM),
        "avoided_hours": (Decimal(row.avoided_minutes or 0) / 60).quantize(_HOURS),
        "avoided_co2e_kg": Decimal(row.avoided_co2e_kg or 0).quantize(_KG),
        "avoided_cost_gbp": Decimal(row.avoided_cost_gbp or 0).quantize(_KM),
    }


async def _breakdowns(session: AsyncSession, q: ReportQuery) -> dict[str, list[Any]]:
    keys = [c for columns in BREAKDOWNS.values() for c in columns]
    if session.get_bind().dialect.name == "postgresql":
        # Two levels: one parallel hash aggregate of the rows to the finest grouping (a few
        # thousand groups for a year), then the grouping sets over that. One pass over the
        # year's rows, instead of one per breakdown.
        fine = _where(select(*keys, *_measures()), q).group_by(*keys).cte("fine")
        fine_keys = {c.key: fine.c[c.key] for c in keys}
        sets = [tuple_(*(fine_keys[c.key] for c in cs)) for cs in BREAKDOWNS.values()]
        statement = select(
            func.grouping(*fine_keys.values()).label("sets"),
            *fine_keys.values(),
            *(func.sum(fine.c[m]).label(m) for m in _SUMMED),
        ).group_by(func.grouping_sets(*sets))
        rows = list(await session.execute(statement))
        found: dict[str, list[Any]] = {name: [] for name in BREAKDOWNS}
        for row in rows:
            found[_which(row.sets, len(keys))].append(row)
        return found
    found = {}
    for name, columns in BREAKDOWNS.items():
        statement = _where(select(*columns, *_measures()), q)
        if columns:
            statement = statement.group_by(*columns)
        found[name] = list(await session.execute(statement))
    return found


def _which(bits: int, width: int) -> str:
    """GROUPING() over every key column: a 0 bit marks a column the row is grouped by."""
    grouped = {i for i in range(width) if not bits & (1 << (width - 1 - i))}
    position = 0
    for name, columns in BREAKDOWNS.items():
        if grouped == set(range(position, position + len(columns))):
            return name
        position += len(columns)
    raise ValueError(f"unexpected grouping {bits:b}")


def _keyed(rows: list[Any], column: Any) -> list[dict[str, Any]]:
    found = [{"key": getattr(row, column.key), **_figures(row)} for row in rows]
    return sorted(found, key=lambda r: str(r["key"]))


async def travel_report(session: AsyncSession, q: ReportQuery) -> dict[str, Any]:
    groups = await _breakdowns(session, q)
    headline = _figures(groups["headline"][0]) if groups["headline"] else _figures(_EMPTY)
    quality = sorted(
        (
            {"method": r.method, "confidence": r.confidence, "factor_version": r.factor_version,
             "appointments": int(r.appointments)}
            for r in groups["quality"]
        ),
        key=lambda r: (r["factor_version"], r["method"], r["confidence"]),
    )  # fmt: skip
    total = headline["appointments"]
    estimated = sum(r["appointments"] for r in quality if r["method"] != "osrm")
    versions = sorted({r["factor_version"] for r in quality})
    factors = list(
        await session.scalars(select(TravelFactors).where(TravelFactors.version.in_(versions)))
    )
    return {
        "query": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(q).items()},
        "headline": headline,
        "by_mode": _keyed(groups["by_mode"], T.mode),
        "by_month": _keyed(groups["by_month"], T.local_month),
        "by_icc": _keyed(groups["by_icc"], T.icc),
        "methodology": {
            "quality": quality,
            "estimated_share": round(estimated / total, 4) if total else 0,
            "no_estimate": sum(r["appointments"] for r in quality if r["method"] == "none"),
            "factor_sets": [_factors(f) for f in factors],
            "pending": await _pending(session, q),
            "attribution": ATTRIBUTION,
        },
    }


class _Empty:
    appointments = avoided_km = avoided_miles = avoided_minutes = 0
    avoided_co2e_kg = avoided_cost_gbp = 0


_EMPTY = _Empty()


def _factors(f: TravelFactors) -> dict[str, str]:
    return {
        "version": f.version, "valid_from": f.valid_from.isoformat(),
        "co2e_kg_per_km": str(f.co2e_kg_per_km), "co2e_source": f.co2e_source,
        "cost_per_mile": str(f.cost_per_mile), "cost_source": f.cost_source,
        "average_speed_kmh": str(f.average_speed_kmh), "default_circuity": str(f.default_circuity),
    }  # fmt: skip


async def _pending(session: AsyncSession, q: ReportQuery) -> int:
    """Appointments in the range whose record waits for the worker (normally none: it
    catches up within seconds); the report says how many so a figure is never silently old."""
    start = local_day_bounds(q.start).start
    end = local_day_bounds(q.end + timedelta(days=1)).start
    count = await session.scalar(
        select(func.count())
        .select_from(TravelQueue)
        .join(Appointment, Appointment.id == TravelQueue.appointment_id)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
    )
    return int(count or 0)


def csv_text(report: dict[str, Any], by: str) -> str:
    """One breakdown of a travel report as CSV: what the API's `travel.csv` returns."""
    rows = [{"key": "all", **report["headline"]}] if by == "headline" else report[f"by_{by}"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([by, *MEASURES])
    for row in rows:
        writer.writerow([row["key"], *(row[m] for m in MEASURES)])
    return out.getvalue()


async def filter_choices(session: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """What the report can be narrowed to, as (value, label) pairs for each filter but mode."""

    async def named(model: Any) -> list[tuple[str, str]]:
        found = await session.execute(select(model.id, model.name).order_by(model.name))
        return [(str(i), name) for i, name in found]

    iccs = await session.scalars(
        select(Site.icc).where(Site.icc.is_not(None)).distinct().order_by(Site.icc)
    )
    return {
        "organisation_id": await named(Organisation),
        "icc": [(str(v), str(v)) for v in iccs],
        "site_id": await named(Site),
        "service_id": await named(Service),
        "clinician_id": await named(Clinician),
    }
