"""The travel-avoided report: one set of figures, aggregated in the database, served as JSON,
CSV and a page, so every form agrees to the penny.

Which appointments count: travel avoided is counted for attended (fulfilled) appointments,
telephone consultations included. Booked appointments still to come (open, starting after
`now`) are a forecast, reported apart (`forecast`), never added to the avoided figures.
Did-not-attend, cancelled and entered-in-error appointments count nothing, and neither does
a past appointment still open (no outcome recorded yet).

Two communities: `by_icc` is the place of the appointment (the ICC of the hub or hospital it
was at, or for video from home the service's usual site); `by_home_icc` the patient's home
community (the ICC of their postcode district, home_communities.py).

Figures are exact (the columns' own scale; hours are minutes / 60 to 0.001): each total is
the sum of its rows. Rounding for people to read is the page's alone.

The figures come from `appointment_travel` alone, which carries copies of each appointment's
dimensions (status, start, service, site, ICCs...) kept in step by the worker. On PostgreSQL
all the breakdowns of both parts are one scan (GROUPING SETS, each set led by the part);
SQLite, which lacks them, runs one GROUP BY each.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Select, case, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import (
    OPEN_STATUSES,
    Appointment,
    Clinician,
    Organisation,
    Service,
    Site,
    Status,
)
from scheduling.slots import local_day_bounds
from telehealth.kernel.db import utcnow
from telehealth.travel.codepoint import ATTRIBUTION
from telehealth.travel.models import AppointmentTravel, TravelFactors, TravelQueue

Basis = Literal["attended", "forecast"]
BASES: tuple[Basis, ...] = ("attended", "forecast")
MEASURES = ("appointments", "avoided_km", "avoided_miles", "avoided_minutes", "avoided_hours",
            "avoided_co2e_kg", "avoided_cost_gbp")  # fmt: skip
_KM, _MINUTES, _KG = Decimal("0.01"), Decimal("0.1"), Decimal("0.001")
T = AppointmentTravel
# The part each record counts in (attended or forecast), NULL for one that counts nothing.
PART = "part"
BREAKDOWNS: dict[str, tuple[Any, ...]] = {
    "headline": (),
    "by_mode": (T.mode,),
    "by_month": (T.local_month,),
    "by_icc": (T.icc,),
    "by_home_icc": (T.home_icc,),
    "quality": (T.method, T.confidence, T.factor_version),
}
ROWS = ("by_mode", "by_month", "by_icc", "by_home_icc")
# Said in the JSON itself, so a figure read from it is not taken for the other community.
DEFINITIONS = {
    "headline": "travel avoided by attended appointments (telephone consultations included)",
    "forecast": "what booked appointments still to come would avoid, if attended as booked; "
    "not in the avoided figures",
    "by_icc": "Integrated Care Community of the place of appointment (the site seen at, or "
    "for video from home the service's usual site)",
    "by_home_icc": "Integrated Care Community of the patient's home (their postcode district)",
}


@dataclass(frozen=True, slots=True)
class ReportQuery:
    start: date
    end: date
    organisation_id: int | None = None
    icc: str | None = None
    site_id: int | None = None
    service_id: int | None = None
    clinician_id: int | None = None
    mode: str | None = None


def _part(now: datetime) -> Any:
    """Which part a record counts in: attended, forecast (open and still to come), or none."""
    return case(
        (T.status == Status.FULFILLED, literal("attended")),
        (T.status.in_(sorted(OPEN_STATUSES)) & (T.starts_at > now), literal("forecast")),
        else_=None,
    ).label(PART)


def _where(statement: Select[Any], q: ReportQuery, now: datetime) -> Select[Any]:
    statement = statement.where(T.local_date >= q.start, T.local_date <= q.end)
    statement = statement.where(_part(now).is_not(None))
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


def in_part(statement: Select[Any], q: ReportQuery, basis: Basis, now: datetime) -> Select[Any]:
    """`statement` narrowed to the report's records of one part, as its figures count them:
    what a row-level export or the map adds up to the report's own totals."""
    return _where(statement, q, now).where(_part(now) == basis)


def _measures(source: Any) -> list[Any]:
    return [
        func.count().label("appointments"),
        *(func.coalesce(func.sum(source.c[m]), 0).label(m) for m in _SUMMED[1:]),
    ]


_SUMMED = ("appointments", "avoided_km", "avoided_miles", "avoided_minutes", "avoided_co2e_kg",
           "avoided_cost_gbp")  # fmt: skip


def _figures(row: Any) -> dict[str, Any]:
    return {
        # A grouping set over no rows sums to NULL: that is zero here.
        "appointments": int(row.appointments or 0),
        "avoided_km": Decimal(row.avoided_km or 0).quantize(_KM),
        "avoided_miles": Decimal(row.avoided_miles or 0).quantize(_KM),
        "avoided_minutes": Decimal(row.avoided_minutes or 0).quantize(_MINUTES),
        # Derived, not summed: the exact figure is the minutes.
        "avoided_hours": (Decimal(row.avoided_minutes or 0) / 60).quantize(_KG),
        "avoided_co2e_kg": Decimal(row.avoided_co2e_kg or 0).quantize(_KG),
        "avoided_cost_gbp": Decimal(row.avoided_cost_gbp or 0).quantize(_KM),
    }


def _records(q: ReportQuery, now: datetime) -> Any:
    """The records that count, each with its part and the breakdowns' keys and measures."""
    keys = [c for columns in BREAKDOWNS.values() for c in columns]
    summed = [getattr(T, m) for m in _SUMMED[1:]]
    return _where(select(_part(now), *keys, *summed), q, now).subquery("counted")


async def _breakdowns(session: AsyncSession, q: ReportQuery, now: datetime) -> dict[str, list[Any]]:
    counted = _records(q, now)
    part = counted.c[PART]
    keys = [counted.c[c.key] for columns in BREAKDOWNS.values() for c in columns]
    if session.get_bind().dialect.name == "postgresql":
        # Two levels: one parallel hash aggregate of the rows to the finest grouping (a few
        # thousand groups for a year), then the grouping sets over that, each led by the
        # part. One pass over the year's rows, instead of one per breakdown and part.
        fine = select(part, *keys, *_measures(counted)).group_by(part, *keys).cte("fine")
        fine_keys = [fine.c[c.key] for c in keys]
        sets = [tuple_(fine.c[PART], *(fine.c[c.key] for c in cs)) for cs in BREAKDOWNS.values()]
        statement = select(
            func.grouping(*fine_keys).label("sets"),
            fine.c[PART],
            *fine_keys,
            *(func.sum(fine.c[m]).label(m) for m in _SUMMED),
        ).group_by(func.grouping_sets(*sets))
        found: dict[str, list[Any]] = {name: [] for name in BREAKDOWNS}
        for row in await session.execute(statement):
            found[_which(row.sets, len(keys))].append(row)
        return found
    found = {}
    for name, columns in BREAKDOWNS.items():
        grouped = [part, *(counted.c[c.key] for c in columns)]
        statement = select(*grouped, *_measures(counted)).group_by(*grouped)
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
    # A record made before home communities were kept has none until the worker redoes it.
    found = [{"key": getattr(row, column.key) or "Unknown", **_figures(row)} for row in rows]
    return sorted(found, key=lambda r: str(r["key"]))


def months(start: date, end: date) -> list[str]:
    """Every calendar month the range touches, as `local_month` writes them ("2030-06")."""
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _every_month(rows: list[dict[str, Any]], q: ReportQuery) -> list[dict[str, Any]]:
    """A row for every month of the range, zero where nothing counted, so a month with no
    appointments reads as none rather than as missing data."""
    found = {row["key"]: row for row in rows}
    every = months(q.start, q.end)
    # A row outside the range cannot be (a record's month is of its date), but were one there
    # it is kept, so the rows still add up to the headline.
    stray = [row for row in rows if row["key"] not in every]
    return [found.get(m) or {"key": m, **_figures(_EMPTY)} for m in every] + stray


def _part_of(groups: dict[str, list[Any]], basis: Basis, q: ReportQuery) -> dict[str, Any]:
    """One part's headline and breakdowns, from the rows of every part."""
    mine = {name: [r for r in rows if getattr(r, PART) == basis] for name, rows in groups.items()}
    headline = _figures(mine["headline"][0]) if mine["headline"] else _figures(_EMPTY)
    rows = {name: _keyed(mine[name], BREAKDOWNS[name][0]) for name in ROWS}
    return {
        "basis": basis,
        "headline": headline,
        **rows,
        "by_month": _every_month(rows["by_month"], q),
        "quality": mine["quality"],
    }


async def travel_report(
    session: AsyncSession, q: ReportQuery, *, now: datetime | None = None
) -> dict[str, Any]:
    """Travel avoided by attended appointments, and apart from it (`forecast`) what the
    booked appointments still to come after `now` (default: this moment) would avoid."""
    groups = await _breakdowns(session, q, now or utcnow())
    attended, forecast = (_part_of(groups, basis, q) for basis in BASES)
    quality = sorted(
        (
            {"method": r.method, "confidence": r.confidence, "factor_version": r.factor_version,
             "appointments": int(r.appointments)}
            for r in attended.pop("quality")
        ),
        key=lambda r: (r["factor_version"], r["method"], r["confidence"]),
    )  # fmt: skip
    forecast.pop("quality")
    total = attended["headline"]["appointments"]
    estimated = sum(r["appointments"] for r in quality if r["method"] != "osrm")
    versions = sorted({r["factor_version"] for r in quality})
    factors = list(
        await session.scalars(select(TravelFactors).where(TravelFactors.version.in_(versions)))
    )
    return {
        "query": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(q).items()},
        **attended,
        "forecast": forecast,
        "definitions": DEFINITIONS,
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


def measure_names(basis: Basis) -> tuple[str, ...]:
    """A CSV's figure columns: a forecast's are named `forecast_*` (what would be avoided),
    so a saved forecast file is never read as travel avoided."""
    if basis == "attended":
        return MEASURES
    return tuple(m.replace("avoided_", "forecast_") for m in MEASURES)


def csv_text(report: dict[str, Any], by: str, basis: Basis = "attended") -> str:
    """One breakdown of one part of a travel report as CSV: what the API's `travel.csv`
    returns. The values are the JSON's, exact; each row says its `basis`. A part with no
    appointments is a header alone, for every `by` (as the records' CSV is): no zero row, not
    even a month's, stands for a selection with nothing in it."""
    part = report if basis == "attended" else report["forecast"]
    rows = [{"key": "all", **part["headline"]}] if by == "headline" else part[f"by_{by}"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["basis", by, *measure_names(basis)])
    if not part["headline"]["appointments"]:
        return out.getvalue()
    for row in rows:
        writer.writerow([basis, row["key"], *(row[m] for m in MEASURES)])
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
